// The outside world of a simulation: every adapter a workflow names answers from the
// scenario's script; a call made in a branch takes the outcomes scripted for that branch (by
// key or path, the most specific) when there are any. Like a real system it honours
// idempotency keys: a key that already succeeded gets the same answer again and no second
// effect.
//
// Thread-safety: none needed; the engine invokes adapters and runs host timers on its thread.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "rmaflow/simulation.hpp"

namespace rmaflow::simulation {

class ScriptedWorld {
 public:
  explicit ScriptedWorld(const Scenario& scenario) : scripts_(scenario.scripts) {}

  // The adapter to register under `name`; it answers through this world.
  std::shared_ptr<Adapter> adapter(const std::string& name);

  const std::vector<SimulatedCall>& calls() const { return calls_; }

 private:
  class NamedAdapter;
  void invoke(const std::string& adapter, const Invocation& call, AdapterHost& host,
              Completion done);
  // The next scripted answer for `action` called in `branch` (a branch path; empty: the main
  // line); nullptr when no outcome of its script answers that branch.
  const ScriptedOutcome* next(const std::string& action, const std::string& branch);

  struct Cursor {
    std::size_t index = 0;
    int used = 0;  // calls answered by the entry at `index`
  };
  std::map<std::string, std::vector<ScriptedOutcome>> scripts_;
  std::map<std::string, Cursor> cursors_;  // by action and outcome branch
  std::map<std::string, Outcome> succeeded_;  // idempotency key -> its answer
  std::vector<SimulatedCall> calls_;
};

}  // namespace rmaflow::simulation
