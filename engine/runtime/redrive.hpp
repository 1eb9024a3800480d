// Redrive: a finished instance that failed, was cancelled, compensated, rejected or expired
// is reopened at a top-level step and runs on from there under the same id. What the history
// of its previous run says decides where it may reopen and what it keeps (see docs/api.md).
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "rmaflow/definition.hpp"
#include "rmaflow/store.hpp"

namespace rmaflow {

struct RedrivePlan {
  std::string step;  // where the instance reopens: a top-level step that is not an end
  // Foreach or parallel `step`: the branches that completed in its last run and were not undone,
  // by key, each {status, output} as it ended. They are kept; only the others run again.
  std::map<std::string, nlohmann::json> kept_branches;
  nlohmann::json previous_end;  // {status, step, ended_at}: for the audit record
};

// Where `row` (finished) reopens: `requested`, or when empty the step that failed (after a
// compensation: the first step it undid, since everything from there on was undone). Throws
// Error(refused) when the instance cannot be redriven or not at that step, Error(not_found)
// for a step its workflow version lacks.
RedrivePlan plan_redrive(const InstanceRow& row, const Definition& definition,
                         const std::vector<EventRow>& history, const std::string& requested);

}  // namespace rmaflow
