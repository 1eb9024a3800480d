#include <doctest/doctest.h>

#include <algorithm>
#include <future>
#include <string>
#include <vector>

#include "engine/support/limits.hpp"
#include "tests/runtime/harness.hpp"

using namespace rmaflow;
using namespace rmaflow::testing;
using json = nlohmann::json;

namespace {

const char* kAwait = R"(
workflow: await
version: 1
business_key: ${ .input.rma_id }
start: label
steps:
  label:
    action: ext.label
    result: label
    next: await_receipt
  await_receipt:
    wait: { signal: warehouse.received, timeout: 30d }
    result: receipt
    on_timeout: expired
    next: credit
  credit:
    action: ext.credit
    with: { qty: "${ .receipt.qty }" }
    next: done
  done: { end: completed }
  expired: { end: expired }
)";

SignalResult send(Harness& h, const std::string& id, const std::string& name, json payload,
                  const std::string& key = "") {
  SignalRequest request;
  request.instance_id = id;
  request.name = name;
  request.payload = std::move(payload);
  request.idempotency_key = key;
  auto future = h.engine->signal(std::move(request));
  h.idle();
  return future.get();
}

std::size_t count(Harness& h, const std::string& id, EventType type) {
  auto types = h.event_types(id);
  return static_cast<std::size_t>(std::count(types.begin(), types.end(), type));
}

}  // namespace

TEST_CASE("Waits.Signal.ThirtyDayWaitTimesOutToOnTimeout") {
  Harness h(kAwait);
  h.ext->script("label", {ok({{"label_id", "L1"}})});
  auto id = h.start({{"rma_id", "R1"}}).instance_id;
  auto row = h.row(id);
  CHECK(row.status == InstanceStatus::waiting);
  CHECK(row.step == "await_receipt");
  CHECK(h.engine->stats().active_instances == 0);  // a waiting instance is rows and a timer
  h.advance(30 * kDay - Duration(1));
  CHECK(h.row(id).status == InstanceStatus::waiting);  // never early
  h.advance(Duration(1));
  row = h.row(id);
  CHECK(row.status == InstanceStatus::expired);
  CHECK(row.step == "expired");
  check_contiguous(h.history(id));
  CHECK(count(h, id, EventType::timer_fired) == 1);
}

TEST_CASE("Waits.Signal.ConsumedWhenWaiting") {
  Harness h(kAwait);
  h.ext->script("label", {ok()});
  h.ext->script("credit", {ok()});
  auto id = h.start({{"rma_id", "R1"}}).instance_id;
  h.advance(3 * kDay);
  auto result = send(h, id, "warehouse.received", {{"qty", 2}}, "scan-1");
  CHECK_FALSE(result.duplicate);
  auto row = h.row(id);
  CHECK(row.status == InstanceStatus::completed);
  CHECK(h.context(id)["receipt"]["qty"] == 2);
  CHECK(h.ext->calls().back().input == json{{"qty", 2}});
  // The 30-day timeout is gone with the wait.
  h.advance(40 * kDay);
  CHECK(h.row(id).status == InstanceStatus::completed);
  CHECK(count(h, id, EventType::timer_fired) == 0);
}

TEST_CASE("Waits.Signal.ArrivingBeforeTheWaitIsBufferedAndConsumedLater") {
  Harness h(kAwait);
  h.ext->script("credit", {ok()});
  auto id = h.start({{"rma_id", "R1"}}).instance_id;  // label call is held: not waiting yet
  REQUIRE(h.ext->held() == 1);
  send(h, id, "warehouse.received", {{"qty", 5}}, "scan-early");
  CHECK(h.row(id).step == "label");
  CHECK(count(h, id, EventType::signal_received) == 1);
  CHECK(count(h, id, EventType::signal_consumed) == 0);
  h.ext->answer(ok());
  h.idle();
  CHECK(h.row(id).status == InstanceStatus::completed);
  CHECK(h.context(id)["receipt"]["qty"] == 5);
  CHECK(count(h, id, EventType::signal_consumed) == 1);
}

