// What the engine did, measured from its commits, for /metrics: commit size and latency; step
// and adapter-call durations by workflow, step and outcome; adapter errors by code; and the
// business milestones a workflow declares (`credited`), as the time from an instance's start to
// each, by workflow and channel, so that return-to-credit time is a query.
//
// Durations are taken between the engine-clock times of committed events (step_entered to the
// step's end; attempt_started to its outcome), so they are what the history says. A step is
// measured only while its instance stays in memory: an instance that waits, is suspended or
// ends leaves this tally too, and a waiting instance costs nothing here.
//
// Thread-safety: observe() from one thread at a time (the observe pipeline's, off the engine's);
// write() from any thread.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <unordered_map>

#include "engine/observe/commit_facts.hpp"
#include "engine/observe/prometheus_text.hpp"
#include "rmaflow/definition.hpp"
#include "rmaflow/store.hpp"

namespace rmaflow::observe {

// The definition of a deployed version, or null when it cannot be had.
using DefinitionLookup =
    std::function<std::shared_ptr<const Definition>(const std::string& workflow, int version)>;

class EngineMetrics {
 public:
  explicit EngineMetrics(DefinitionLookup definitions = {});

  // A commit's facts (commit_facts.hpp), from one thread at a time (the observe pipeline's).
  void observe(const CommitFacts& facts);
  // Appends the families to `out` (text exposition format).
  void write(std::string& out) const;

 private:
  using Key = std::tuple<std::string, std::string, std::string>;
  struct Open {
    std::string step;
    TimePoint entered;
    std::optional<TimePoint> attempt;  // the attempt in flight began then
  };

  using RowView = CommitFacts::RowView;
  using EventView = CommitFacts::EventView;

  void observe(const RowView& row, const EventView& event);
  // The steps under way of an instance, by branch (an empty entry on first sight).
  ById<Open>& branches_of(std::string_view instance_id);
  void step_ended(const RowView& row, const EventView& event, const char* outcome);
  void call_ended(const RowView& row, const EventView& event, const char* outcome);
  void milestone(const RowView& row, const EventView& event);
  std::string channel_of(const RowView& row, const std::string& workflow,
                         const std::string& milestone);

  DefinitionLookup definitions_;
  // The observing thread's: the steps and attempts under way, by instance and branch.
  ById<ById<Open>> open_;

  mutable std::mutex mu_;  // the tallies below
  Histogram commit_seconds_{latency_buckets()};
  Histogram commit_events_{size_buckets()};
  std::map<Key, Histogram> step_seconds_;       // workflow, step, outcome
  std::map<Key, Histogram> call_seconds_;       // workflow, step, outcome
  std::map<Key, std::uint64_t> adapter_errors_; // workflow, step, code
  std::map<Key, Histogram> milestone_seconds_;  // workflow, milestone, channel
  std::map<std::pair<std::string, std::string>, std::size_t> channels_;  // per workflow, milestone
};

}  // namespace rmaflow::observe
