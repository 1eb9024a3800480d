// Issue 16: pause and resume. A paused instance begins no step, starts no attempt and fires no
// timer; an attempt already out finishes and is recorded; signals are kept for it. On resume
// what came due fires (none early), held steps begin and kept signals are consumed.
#include <doctest/doctest.h>

#include <algorithm>

#include "tests/runtime/harness.hpp"

using namespace rmaflow;
using namespace rmaflow::testing;
using json = nlohmann::json;

namespace {

const char* kPauseFlow = R"(
workflow: paused
version: 1
start: label
steps:
  label:
    action: ext.create_label
    result: label
    retry: { max_attempts: 1 }
    compensate: { action: ext.void_label, with: { id: "${ .label.id }" }, retry: { max_attempts: 1 } }
    next: credit
  credit:
    action: ext.credit
    result: memo
    retry: { max_attempts: 3, interval: 1h }
    next: receipt
  receipt:
    wait: { signal: scan, timeout: 7d }
    result: scan
    on_timeout: expired
    next: done
  done: { end: completed }
  expired: { end: expired }
)";

constexpr Duration kHour = Duration(3'600'000);

std::size_t count(Harness& h, const std::string& id, EventType type) {
  auto types = h.event_types(id);
  return static_cast<std::size_t>(std::count(types.begin(), types.end(), type));
}

// An instance waiting at `receipt` (its 7-day timeout set at the current time).
std::string waiting_at_receipt(Harness& h) {
  h.ext->script("create_label", {ok({{"id", "L1"}})});
  h.ext->script("credit", {ok({{"memo", "CM-1"}})});
  auto id = h.start(json::object()).instance_id;
  REQUIRE(h.row(id).status == InstanceStatus::waiting);
  REQUIRE(h.row(id).step == "receipt");
  return id;
}

}  // namespace

TEST_CASE("Pause.Issue16.NoTimerFiresWhilePausedAndADueOneFiresOnResume") {
  Harness h(kPauseFlow);
  auto id = waiting_at_receipt(h);
  auto paused = h.act(id, ActionKind::pause);
  CHECK(paused.status == InstanceStatus::waiting);
  REQUIRE(h.row(id).paused_at.has_value());

  h.advance(8 * kDay);  // the timeout came due a day ago
  CHECK(h.row(id).status == InstanceStatus::waiting);
  CHECK(h.row(id).step == "receipt");
  CHECK(count(h, id, EventType::timer_fired) == 0);

  // Closed and opened again, as after a restart: still nothing fires.
  h.close();
  h.open();
  h.advance(kHour);
  CHECK(count(h, id, EventType::timer_fired) == 0);
  CHECK(h.row(id).paused_at.has_value());

  h.act(id, ActionKind::resume);
  CHECK_FALSE(h.row(id).paused_at.has_value());
  CHECK(count(h, id, EventType::timer_fired) == 1);
  CHECK(h.row(id).status == InstanceStatus::expired);
  check_contiguous(h.history(id));
}

TEST_CASE("Pause.Issue16.ATimerNotYetDueAtResumeFiresAtItsTimeNotEarlier") {
  Harness h(kPauseFlow);
  auto id = waiting_at_receipt(h);
  h.act(id, ActionKind::pause);
  h.advance(kDay);
  h.act(id, ActionKind::resume);
  h.advance(6 * kDay - Duration(1));
  CHECK(count(h, id, EventType::timer_fired) == 0);
  CHECK(h.row(id).status == InstanceStatus::waiting);
  h.advance(Duration(1));
  CHECK(count(h, id, EventType::timer_fired) == 1);
  CHECK(h.row(id).status == InstanceStatus::expired);
}

TEST_CASE("Pause.Issue16.ASignalIsKeptWhilePausedAndConsumedOnResume") {
  Harness h(kPauseFlow);
  auto id = waiting_at_receipt(h);
  h.act(id, ActionKind::pause);
  auto sent = h.signal(id, "scan", {{"parcel", "P1"}});
  CHECK_FALSE(sent.duplicate);
  h.idle();
  CHECK(count(h, id, EventType::signal_received) == 1);
  CHECK(count(h, id, EventType::signal_consumed) == 0);
  CHECK(h.row(id).step == "receipt");

  h.act(id, ActionKind::resume);
  CHECK(count(h, id, EventType::signal_consumed) == 1);
  CHECK(h.row(id).status == InstanceStatus::completed);
  CHECK(h.context(id)["scan"] == json{{"parcel", "P1"}});
}