TEST_CASE("Waits.Signal.DuplicateKeyIsConsumedOnce") {
  Harness h(R"(
workflow: twice
version: 1
start: first
steps:
  first:
    wait: { signal: scan }
    result: a
    next: second
  second:
    wait: { signal: scan }
    result: b
    next: done
  done: { end: completed }
)");
  auto id = h.start(json::object()).instance_id;
  CHECK_FALSE(send(h, id, "scan", 1, "k1").duplicate);
  CHECK(send(h, id, "scan", 1, "k1").duplicate);  // the carrier resent the same scan
  auto row = h.row(id);
  CHECK(row.status == InstanceStatus::waiting);
  CHECK(row.step == "second");
  CHECK(send(h, id, "scan", 2, "k2").duplicate == false);
  CHECK(h.row(id).status == InstanceStatus::completed);
  CHECK(h.context(id)["a"] == 1);
  CHECK(h.context(id)["b"] == 2);
}

TEST_CASE("Waits.Signal.OldestPendingSignalIsConsumedFirst") {
  Harness h(R"(
workflow: order
version: 1
start: hold
steps:
  hold:
    action: ext.hold
    next: w1
  w1:
    wait: { signal: scan }
    result: first
    next: w2
  w2:
    wait: { signal: scan }
    result: second
    next: done
  done: { end: completed }
)");
  auto id = h.start(json::object()).instance_id;
  send(h, id, "scan", "A", "a");
  send(h, id, "scan", "B", "b");
  h.ext->answer(ok());
  h.idle();
  CHECK(h.row(id).status == InstanceStatus::completed);
  CHECK(h.context(id)["first"] == "A");
  CHECK(h.context(id)["second"] == "B");
}

TEST_CASE("Waits.Signal.RefusedForFinishedAndUnknownInstances") {
  Harness h(kAwait);
  h.ext->script("label", {ok()});
  h.ext->script("credit", {ok()});
  auto id = h.start({{"rma_id", "R1"}}).instance_id;
  send(h, id, "warehouse.received", {{"qty", 1}});
  REQUIRE(h.row(id).status == InstanceStatus::completed);
  try {
    send(h, id, "warehouse.received", {{"qty", 1}});
    FAIL("a finished instance took a signal");
  } catch (const Error& e) {
    CHECK(e.code() == Errc::refused);
    CHECK(std::string(e.what()).find("completed") != std::string::npos);
  }
  try {
    send(h, "01NOSUCHINSTANCE0000000000", "x", nullptr);
    FAIL("an unknown instance took a signal");
  } catch (const Error& e) {
    CHECK(e.code() == Errc::not_found);
  }
}

TEST_CASE("Waits.Signal.ByBusinessKey") {
  Harness h(kAwait);
  h.ext->script("label", {ok()});
  h.ext->script("credit", {ok()});
  auto id = h.start({{"rma_id", "R7"}}).instance_id;
  SignalRequest request;
  request.workflow = "await";
  request.business_key = "R7";
  request.name = "warehouse.received";
  request.payload = {{"qty", 1}};
  auto future = h.engine->signal(request);
  h.idle();
  CHECK(future.get().instance_id == id);
  CHECK(h.row(id).status == InstanceStatus::completed);
}

TEST_CASE("Waits.Duration.ResumesAfterTheDuration") {
  Harness h(R"(
workflow: pause
version: 1
start: cool_off
steps:
  cool_off:
    wait: { duration: 2h }
    next: done
  done: { end: completed }
)");
  auto id = h.start(json::object()).instance_id;
  h.advance(Duration(7'199'999));
  CHECK(h.row(id).status == InstanceStatus::waiting);
  h.advance(Duration(1));
  CHECK(h.row(id).status == InstanceStatus::completed);
}

TEST_CASE("Waits.Timeout.WithoutOnTimeoutSuspendsWithTimeout") {
  Harness h(R"(
workflow: strict
version: 1
start: w
steps:
  w:
    wait: { signal: go, timeout: 1h }
    next: done
  done: { end: completed }
)");
  auto id = h.start(json::object()).instance_id;
  h.advance(Duration(3'600'000));
  auto row = h.row(id);
  CHECK(row.status == InstanceStatus::suspended);
  CHECK(testing::incident_of(row)["error"]["code"] == "Timeout");
}

