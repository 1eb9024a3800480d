// Which unfinished instances need a person: suspended ones (an incident), those waiting past
// their wait's deadline (no engine has fired it), and those past their workflow's SLA. An
// instance can be stuck for several of these reasons at once; every one is reported.
#pragma once

#include <string>
#include <vector>

#include "rmaflow/store.hpp"

namespace rmaflow::api {

struct StuckInstance {
  InstanceRow row;
  std::vector<std::string> reasons;  // one sentence each, in the order above
  TimePoint since;                   // when the earliest of them began
};

// Scans the unfinished instances matching `filter` (its statuses are replaced), oldest first.
// The SLA is read from each instance's stored version, wherever the caller runs.
std::vector<StuckInstance> find_stuck(Store& store, InstanceFilter filter, TimePoint now);

}  // namespace rmaflow::api
