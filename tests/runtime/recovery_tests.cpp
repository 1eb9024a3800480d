#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <string>

#include "tests/runtime/harness.hpp"

using namespace rmaflow;
using namespace rmaflow::testing;
using json = nlohmann::json;

namespace {

const char* kTwoSteps = R"(
workflow: two
version: 1
start: first
steps:
  first:
    action: ext.first
    timeout: 30s
    retry: { max_attempts: 3, interval: 10s, backoff: 1.0 }
    result: a
    next: second
  second:
    action: ext.second
    result: b
    next: done
  done: { end: completed }
)";

// A store whose Nth commit fails, as a full disk would.
class FailingStore final : public StoreWrapper {
 public:
  FailingStore(std::unique_ptr<Store> target, int fail_at)
      : StoreWrapper(std::move(target)), fail_at_(fail_at) {}
  CommitReceipt commit(const WriteBatch& batch) override {
    if (++commits_ == fail_at_) throw Error(Errc::storage, "disk full (injected)");
    return StoreWrapper::commit(batch);
  }

 private:
  int fail_at_;
  int commits_ = 0;
};

// Starts an instance of kTwoSteps, lets the process die while its first call is out (the answer
// never arrives), then reopens with adapters that answer both steps and runs it. Returns the
// instance and the call that was out.
std::pair<std::string, Invocation> crash_with_call_out(Harness& h) {
  auto id = h.start(json::object()).instance_id;
  REQUIRE(h.ext->held() == 1);
  auto first_call = h.ext->calls().at(0);
  h.close();
  h.ext = std::make_shared<ScriptedAdapter>();
  h.adapters->add("ext", h.ext);
  h.ext->script("first", {ok({{"x", 1}})});
  h.ext->script("second", {ok()});
  h.open();
  h.idle();
  return {id, first_call};
}

}  // namespace

TEST_CASE("Recovery.ResumeAfterCrash.AttemptInFlightIsInvokedAgainWithTheSameKey") {
  Harness h(kTwoSteps);
  auto [id, first_call] = crash_with_call_out(h);
  auto calls = h.ext->calls();
  REQUIRE(calls.size() == 2);
  CHECK(calls[0].idempotency_key == first_call.idempotency_key);
  CHECK(calls[0].attempt == first_call.attempt);
  CHECK(h.row(id).status == InstanceStatus::completed);
  auto events = h.history(id);
  check_contiguous(events);
  auto types = h.event_types(id);
  CHECK(std::count(types.begin(), types.end(), EventType::attempt_started) == 2);  // one per step
}

