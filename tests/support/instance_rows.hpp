// Reading an instance row in tests.
#pragma once

#include <nlohmann/json.hpp>

#include "engine/store/state_codec.hpp"
#include "rmaflow/store.hpp"

namespace rmaflow::testing {

// The first open incident of an instance (the main line's first) as JSON; null when none.
inline nlohmann::json incident_of(const InstanceRow& row) {
  auto open = row.incidents();
  if (open.empty()) return nullptr;
  auto j = store::incident_json(*open.front()->incident);
  if (!open.front()->branch.empty()) j["branch"] = open.front()->branch;
  return j;
}

}  // namespace rmaflow::testing
