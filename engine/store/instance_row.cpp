// The accessors of InstanceRow (rmaflow/store.hpp).
#include "rmaflow/store.hpp"

namespace rmaflow {

const Cursor* InstanceRow::cursor(const std::string& branch) const {
  for (const auto& c : cursors)
    if (c.branch == branch) return &c;
  return nullptr;
}

std::vector<const Cursor*> InstanceRow::incidents() const {
  std::vector<const Cursor*> out;
  for (const auto& c : cursors)
    if (c.incident) out.push_back(&c);
  return out;
}

}  // namespace rmaflow
