// Metrics and traces are worked out off the engine's thread (engine/observe/observe_pipeline.hpp):
// the engine's thread copies a commit's facts and queues them, and a full queue drops them,
// counted.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "engine/observe/commit_facts.hpp"
#include "engine/observe/engine_metrics.hpp"
#include "engine/observe/observe_pipeline.hpp"
#include "engine/observe/span_export.hpp"

using namespace rmaflow;
using namespace rmaflow::observe;

namespace {

InstanceRow traced_row(const std::string& id, InstanceStatus status) {
  InstanceRow row;
  row.id = id;
  row.workflow = "standard-return";
  row.version = 2;
  row.status = status;
  row.business_key = "RMA-" + id;
  row.correlation_id = "corr-" + id;
  return row;
}

EventRow traced_event(const std::string& id, EventType type, std::string step, std::string data) {
  EventRow e;
  e.instance_id = id;
  e.type = type;
  e.step = std::move(step);
  e.data = std::move(data);
  return e;
}

// A batch that ends one instance: one span ends with it (its root).
WriteBatch ending(const std::string& id) {
  WriteBatch batch;
  batch.instances.push_back(traced_row(id, InstanceStatus::completed));
  batch.events.push_back(traced_event(id, EventType::instance_ended, "done", "{}"));
  return batch;
}

}  // namespace

TEST_CASE("Observe.Issue17.ACommitsFactsHoldWhatMetricsAndTracesReadAndNoResults") {
  WriteBatch batch;
  auto row = traced_row("I-1", InstanceStatus::running);
  row.parent = ParentRef{"I-0", "call_child", ""};
  row.context = nlohmann::json{{"input", {{"rma_id", "RMA-1"}, {"channel", "web"}}}};
  row.visits = {{"authorize", 2}};
  batch.instances.push_back(row);
  batch.instances.push_back(traced_row("I-2", InstanceStatus::running));  // no channel
  batch.events.push_back(traced_event("I-1", EventType::step_entered, "authorize", "{}"));
  batch.events.push_back(traced_event("I-1", EventType::attempt_started, "authorize",
                                      R"({"attempt":1,"idempotency_key":"I-1:authorize:1"})"));
  batch.events.push_back(traced_event("I-1", EventType::timer_set, "authorize", R"({"due":"x"})"));
  batch.events.push_back(traced_event("I-1", EventType::step_completed, "authorize",
                                      R"({"attempt":1,"result":{"big":"...a result..."}})"));
  batch.events.push_back(
      traced_event("I-2", EventType::step_completed, "await_parcel", R"({"timed_out":true})"));
  batch.events.push_back(traced_event("I-2", EventType::step_completed, "inspect", "{}"));
  batch.events.back().branch = "lines[L1]";
  batch.events.push_back(traced_event("I-9", EventType::step_entered, "nowhere", "{}"));  // no row

  CommitFacts facts;
  facts.assign(batch, std::chrono::milliseconds(5));
  CHECK(facts.took() == std::chrono::milliseconds(5));
  CHECK(facts.events_committed() == 7);
  REQUIRE(facts.rows().size() == 2);
  auto r = facts.view(facts.rows()[0]);
  CHECK(r.id == "I-1");
  CHECK(r.workflow == "standard-return");
  CHECK(r.version == 2);
  CHECK(r.business_key == "RMA-I-1");
  CHECK(r.correlation_id == "corr-I-1");
  CHECK(r.parent_id == "I-0");
  CHECK(r.has_channel);
  CHECK(r.channel == "web");
  CHECK_FALSE(facts.view(facts.rows()[1]).has_channel);
  // The timer is no part of them, nor an event without its row; a result is not copied.
  REQUIRE(facts.events().size() == 5);
  CHECK(facts.events()[0].type == EventType::step_entered);
  CHECK(facts.view(facts.events()[1]).data ==
        R"({"attempt":1,"idempotency_key":"I-1:authorize:1"})");
  auto completed = facts.view(facts.events()[2]);
  CHECK(completed.type == EventType::step_completed);
  CHECK(completed.instance_id == "I-1");
  CHECK(completed.data.empty());
  CHECK(completed.visits == 2);  // a milestone there was reached before
  CHECK_FALSE(completed.timed_out);
  auto timed_out = facts.view(facts.events()[3]);
  CHECK(facts.events()[3].row == 1);
  CHECK(timed_out.instance_id == "I-2");
  CHECK(timed_out.timed_out);
  CHECK(timed_out.visits == 0);
  auto in_branch = facts.view(facts.events()[4]);
  CHECK(in_branch.branch == "lines[L1]");
  CHECK(facts.span_ends() == 3);

  // Reused for the next commit: nothing of the last one is left.
  facts.assign(ending("I-3"), std::chrono::milliseconds(1));
  REQUIRE(facts.rows().size() == 1);
  CHECK(facts.text(facts.rows()[0].id) == "I-3");
  CHECK(facts.text(facts.rows()[0].parent_id).empty());
  CHECK(facts.events().size() == 1);
  CHECK(facts.events_committed() == 1);
}

TEST_CASE(
    "Observe.Issue17.MetricsAndTracesAreWorkedOutOffTheEngineThreadAndAFullQueueDropsCounted") {
  // Nothing listens there: what is sent is refused, which only matters once the builder ran.
  SpanExporter exporter(SpanExportOptions{.endpoint = "http://127.0.0.1:1/v1/traces"});
  std::mutex mu;
  std::condition_variable released_cv;
  bool released = false;
  std::promise<std::thread::id> pipeline_thread;
  bool first = true;
  // Definitions are looked up when a milestone may have been reached and when the builder
  // first meets an instance: the first time, the lookup holds the pipeline there until
  // released, so that the engine's side fills the queue.
  auto lookup = [&](const std::string&, int) -> std::shared_ptr<const Definition> {
    std::unique_lock lock(mu);
    if (first) {
      first = false;
      pipeline_thread.set_value(std::this_thread::get_id());
      released_cv.wait(lock, [&] { return released; });
    }
    return nullptr;
  };
  EngineMetrics metrics(lookup);
  ObservePipeline pipeline(metrics, &exporter, lookup, 1.0);
  pipeline.observe(ending("I-0"), std::chrono::milliseconds(1));
  auto held = pipeline_thread.get_future();
  CHECK(held.get() != std::this_thread::get_id());  // worked out on the pipeline's thread
  for (std::size_t i = 1; i <= ObservePipeline::kMaxQueued; ++i) {
    pipeline.observe(ending("I-" + std::to_string(i)), std::chrono::milliseconds(1));
  }
  CHECK(exporter.dropped() == 0);  // all queued
  CHECK(pipeline.dropped_commits() == 0);

  // The queue is full: the next commit's facts are dropped at once, counted with their spans,
  // and the engine's side goes on without waiting.
  WriteBatch two = ending("I-X");
  two.instances.push_back(traced_row("I-Y", InstanceStatus::failed));
  two.events.push_back(traced_event("I-Y", EventType::instance_ended, "failed", "{}"));
  pipeline.observe(two, std::chrono::milliseconds(1));
  CHECK(exporter.dropped() == 2);
  CHECK(pipeline.dropped_commits() == 1);
  {
    std::lock_guard lock(mu);
    released = true;
    released_cv.notify_all();
  }
  // Once caught up, the metrics count every commit queued: the first and the 256 after it.
  pipeline.catch_up(std::chrono::seconds(60));
  std::string text;
  metrics.write(text);
  CHECK(text.find(fmt::format("rmaflow_commit_events_count {}\n",
                              ObservePipeline::kMaxQueued + 1)) != std::string::npos);
}
