// What `rmaflow serve` (and the benchmark, to measure its cost) watches the engine with: every
// commit goes to the transition log, the metrics and, when a collector is configured, the trace
// export. The engine calls commit_observer() on its own thread after each commit
// (EngineOptions::on_commit): the transition log decides there what to write, and the commit's
// facts go to the observe pipeline, whose thread works out the metrics and traces
// (observe_pipeline.hpp). The API reads and steers the parts from its threads.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "engine/observe/engine_metrics.hpp"
#include "engine/observe/observe_pipeline.hpp"
#include "engine/observe/span_export.hpp"
#include "engine/observe/transition_log.hpp"
#include "rmaflow/store.hpp"

namespace rmaflow::observe {

class Observability {
 public:
  // `definitions` finds a deployed version's milestones and step kinds; `traces`, when given,
  // exports spans to that collector. Throws Error(invalid_argument) for a bad endpoint.
  explicit Observability(DefinitionLookup definitions = {},
                         std::optional<SpanExportOptions> traces = std::nullopt);

  TransitionLog transitions;

  // The metrics families, the trace export's counters among them (text exposition format),
  // once the commits made before the call are counted (waiting a second at most).
  void write_metrics(std::string& out) const;

  // For EngineOptions::on_commit. `self` must outlive the engine.
  static std::function<void(const WriteBatch&, std::chrono::nanoseconds)> commit_observer(
      std::shared_ptr<Observability> self);

 private:
  EngineMetrics metrics_;
  std::unique_ptr<SpanExporter> exporter_;
  std::unique_ptr<ObservePipeline> pipeline_;  // destroyed first: it feeds the metrics and exporter
};

}  // namespace rmaflow::observe
