// The instance rows of a committed batch by id: an event's instance is always among them (a
// transition writes its instance's row in the same commit).
#pragma once

#include <string_view>
#include <unordered_map>

#include "rmaflow/store.hpp"

namespace rmaflow::observe {

// Whether the engine keeps an instance of this status in memory (and so whether what is under
// way for it is worth remembering).
inline bool held_in_memory(InstanceStatus status) {
  return status == InstanceStatus::running || status == InstanceStatus::compensating;
}

class InstanceIndex {
 public:
  explicit InstanceIndex(const WriteBatch& batch) {
    rows_.reserve(batch.instances.size());
    for (const auto& row : batch.instances) rows_.emplace(row.id, &row);
  }
  // Null when the batch does not hold the instance's row.
  const InstanceRow* find(std::string_view id) const {
    auto it = rows_.find(id);
    return it == rows_.end() ? nullptr : it->second;
  }

 private:
  std::unordered_map<std::string_view, const InstanceRow*> rows_;
};

}  // namespace rmaflow::observe
