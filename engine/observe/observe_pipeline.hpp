// The metrics and traces worked out off the engine's thread. For each commit the engine's
// thread only copies what they read into a CommitFacts (commit_facts.hpp) and queues it; a
// thread of the pipeline's own feeds it to the EngineMetrics and, when spans are exported, to
// the TraceBuilder, whose spans go to the SpanExporter (another thread, which sends them).
// Tracking steps, attempts and waits, deriving ids, looking milestones up and writing the
// spans' JSON thus cost the engine's thread nothing.
//
// Bounded: when kMaxQueued commits wait already, a commit's facts are dropped, counted
// (dropped_commits()), and the spans they would have ended are counted as dropped
// (SpanExporter::count_dropped()). The builder then forgets what it knew (an instance it tracked
// may have ended in the facts dropped), so its memory stays bounded: the spans of attempts and
// waits under way are lost too. Losing facts never loses a transition.
//
// Thread-safety: observe() from the engine's thread; catch_up() and the counter from any; the
// destructor works through what was queued, then stops the thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "engine/observe/commit_facts.hpp"
#include "engine/observe/engine_metrics.hpp"
#include "engine/observe/span_export.hpp"
#include "engine/observe/trace_builder.hpp"

namespace rmaflow::observe {

class ObservePipeline {
 public:
  static constexpr std::size_t kMaxQueued = 256;
  // The pipeline's thread, once woken by a commit, lets the commits of the next kGather
  // gather (or kWakeAt of them) before it works them out, and the engine's thread wakes it
  // only when it sleeps or that many wait: waking it at every commit cost the engine's
  // thread about a fifteenth of its time in a closed loop (docs/performance.md).
  static constexpr std::size_t kWakeAt = 32;
  static constexpr std::chrono::milliseconds kGather{10};

  // `exporter` null: no traces. `definitions` and `sample` are the trace builder's.
  ObservePipeline(EngineMetrics& metrics, SpanExporter* exporter, DefinitionLookup definitions,
                  double sample);
  ~ObservePipeline();
  ObservePipeline(const ObservePipeline&) = delete;
  ObservePipeline& operator=(const ObservePipeline&) = delete;

  void observe(const WriteBatch& batch, std::chrono::nanoseconds took);
  // Waits (up to `patience`) until every commit queued before the call is worked out: what
  // /metrics answers then counts every commit made before it was asked. Wakes the pipeline's
  // thread for it.
  void catch_up(std::chrono::milliseconds patience);

  std::uint64_t dropped_commits() const { return dropped_commits_; }

 private:
  void run();

  EngineMetrics& metrics_;
  SpanExporter* exporter_;
  std::optional<TraceBuilder> traces_;  // the pipeline thread's
  std::mutex mu_;
  std::condition_variable wake_;
  std::condition_variable done_;  // signalled as each commit is worked out
  std::deque<std::unique_ptr<CommitFacts>> queue_;
  std::vector<std::unique_ptr<CommitFacts>>
      spare_;                 // worked out, for the engine's thread to refill
  std::uint64_t queued_ = 0;  // commits queued, ever
  std::uint64_t worked_ = 0;  // of those, worked out
  bool lost_ = false;         // facts were dropped since the builder last forgot
  bool hurried_ = false;      // catch_up() waits: work out what is queued now
  bool idle_ = false;         // the pipeline's thread waits for a commit
  bool stopping_ = false;
  std::atomic<std::uint64_t> dropped_commits_{0};
  std::thread thread_;
};

}  // namespace rmaflow::observe