TEST_CASE("Waits.Recovery.WaitingInstanceAndItsTimerSurviveARestart") {
  Harness h(kAwait);
  h.ext->script("label", {ok()});
  auto id = h.start({{"rma_id", "R1"}}).instance_id;
  h.close();
  h.clock->advance(10 * kDay);
  h.open();
  h.idle();
  CHECK(h.row(id).status == InstanceStatus::waiting);  // not fired early
  CHECK(h.engine->next_timer() == h.row(id).deadline);
  h.close();
  h.clock->advance(25 * kDay);  // down past the deadline: fires at once on restart
  h.open();
  h.idle();
  CHECK(h.row(id).status == InstanceStatus::expired);
}

// A signal that no wait step of the instance's version waits for would be kept forever.
TEST_CASE("Wait.Issue11.SignalNoWaitTakesIsRefused") {
  Harness h(kAwait);
  h.ext->script("label", {ok()});
  auto id = h.start({{"rma_id", "R1"}}).instance_id;
  REQUIRE(h.row(id).status == InstanceStatus::waiting);
  SignalRequest request;
  request.instance_id = id;
  request.name = "warehouse.recieved";
  auto future = h.engine->signal(std::move(request));
  h.idle();
  try {
    future.get();
    FAIL("accepted");
  } catch (const Error& e) {
    CHECK(e.code() == Errc::invalid_argument);
    CHECK(std::string(e.what()) ==
          "instance " + id + ": workflow await version 1 never waits for signal "
          "warehouse.recieved (did you mean warehouse.received?); it waits for: warehouse.received");
  }
  CHECK(h.engine->store().signals(id).empty());
  CHECK(count(h, id, EventType::signal_received) == 0);
  // The right name is taken.
  CHECK_FALSE(send(h, id, "warehouse.received", {{"qty", 1}}).duplicate);
}

// An instance keeps at most kMaxPendingSignals signals that no wait has taken: a caller
// sending signals that nothing takes cannot make an instance hold (and each wait look through)
// without bound. The bound holds across a restart, a repeat of an accepted key is still
// answered as such, the signal a wait takes as it arrives always gets through, and a wait
// taking one of those kept makes room for one more.
TEST_CASE("Waits.Signal.AnInstanceKeepsABoundedNumberOfSignalsNotTaken") {
  Harness h(R"(
workflow: scans
version: 1
start: gate
steps:
  gate:
    wait: { signal: go }
    next: take
  take:
    wait: { signal: scan }
    result: scan
    next: again
  again:
    wait: { signal: go }
    next: done
  done: { end: completed }
)");
  auto id = h.start(json::object()).instance_id;  // at the gate: the scans are kept
  std::vector<std::future<SignalResult>> sent;
  for (std::size_t i = 0; i < kMaxPendingSignals; ++i) {
    SignalRequest request;
    request.instance_id = id;
    request.name = "scan";
    request.payload = i;
    request.idempotency_key = "scan-" + std::to_string(i);
    sent.push_back(h.engine->signal(std::move(request)));
  }
  h.idle();
  for (auto& f : sent) CHECK_FALSE(f.get().duplicate);
  CHECK(count(h, id, EventType::signal_received) == kMaxPendingSignals);
  auto refusal = [&](const std::string& key) {
    try {
      send(h, id, "scan", "one too many", key);
    } catch (const Error& e) {
      CHECK(e.code() == Errc::refused);
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  CHECK(refusal("scan-extra") ==
        "instance " + id +
            " keeps 10000 signals that no wait has taken yet, the most it keeps; it takes more "
            "once its waits have taken some");
  CHECK(send(h, id, "scan", 0, "scan-0").duplicate);  // a repeat is still answered
  h.close();
  h.open();
  CHECK(refusal("scan-extra").find("keeps 10000 signals") != std::string::npos);
  // The gate takes `go` as it comes, and `take` the oldest scan: room for one more.
  CHECK_FALSE(send(h, id, "go", nullptr, "go-1").duplicate);
  CHECK(h.row(id).step == "again");
  CHECK(h.context(id)["scan"] == 0);
  CHECK(refusal("scan-extra") == "accepted");
  CHECK(refusal("scan-extra-2").find("keeps 10000 signals") != std::string::npos);
  CHECK(count(h, id, EventType::signal_received) == kMaxPendingSignals + 2);
  send(h, id, "go", nullptr, "go-2");
  CHECK(h.row(id).status == InstanceStatus::completed);
}