TEST_CASE("Pause.Issue16.AnAttemptInFlightFinishesAndTheNextStepWaitsForResume") {
  Harness h(kPauseFlow);
  h.ext->script("create_label", {ok({{"id", "L1"}})});
  auto id = h.start(json::object()).instance_id;
  REQUIRE(h.ext->held() == 1);  // credit is out
  h.act(id, ActionKind::pause);

  h.ext->answer(ok({{"memo", "CM-9"}}));
  h.idle();
  // The answer is recorded; the next step is not entered.
  CHECK(h.context(id)["memo"] == json{{"memo", "CM-9"}});
  auto row = h.row(id);
  CHECK(row.step == "receipt");
  CHECK(row.main().phase == Phase::held);
  auto history = h.history(id);
  CHECK(history.back().type == EventType::step_completed);
  CHECK(history.back().step == "credit");

  h.advance(30 * kDay);  // nothing was set to fire: the wait has not begun
  CHECK(count(h, id, EventType::timer_set) == 0);

  h.act(id, ActionKind::resume);
  row = h.row(id);
  CHECK(row.step == "receipt");
  CHECK(row.main().phase == Phase::waiting);
  // The wait's timeout runs from the resume, as the step began then.
  h.advance(7 * kDay - Duration(1));
  CHECK(h.row(id).status == InstanceStatus::waiting);
  h.advance(Duration(1));
  CHECK(h.row(id).status == InstanceStatus::expired);
  check_contiguous(h.history(id));
}

TEST_CASE("Pause.Issue16.ARetryDueWhilePausedStartsOnResume") {
  Harness h(kPauseFlow);
  h.ext->script("create_label", {ok({{"id", "L1"}})});
  h.ext->script("credit", {transient()});
  auto id = h.start(json::object()).instance_id;
  REQUIRE(h.row(id).main().phase == Phase::backoff);
  h.act(id, ActionKind::pause);
  auto calls = h.ext->calls().size();

  h.advance(3 * kHour);
  CHECK(h.ext->calls().size() == calls);  // no second attempt while paused
  CHECK(h.row(id).main().phase == Phase::backoff);

  h.ext->script("credit", {ok({{"memo", "CM-2"}})});
  h.act(id, ActionKind::resume);
  CHECK(h.ext->calls().size() == calls + 1);
  CHECK(h.ext->calls().back().attempt == 2);
  CHECK(h.row(id).step == "receipt");
}

TEST_CASE("Pause.Issue16.ACompensationWaitsForResume") {
  Harness h(kPauseFlow);
  h.ext->script("create_label", {ok({{"id", "L1"}})});
  auto id = h.start(json::object()).instance_id;
  REQUIRE(h.ext->held() == 1);  // credit is out
  h.act(id, ActionKind::pause);
  h.act(id, ActionKind::cancel, {{"compensate", true}});
  // The label is not voided while paused.
  auto void_calls = [&] {
    auto calls = h.ext->calls();
    return std::count_if(calls.begin(), calls.end(),
                         [](const Invocation& c) { return c.operation == "void_label"; });
  };
  CHECK(void_calls() == 0);
  CHECK(h.row(id).status == InstanceStatus::compensating);

  h.ext->script("void_label", {ok()});
  h.act(id, ActionKind::resume);
  CHECK(void_calls() == 1);
  CHECK(h.row(id).status == InstanceStatus::cancelled);
}

TEST_CASE("Pause.Issue16.RefusedWhereItMeansNothing") {
  Harness h(kPauseFlow);
  auto refused = [&](const std::string& id, ActionKind kind, const std::string& says) {
    auto before = h.history(id).size();
    try {
      h.act(id, kind);
      FAIL(to_string(kind), " was not refused");
    } catch (const Error& e) {
      CHECK(e.code() == Errc::refused);
      CHECK_MESSAGE(std::string(e.what()).find(says) != std::string::npos, std::string(e.what()));
    }
    CHECK(h.history(id).size() == before);
  };
  auto id = waiting_at_receipt(h);
  refused(id, ActionKind::resume, "it is not paused");
  h.act(id, ActionKind::pause);
  refused(id, ActionKind::pause, "already paused");

  // The audit record names the action, and the pause in its before and after.
  auto history = h.history(id);
  auto audit = json::parse(history.back().data);
  CHECK(audit["action"] == "pause");
  CHECK(audit["actor"] == "ops");
  CHECK_FALSE(audit["before"].contains("paused"));
  CHECK(audit["after"]["paused"] == true);

  h.act(id, ActionKind::resume);
  h.signal(id, "scan", json::object());
  h.idle();
  REQUIRE(h.row(id).status == InstanceStatus::completed);
  refused(id, ActionKind::pause, "finished");

  // A retry means "run now", which a pause contradicts.
  h.ext->script("create_label", {ok({{"id", "L2"}})});
  h.ext->script("credit", {transient()});
  auto backoff = h.start(json::object()).instance_id;
  REQUIRE(h.row(backoff).main().phase == Phase::backoff);
  h.act(backoff, ActionKind::pause);
  refused(backoff, ActionKind::retry, "resume it first");
}
