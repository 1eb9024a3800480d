// Which unfinished instances need a person: suspended ones (an incident), those waiting past
// their wait's deadline (no engine has fired it), and those past their workflow's SLA.
#pragma once

#include <string>
#include <vector>

#include "rmaflow/store.hpp"

namespace rmaflow::api {

struct StuckInstance {
  InstanceRow row;
  std::string reason;
};

// Scans the unfinished instances matching `filter` (its statuses are replaced), oldest first.
std::vector<StuckInstance> find_stuck(Store& store, InstanceFilter filter, TimePoint now);

}  // namespace rmaflow::api
