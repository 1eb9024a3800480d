// Traces built off the engine's thread. For each commit the engine's thread only copies what a
// trace needs into a CommitFacts (commit_facts.hpp) and queues it; a thread of the pipeline's
// own runs the TraceBuilder on it, whose spans go to the SpanExporter (another thread, which
// sends them). Tracking attempts and waits, deriving ids and writing the spans' JSON thus cost
// the engine's thread nothing.
//
// Bounded: when kMaxQueued commits wait already, a commit's facts are dropped and the spans
// they would have ended are counted as dropped (SpanExporter::count_dropped()). The builder
// then forgets what it knew (an instance it tracked may have ended in the facts dropped), so
// its memory stays bounded: the spans of attempts and waits under way are lost too. Losing
// facts never loses a transition.
//
// Thread-safety: observe() from the engine's thread; the destructor builds what was queued,
// then stops the thread.
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "engine/observe/commit_facts.hpp"
#include "engine/observe/engine_metrics.hpp"
#include "engine/observe/span_export.hpp"
#include "engine/observe/trace_builder.hpp"

namespace rmaflow::observe {

class TracePipeline {
 public:
  static constexpr std::size_t kMaxQueued = 256;

  TracePipeline(SpanExporter& exporter, DefinitionLookup definitions, double sample);
  ~TracePipeline();
  TracePipeline(const TracePipeline&) = delete;
  TracePipeline& operator=(const TracePipeline&) = delete;

  void observe(const WriteBatch& batch);

 private:
  void run();

  SpanExporter& exporter_;
  TraceBuilder builder_;  // the pipeline thread's
  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::unique_ptr<CommitFacts>> queue_;
  std::vector<std::unique_ptr<CommitFacts>> spare_;  // built, for the engine's thread to refill
  bool lost_ = false;  // facts were dropped since the builder last forgot
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace rmaflow::observe
