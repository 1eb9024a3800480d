// The console's overview of a database: how many instances there are by status and workflow,
// the stuck queue's size by reason and team, SLA breaches, and the last day's starts and
// endings hour by hour. GET /v1/overview answers it.
#pragma once

#include <nlohmann/json.hpp>

#include "rmaflow/store.hpp"

namespace rmaflow::api {

class DefinitionCache;

// As of `now`:
//   {"as_of", "by_status": {status: n}, "by_workflow": [{workflow, total, by_status}],
//    "stuck": {total, by_reason: [{kind, code, label, count}], by_team: [{team, count, past_sla}]},
//    "sla_breaches", "unfinished": [{workflow, version, step, status, count}],
//    "last_day": {since, started, ended: {status: n}, hours: [{from, started, ended: {status: n}}]}}
// The window is the 24 clock hours (UTC) up to and including the current one.
// Costs one pass over the instances' rows and one over the unfinished ones.
// Workflows' SLAs come from `definitions`.
nlohmann::json overview(Store& store, TimePoint now, DefinitionCache& definitions);

}  // namespace rmaflow::api
