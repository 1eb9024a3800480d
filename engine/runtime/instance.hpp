// An unfinished instance as the engine holds it in memory while it can make progress.
//
// The row is what the store has (or will have once the current batch commits); the JSON
// documents are kept parsed and are serialized into the row only when a batch is cut.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "rmaflow/definition.hpp"
#include "rmaflow/store.hpp"

namespace rmaflow {

struct Instance {
  InstanceRow row;
  nlohmann::json context = nlohmann::json::object();
  nlohmann::json visits = nlohmann::json::object();  // step -> times entered
  nlohmann::json step_input;                          // null when the step has no input
  // The compensation record: {"done": [{step, visit, input}...] newest last, "pivot": bool,
  // "running": {target, reason, visit} while compensating}.
  nlohmann::json saga = nlohmann::json::object();
  std::shared_ptr<const Definition> definition;
  // Bumped whenever the instance moves on; an adapter outcome or timer carrying an older
  // generation is stale and ignored.
  std::uint64_t generation = 0;
  bool dirty = false;  // has changes in the batch being built
  // Signals received and not yet consumed, oldest first; loaded from the store on first need.
  std::vector<SignalRow> pending_signals;
  bool signals_loaded = false;
  // When the last adapter outcome reached the engine (for the per-step latency measure).
  std::chrono::steady_clock::time_point outcome_at{};

  // The current step. The definition is validated, so the name always resolves.
  const Step& step() const { return *definition->find(row.step); }
  int visit() const { return visits.value(row.step, 0); }
  bool compensating() const { return saga.contains("running"); }
  // <instance>:<step>:<visit>: stable across retries and restarts, fresh for each entry. A
  // compensation uses the visit it undoes, suffixed ":compensate".
  std::string idempotency_key() const {
    if (compensating()) {
      return row.id + ":" + row.step + ":" + std::to_string(saga["running"].value("visit", 0)) +
             ":compensate";
    }
    return row.id + ":" + row.step + ":" + std::to_string(visit());
  }

  // The adapter call the instance makes at its current step: the task's, or while
  // compensating the step's compensation. Nullopt at a step that calls nothing.
  struct Action {
    std::string adapter;
    std::string operation;
    Duration timeout;
    RetryPolicy retry;
  };
  std::optional<Action> action() const;

  // The row with the JSON documents serialized.
  InstanceRow snapshot() const;
  // Rebuilds an instance from its stored row. Throws Error(storage) if a JSON column is corrupt.
  static std::unique_ptr<Instance> from_row(InstanceRow row,
                                            std::shared_ptr<const Definition> definition);
};

}  // namespace rmaflow
