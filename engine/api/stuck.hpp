// Which unfinished instances need a person: suspended ones (an incident), those waiting past
// their wait's deadline (no engine has fired it), and those past their workflow's SLA.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "rmaflow/store.hpp"

namespace rmaflow::api {

class DefinitionCache;

struct StuckInstance {
  InstanceRow row;
  std::vector<std::string> reasons;  // every reason it is stuck for, one sentence each
  std::string reason;    // them as one: "suspended: CustomerOnHold: customer C-107 is on credit hold"
  std::string kind;      // of the first reason: incident, compensation (an incident while
                         // compensating), deadline, sla
  std::string code;      // the incident's error code; empty for the other kinds
  std::string team;      // the team the incident is routed to, when it names one
  TimePoint since;       // when the earliest reason began: an incident opened, a deadline or
                         // the SLA passed
  bool past_sla = false; // whatever the reason, it has run longer than its workflow's SLA
  std::optional<TimePoint> team_due_at;  // when the routed incident's own SLA ends
  bool past_team_sla = false;            // its incident is open past the route's SLA
};

// Which of the stuck instances a query wants: all, or those with an incident routed to `team`
// (by the workflow's `incidents:` routes).
struct StuckFilter {
  std::string team;
};

// The instances matching `filter` (its statuses aside) that are stuck as of `now`, oldest
// first, at most filter.limit, after filter.after_id. Only stuck rows are read out of the
// database, however many instances wait normally. Workflows' SLAs come from `definitions` when
// given (a server's), else each version is loaded once per call.
std::vector<StuckInstance> find_stuck(Store& store, InstanceFilter filter, TimePoint now,
                                      DefinitionCache* definitions = nullptr,
                                      const StuckFilter& which = {});

// The stuck-queue fields of a list item: reasons, reason, reason_kind, reason_code, team,
// team_due_at, past_team_sla, stuck_since, past_sla.
void add_stuck_fields(nlohmann::json& item, const StuckInstance& stuck);

}  // namespace rmaflow::api
