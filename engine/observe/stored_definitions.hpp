// Workflow versions read from a store's definitions as a report meets them, each loaded once
// (loading compiles its jq programs). A stored version never changes, so a miss is kept too.
//
// Thread-safety: one thread (a report's).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>

#include "rmaflow/definition.hpp"
#include "rmaflow/store.hpp"

namespace rmaflow::observe {

class StoredDefinitions {
 public:
  explicit StoredDefinitions(Store& store) : store_(store) {}
  // Null when the store has no such version.
  std::shared_ptr<const Definition> get(const std::string& workflow, int version) {
    auto [it, inserted] = known_.try_emplace({workflow, version});
    if (inserted) {
      if (auto row = store_.get_definition(workflow, version)) {
        it->second = load_stored_definition(row->source, row->file, row->input_schema).definition;
      }
    }
    return it->second;
  }

 private:
  Store& store_;
  std::map<std::pair<std::string, int>, std::shared_ptr<const Definition>> known_;
};

}  // namespace rmaflow::observe