TEST_CASE("Recovery.ResumeAfterCrash.TimerPending") {
  Harness h(kTwoSteps);
  h.ext->script("first", {transient()});
  auto t0 = h.clock->now();
  auto id = h.start(json::object()).instance_id;
  CHECK(h.row(id).main().phase == Phase::backoff);
  h.close();

  h.ext->script("first", {ok()});
  h.ext->script("second", {ok()});
  h.clock->advance(Duration(4000));
  h.open();
  h.idle();
  CHECK(h.engine->next_timer() == t0 + Duration(10'000));  // re-armed, not fired early
  CHECK(h.ext->calls().size() == 1);
  h.advance(Duration(5999));
  CHECK(h.ext->calls().size() == 1);
  h.advance(Duration(1));
  CHECK(h.ext->calls().size() == 3);
  CHECK(h.row(id).status == InstanceStatus::completed);
  check_contiguous(h.history(id));
}

TEST_CASE("Recovery.ResumeAfterCrash.DueTimerFiresAtOnce") {
  Harness h(kTwoSteps);
  h.ext->script("first", {transient(), ok()});
  h.ext->script("second", {ok()});
  auto id = h.start(json::object()).instance_id;
  h.close();
  h.clock->advance(Duration(3'600'000));  // down for an hour
  h.open();
  h.idle();
  CHECK(h.row(id).status == InstanceStatus::completed);
}

TEST_CASE("Recovery.ResumeAfterCrash.AttemptThatRanOutOfTimeWhileDownTimesOut") {
  Harness h(kTwoSteps);
  auto id = h.start(json::object()).instance_id;
  REQUIRE(h.ext->held() == 1);
  h.close();
  h.ext = std::make_shared<ScriptedAdapter>();
  h.adapters->add("ext", h.ext);
  h.clock->advance(Duration(31'000));
  h.open();
  h.idle();
  CHECK(h.ext->calls().empty());  // not re-invoked: it timed out, a retry is scheduled
  auto row = h.row(id);
  CHECK(row.main().phase == Phase::backoff);
  auto last_failure = h.history(id).at(h.history(id).size() - 2);
  CHECK(last_failure.type == EventType::attempt_failed);
  CHECK(json::parse(last_failure.data)["error"]["code"] == "Timeout");
}

TEST_CASE("Recovery.CommitFailure.IsFatalAndTheDatabaseKeepsTheLastCommittedState") {
  Harness h(kTwoSteps);
  h.ext->script("first", {ok()});
  // Commit 1 starts the instance; commit 2 (first step done, second started) fails.
  h.open(std::make_unique<FailingStore>(open_sqlite_store(h.db), 2));
  auto future = h.engine->start(StartRequest{"two", std::nullopt, json::object(), std::nullopt, ""});
  CHECK_THROWS_AS(h.engine->run_until_idle(), Error);
  auto id = future.get().instance_id;  // acknowledged: its commit succeeded
  h.close();

  h.ext->script("first", {ok()});
  h.ext->script("second", {ok()});
  h.open();
  CHECK(h.row(id).step == "first");  // the failed commit left nothing behind
  h.idle();
  CHECK(h.row(id).status == InstanceStatus::completed);
  check_contiguous(h.history(id));
}

TEST_CASE("Recovery.CommitFailure.StartIsNotAcknowledgedBeforeItsCommit") {
  Harness h(kTwoSteps);
  h.open(std::make_unique<FailingStore>(open_sqlite_store(h.db), 1));
  auto future = h.engine->start(StartRequest{"two", std::nullopt, json::object(), std::nullopt, ""});
  CHECK_THROWS_AS(h.engine->run_until_idle(), Error);
  try {
    future.get();
    FAIL("a start whose commit failed was acknowledged");
  } catch (const Error& e) {
    CHECK(e.code() == Errc::storage);
  }
  h.close();
  h.open();
  CHECK(h.engine->store().list_instances({}).empty());
}

TEST_CASE("Recovery.Lock.OneEnginePerDatabase") {
  Harness h(kTwoSteps);
  EngineOptions second;
  second.db_path = h.db;
  try {
    Engine::open(std::move(second));
    FAIL("a second engine opened the same database");
  } catch (const Error& e) {
    CHECK(e.code() == Errc::conflict);
    CHECK(std::string(e.what()).find(h.db) != std::string::npos);
    CHECK(std::string(e.what()).find(std::to_string(getpid())) != std::string::npos);
  }
  h.close();  // released with the engine
  EngineOptions third;
  third.db_path = h.db;
  CHECK_NOTHROW(Engine::open(std::move(third)));
}

TEST_CASE("Recovery.Definitions.StoredDefinitionLoadsWithoutItsFiles") {
  // The schema file the workflow named at deploy time is gone when the engine restarts (it
  // runs elsewhere now): the stored, resolved schema stands in for it.
  TempDir files;
  files.write("schemas/rma.schema.json", R"({"type":"object","required":["rma_id"]})");
  auto yaml = std::string(R"(
workflow: schema-flow
version: 1
input: schemas/rma.schema.json
start: call
steps:
  call: { action: ext.op, next: done }
  done: { end: completed }
)");
  auto path = files.write("schema-flow.yaml", yaml);
  auto loaded = load_definition_file(path);
  REQUIRE(loaded.ok());
  Harness h(kTwoSteps);
  h.engine->deploy(loaded.definition);
  h.close();
  std::filesystem::remove_all(files.path());
  h.open();
  h.ext->script("op", {ok()});
  StartRequest request;
  request.workflow = "schema-flow";
  request.input = {{"rma_id", "R1"}};
  auto future = h.engine->start(request);
  h.idle();
  CHECK(h.row(future.get().instance_id).status == InstanceStatus::completed);
  auto stored = h.engine->store().get_definition("schema-flow", 1);
  REQUIRE(stored);
  auto again = load_stored_definition(stored->source, stored->file, stored->input_schema,
                                      Compilation::on_first_use);
  REQUIRE(again.ok());
  CHECK(again.definition->content_hash == loaded.definition->content_hash);
  CHECK(again.definition->input_schema == loaded.definition->input_schema);
}

// The history says that the adapter was asked again after a restart, with the same key.
TEST_CASE("Recovery.Issue11.ReinvocationIsRecorded") {
  Harness h(kTwoSteps);
  auto [id, first_call] = crash_with_call_out(h);
  auto events = h.history(id);
  check_contiguous(events);
  auto started = std::find_if(events.begin(), events.end(), [](const EventRow& e) {
    return e.type == EventType::attempt_started;
  });
  REQUIRE(started != events.end());
  auto again = std::find_if(events.begin(), events.end(), [](const EventRow& e) {
    return e.type == EventType::attempt_reinvoked;
  });
  REQUIRE(again != events.end());
  CHECK(again->seq == started->seq + 1);
  CHECK(again->step == "first");
  auto data = json::parse(again->data);
  CHECK(data["attempt"] == 1);
  CHECK(data["idempotency_key"] == first_call.idempotency_key);
  // Only the re-invocation is new: one attempt_started per step, as before.
  auto types = h.event_types(id);
  CHECK(std::count(types.begin(), types.end(), EventType::attempt_started) == 2);
  CHECK(std::count(types.begin(), types.end(), EventType::attempt_reinvoked) == 1);
}

namespace {

// Records what each committed row carried: whether the engine marked its context as the one
// an earlier commit wrote, and the context's text.
class ContextRecordingStore final : public StoreWrapper {
 public:
  using StoreWrapper::StoreWrapper;
  CommitReceipt commit(const WriteBatch& batch) override {
    auto receipt = StoreWrapper::commit(batch);
    std::lock_guard lock(mu_);
    for (const auto& row : batch.instances) {
      if (row.context_unchanged) {
        ++marked;
        if (written[row.id] != row.context.text()) ++marked_but_changed;
      } else {
        ++unmarked;
        written[row.id] = row.context.text();
      }
    }
    return receipt;
  }
  int marked = 0;
  int marked_but_changed = 0;
  int unmarked = 0;
  std::map<std::string, std::string> written;  // the last context written, per instance

 private:
  std::mutex mu_;
};

}  // namespace

// A row's context is marked unchanged (and not written) only when it is the context the last
// commit of that instance carried: the steps that add results are written, the others are not,
// and after a restart the context holds every result.
TEST_CASE("Recovery.Issue19.OnlyAContextAlreadyWrittenIsMarkedUnchanged") {
  Harness h(R"(
workflow: marks
version: 1
start: first
steps:
  first: { action: ext.first, result: a, next: quiet }
  quiet: { action: ext.quiet, next: last }
  last: { action: ext.last, result: b, next: done }
  done: { end: completed }
)");
  auto recording = std::make_unique<ContextRecordingStore>(open_sqlite_store(h.db));
  auto* seen = recording.get();
  h.open(std::move(recording));
  h.ext->script("first", {ok({{"x", 1}})});
  h.ext->script("quiet", {ok({{"ignored", true}})});
  h.ext->script("last", {ok({{"y", 2}})});
  auto id = h.start(json{{"rma_id", "RMA-1"}}).instance_id;
  h.idle();
  REQUIRE(h.row(id).status == InstanceStatus::completed);
  CHECK(seen->marked > 0);
  CHECK(seen->marked_but_changed == 0);
  CHECK(seen->unmarked >= 3);  // the start, and the two results
  h.close();

  h.open();
  auto context = h.context(id);
  CHECK(context["input"]["rma_id"] == "RMA-1");
  CHECK(context["a"]["x"] == 1);
  CHECK(context["b"]["y"] == 2);
  CHECK_FALSE(context.contains("ignored"));
}
