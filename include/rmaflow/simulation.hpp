// Simulation: a workflow run by the real engine, on a real (temporary) SQLite database, in
// virtual time, against scripted adapter outcomes and signals. A month of waiting passes in
// milliseconds; what happened is read back from the instance's own history.
//
// A scenario file (YAML) says what the world does and, optionally, what must come of it:
//
//   scenario: the parcel arrives on day 3, inspection grades C
//   workflow: ../../standard-return.yaml    # relative to this file
//   start: 2026-03-02T09:00:00Z             # virtual start (default 2026-01-01T00:00:00Z)
//   until: 60d                              # simulate at most this long (default 365d)
//   input: { rma_id: RMA-1, ... }           # or input_file: rma.json
//   adapters:                               # outcomes per action, consumed in order; the
//     carrier.create_label:                 #   last one repeats; unscripted calls succeed
//       - { fail: Transient, times: 2 }     #   with {}
//       - { result: { label_id: L-1 }, latency: 2s }
//     wms.inspect_line:                     # `branch`: only that branch's calls, by key or
//       - { branch: L1, result: { grade: A } }   # path ("inspect_lines[L1]")
//       - { result: { grade: C } }          #   every other branch
//   signals:
//     - { at: 3d, name: warehouse.received, payload: { ... } }
//     - { at: 4d, name: warehouse.line_received, match: L2 }   # to the wait matching L2
//   expect:
//     status: completed
//     path: [authorize, issue_label, ...]    # main-line steps entered, in order; a fan-out step
//                                            #   may list its branches' paths by key:
//                                            #   - inspect_lines: { L1: [inspect, restocked] }
//     visited: [inspect]                     # among the steps entered (any branch)
//     not_visited: [expired]
//     effects: [erp.authorize_return, ...]   # successful calls in order (also {action, input})
//     compensated: [issue_label]             # compensations that completed, in order
//     context: { credit: { amount: 95.5 } }  # contained in the final context
//     branches: { L1: restocked, L2: { status: scrapped, output: { credit: true } } }
//     ended_after: 3d                        # virtual time from start to end
//
// Thread-safety: simulate() runs on the calling thread. Errors: Error(io) when the temporary
// database cannot be created; a workflow that fails is a result, not an error.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "rmaflow/adapter.hpp"
#include "rmaflow/definition.hpp"
#include "rmaflow/store.hpp"

namespace rmaflow {

// One scripted answer of an action.
struct ScriptedOutcome {
  // Answers only calls made in this branch: its key ("L1": any branch with that key, nested
  // ones included) or its path ("inspect_lines[L1]": that branch and those nested in it; a
  // value with `[` is a path). Empty: calls no outcome with a matching branch answers. Each
  // branch value keeps its own order of outcomes; the most specific match answers.
  std::string branch;
  std::optional<nlohmann::json> result;  // a success with this value (default {})
  std::string fail;                      // an error code: the call fails with it
  std::string message;
  std::optional<bool> retryable;         // default: Transient and Timeout are retryable
  int times = 1;                         // answers this many calls
  Duration latency{0};                   // virtual time before the answer
};

struct ScenarioSignal {
  Duration at{0};  // after the start
  // To a child instance (a call step's), by its workflow and business key; empty: to the
  // scenario's instance.
  std::string workflow;
  std::string business_key;
  std::string name;
  nlohmann::json match;  // reaches only a wait whose match is this value; null: none
  nlohmann::json payload;
  std::string key;  // idempotency key; default: one of its own
};

struct ExpectedEffect {
  std::string action;                   // adapter.operation
  std::optional<nlohmann::json> input;  // contained in the call's input, when given
};

// One entry of an expected path: a step entered and, for a fan-out step, the paths some of its
// branches take, by branch key (a foreach's key, a parallel branch's name) in file order.
struct ExpectedStep {
  std::string step;
  std::vector<std::pair<std::string, std::vector<ExpectedStep>>> branches;
};

// How a branch must end: `branch` is its key ("L1") or its path ("inspect_lines[L1]").
struct ExpectedBranch {
  std::string branch;
  std::string status;
  std::optional<nlohmann::json> output;  // contained in the branch's output, when given
};

struct Expectations {
  std::optional<InstanceStatus> status;
  std::optional<std::vector<ExpectedStep>> path;  // the main line
  std::vector<std::string> visited;
  std::vector<std::string> not_visited;
  std::optional<std::vector<ExpectedEffect>> effects;
  std::optional<std::vector<std::string>> compensated;
  std::optional<nlohmann::json> context;
  std::vector<ExpectedBranch> branches;
  std::optional<Duration> ended_after;
  bool any() const;
};

struct Scenario {
  std::string name;
  std::string file;
  std::string workflow_file;  // resolved against the scenario's directory; empty when not given
  TimePoint start;
  Duration until{0};
  nlohmann::json input = nlohmann::json::object();
  std::map<std::string, std::vector<ScriptedOutcome>> scripts;  // by action
  std::vector<ScenarioSignal> signals;                           // by time
  Expectations expect;
};

struct ScenarioLoad {
  std::optional<Scenario> scenario;     // absent when any error was found
  std::vector<Diagnostic> diagnostics;  // FILE:LINE:COL, like a workflow's
};

// Reads and checks a scenario file; never throws for bad input.
ScenarioLoad load_scenario(const std::string& path);

// One adapter call the workflow made, and how the script answered it.
struct SimulatedCall {
  TimePoint at;  // when it was made (virtual)
  std::string step;
  std::string branch;  // the branch path it was made in; empty: the main line
  std::string action;  // adapter.operation
  std::string idempotency_key;
  int attempt = 1;
  bool compensation = false;
  nlohmann::json input;
  Outcome outcome;
  bool scripted = true;  // false: no script for the action, answered {}
};

struct SimulationResult {
  InstanceRow row;  // as it ended (or stands at `until`)
  std::vector<EventRow> history;
  std::vector<SimulatedCall> calls;  // in the order made
  std::vector<std::string> notes;    // what the scenario did that the engine refused
  TimePoint start;
  std::chrono::nanoseconds wall{0};  // real time the simulation took

  // How one branch ended, from its branch_ended event.
  struct BranchEnd {
    std::string branch;  // its path: "inspect_lines[L1]"
    std::string status;
    nlohmann::json output;
  };

  // Steps entered, in order, by the main line (`branch` empty) or by one branch (its path).
  std::vector<std::string> path(const std::string& branch = "") const;
  std::vector<std::string> entered() const;      // steps entered anywhere, in order
  std::vector<BranchEnd> branch_ends() const;    // in the order they ended
  std::vector<std::string> compensated() const;  // compensations completed, in order
  std::vector<const SimulatedCall*> effects() const;  // successful calls, one per key
};

// Throws Error(invalid_input) when the scenario's input fails the workflow's input schema.
SimulationResult simulate(std::shared_ptr<const Definition> definition, const Scenario& scenario);

// An expectation that does not hold: what (status, path, ...) and a readable account, one line
// each (for lists, a diff: "  same", "- expected only", "+ actual only").
struct Mismatch {
  std::string what;
  std::vector<std::string> lines;
};
std::vector<Mismatch> check_expectations(const Expectations& expect,
                                         const SimulationResult& result);

}  // namespace rmaflow
