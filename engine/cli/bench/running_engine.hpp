// An engine for the closed and open loops, running on a thread of its own as under `serve`.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "engine/cli/bench/bench_options.hpp"
#include "rmaflow/engine.hpp"

namespace rmaflow::cli::bench {

// The noop workflow on a new engine that runs on a thread of its own, as under `serve` (the
// closed and open loops), with the engine's overhead per step collected on that thread.
struct RunningEngine {
  // `node`: the engine joins the database's nodes under this name (EngineOptions::node).
  RunningEngine(const BenchOptions& opt, const std::string& db_path, std::string node = {});
  ~RunningEngine() {
    try {
      stop();
    } catch (const Error&) {
      // Reported by the stop() the benchmark calls; a destructor has no one to tell.
    }
  }
  RunningEngine(const RunningEngine&) = delete;
  RunningEngine& operator=(const RunningEngine&) = delete;

  // Stops the engine (idempotent); `stats` and `step_ms` (sorted) are then final.
  void stop();

  std::shared_ptr<const Definition> definition;
  std::vector<double> step_ms;    // the engine's thread only, until stop()
  std::vector<double> commit_ms;  // how long each commit took to write and sync; the same
  EngineStats stats;
  std::string failure;  // what ended run(), if it threw
  std::unique_ptr<Engine> engine;
  std::thread runner;
};

// Waits (up to 15 s) until the engines, as nodes, hold every shard between them and each holds
// some: nodes take their share a second after they start.
void await_shards_shared(const std::vector<std::unique_ptr<RunningEngine>>& engines);

}  // namespace rmaflow::cli::bench
