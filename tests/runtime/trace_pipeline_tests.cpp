// Traces are built off the engine's thread (engine/observe/trace_pipeline.hpp): the engine's
// thread copies a commit's facts and queues them, and a full queue drops them, counted.
#include <doctest/doctest.h>

#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "engine/observe/commit_facts.hpp"
#include "engine/observe/span_export.hpp"
#include "engine/observe/trace_pipeline.hpp"

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

TEST_CASE("Trace.Issue17.ACommitsFactsHoldWhatATraceNeedsAndNoResults") {
  WriteBatch batch;
  auto row = traced_row("I-1", InstanceStatus::running);
  row.parent = ParentRef{"I-0", "call_child", ""};
  row.context = {{"input", {{"rma_id", "RMA-1"}}}};
  batch.instances.push_back(row);
  batch.events.push_back(traced_event("I-1", EventType::step_entered, "authorize", "{}"));
  batch.events.push_back(traced_event("I-1", EventType::attempt_started, "authorize",
                                      R"({"attempt":1,"idempotency_key":"I-1:authorize:1"})"));
  batch.events.push_back(traced_event("I-1", EventType::timer_set, "authorize", R"({"due":"x"})"));
  batch.events.push_back(traced_event("I-1", EventType::step_completed, "authorize",
                                      R"({"attempt":1,"result":{"big":"...a result..."}})"));
  batch.events.back().branch = "lines[L1]";

  CommitFacts facts;
  facts.assign(batch);
  REQUIRE(facts.rows().size() == 1);
  const auto& r = facts.rows()[0];
  CHECK(facts.text(r.id) == "I-1");
  CHECK(facts.text(r.workflow) == "standard-return");
  CHECK(r.version == 2);
  CHECK(facts.text(r.business_key) == "RMA-I-1");
  CHECK(facts.text(r.correlation_id) == "corr-I-1");
  CHECK(facts.text(r.parent_id) == "I-0");
  // The timer is no part of a trace; a completed step's result is not copied.
  REQUIRE(facts.events().size() == 3);
  CHECK(facts.events()[0].type == EventType::step_entered);
  CHECK(facts.text(facts.events()[1].data) ==
        R"({"attempt":1,"idempotency_key":"I-1:authorize:1"})");
  const auto& completed = facts.events()[2];
  CHECK(completed.type == EventType::step_completed);
  CHECK(facts.text(completed.branch) == "lines[L1]");
  CHECK(facts.text(completed.data).empty());
  CHECK(facts.span_ends() == 1);

  // Reused for the next commit: nothing of the last one is left.
  facts.assign(ending("I-2"));
  REQUIRE(facts.rows().size() == 1);
  CHECK(facts.text(facts.rows()[0].id) == "I-2");
  CHECK(facts.text(facts.rows()[0].parent_id).empty());
  CHECK(facts.events().size() == 1);
}

TEST_CASE("Trace.Issue17.TracesAreBuiltOffTheEngineThreadAndAFullQueueDropsCounted") {
  // Nothing listens there: what is sent is refused, which only matters once the builder ran.
  SpanExporter exporter(SpanExportOptions{.endpoint = "http://127.0.0.1:1/v1/traces"});
  std::mutex mu;
  std::condition_variable released_cv;
  bool released = false;
  std::promise<std::thread::id> builder_thread;
  bool first = true;
  // The builder asks for an instance's definition when it first meets it: the first time, it
  // holds the builder there until released, so that the engine's side fills the queue.
  auto lookup = [&](const std::string&, int) -> std::shared_ptr<const Definition> {
    std::unique_lock lock(mu);
    if (first) {
      first = false;
      builder_thread.set_value(std::this_thread::get_id());
      released_cv.wait(lock, [&] { return released; });
    }
    return nullptr;
  };
  {
    TracePipeline pipeline(exporter, lookup, 1.0);
    pipeline.observe(ending("I-0"));
    auto held = builder_thread.get_future();
    CHECK(held.get() != std::this_thread::get_id());  // built on the pipeline's thread
    for (std::size_t i = 1; i <= TracePipeline::kMaxQueued; ++i) {
      pipeline.observe(ending("I-" + std::to_string(i)));
    }
    CHECK(exporter.dropped() == 0);  // all queued

    // The queue is full: the next commit's facts are dropped at once, their spans counted,
    // and the engine's side goes on without waiting.
    WriteBatch two = ending("I-X");
    two.instances.push_back(traced_row("I-Y", InstanceStatus::failed));
    two.events.push_back(traced_event("I-Y", EventType::instance_ended, "failed", "{}"));
    pipeline.observe(two);
    CHECK(exporter.dropped() == 2);
    WriteBatch nothing_traced;
    nothing_traced.events.push_back(traced_event("I-Z", EventType::timer_set, "wait", "{}"));
    pipeline.observe(nothing_traced);
    CHECK(exporter.dropped() == 2);

    std::lock_guard lock(mu);
    released = true;
    released_cv.notify_all();
  }  // builds what was queued, then stops
}
