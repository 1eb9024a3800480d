#include <doctest/doctest.h>

#include <algorithm>
#include <set>

#include "tests/runtime/harness.hpp"

using namespace rmaflow;
using namespace rmaflow::testing;
using json = nlohmann::json;

namespace {

std::string retry_flow(const std::string& retry, const std::string& extra = "") {
  return R"(
workflow: retry
version: 1
start: call
steps:
  call:
    action: ext.op
    timeout: 10s
    retry: )" + retry + R"(
    result: out
)" + extra + R"(
    next: done
  done: { end: completed }
)" + (extra.empty() ? "" : "  handled: { end: rejected }\n");
}

std::vector<json> events_of(Harness& h, const std::string& id, EventType type) {
  std::vector<json> out;
  for (const auto& e : h.history(id))
    if (e.type == type) out.push_back(json::parse(e.data));
  return out;
}

}  // namespace

TEST_CASE("Runtime.Retry.BackoffFollowsTheFormulaAndNeverFiresEarly") {
  Harness h(retry_flow("{ max_attempts: 4, interval: 1s, backoff: 2.0, max_interval: 3s }"));
  h.ext->script("op", {transient(), transient(), transient(), ok({{"n", 1}})});
  auto t0 = h.clock->now();
  auto id = h.start(json::object()).instance_id;
  CHECK(h.ext->calls().size() == 1);
  CHECK(h.row(id).main().phase == Phase::backoff);
  CHECK(h.engine->next_timer() == t0 + Duration(1000));

  // delay 1: interval * 2^0 = 1s
  h.advance(Duration(999));
  CHECK(h.ext->calls().size() == 1);
  h.advance(Duration(1));
  CHECK(h.ext->calls().size() == 2);
  // delay 2: 2s
  h.advance(Duration(1999));
  CHECK(h.ext->calls().size() == 2);
  h.advance(Duration(1));
  CHECK(h.ext->calls().size() == 3);
  // delay 3: 4s capped at max_interval 3s
  h.advance(Duration(2999));
  CHECK(h.ext->calls().size() == 3);
  h.advance(Duration(1));
  REQUIRE(h.ext->calls().size() == 4);

  CHECK(h.row(id).status == InstanceStatus::completed);
  auto calls = h.ext->calls();
  for (std::size_t i = 0; i < calls.size(); ++i) {
    CHECK(calls[i].attempt == static_cast<int>(i + 1));
    CHECK(calls[i].idempotency_key == id + ":call:1");  // stable across retries
  }
  auto scheduled = events_of(h, id, EventType::retry_scheduled);
  REQUIRE(scheduled.size() == 3);
  CHECK(scheduled[0]["delay"] == "1s");
  CHECK(scheduled[1]["delay"] == "2s");
  CHECK(scheduled[2]["delay"] == "3s");
  check_contiguous(h.history(id));
}

TEST_CASE("Runtime.Retry.ExhaustedRetriesSuspendWithAttemptCount") {
  Harness h(retry_flow("{ max_attempts: 3, interval: 1s, backoff: 1.0 }"));
  h.ext->script("op", {transient(), transient(), transient()});
  auto id = h.start(json::object()).instance_id;
  h.advance(Duration(1000));
  h.advance(Duration(1000));
  auto row = h.row(id);
  CHECK(row.status == InstanceStatus::suspended);
  CHECK(h.ext->calls().size() == 3);
  auto incident = testing::incident_of(row);
  CHECK(incident["attempts"] == 3);
  CHECK(incident["error"]["code"] == "Transient");
  CHECK_FALSE(h.engine->next_timer().has_value());
}

TEST_CASE("Runtime.Retry.BusinessErrorsAreNotRetriedUnlessNamed") {
  SUBCASE("not named: one attempt") {
    Harness h(retry_flow("{ max_attempts: 5, interval: 1s }"));
    h.ext->script("op", {business("NotEligible")});
    auto id = h.start(json::object()).instance_id;
    CHECK(h.row(id).status == InstanceStatus::suspended);
    CHECK(h.ext->calls().size() == 1);
  }
  SUBCASE("named in errors: retried") {
    Harness h(retry_flow("{ max_attempts: 5, interval: 1s, errors: [NotEligible] }"));
    h.ext->script("op", {business("NotEligible"), ok()});
    auto id = h.start(json::object()).instance_id;
    h.advance(Duration(1000));
    CHECK(h.row(id).status == InstanceStatus::completed);
    CHECK(h.ext->calls().size() == 2);
  }
  SUBCASE("errors without any: a retryable code not named is not retried") {
    Harness h(retry_flow("{ max_attempts: 5, interval: 1s, errors: [Timeout] }"));
    h.ext->script("op", {transient()});
    auto id = h.start(json::object()).instance_id;
    CHECK(h.row(id).status == InstanceStatus::suspended);
    CHECK(h.ext->calls().size() == 1);
  }
}

TEST_CASE("Runtime.Catch.AppliesAfterRetriesAreExhausted") {
  Harness h(retry_flow("{ max_attempts: 2, interval: 1s }",
                       "    catch:\n      - errors: [any]\n        next: handled\n"));
  h.ext->script("op", {transient(), transient()});
  auto id = h.start(json::object()).instance_id;
  CHECK(h.row(id).status == InstanceStatus::running);  // waiting for the retry
  h.advance(Duration(1000));
  auto row = h.row(id);
  CHECK(row.status == InstanceStatus::rejected);
  CHECK(h.context(id)["error"]["attempt"] == 2);
}

TEST_CASE("Runtime.Timeout.AttemptThatRunsTooLongFailsWithTimeout") {
  Harness h(retry_flow("{ max_attempts: 2, interval: 1s }"));
  auto id = h.start(json::object()).instance_id;
  CHECK(h.ext->held() == 1);
  h.advance(Duration(9999));
  CHECK(h.row(id).main().phase == Phase::invoking);
  h.advance(Duration(1));  // 10s: the attempt times out
  auto failed = events_of(h, id, EventType::attempt_failed);
  REQUIRE(failed.size() == 1);
  CHECK(failed[0]["error"]["code"] == "Timeout");
  CHECK(failed[0]["error"]["retryable"] == true);
  CHECK(h.row(id).main().phase == Phase::backoff);

  // The first attempt answers late: ignored.
  h.ext->answer(ok({{"late", true}}));
  h.idle();
  CHECK(h.row(id).main().phase == Phase::backoff);
  CHECK_FALSE(h.context(id).contains("out"));

  h.advance(Duration(1000));  // attempt 2
  CHECK(h.ext->held() == 1);
  h.ext->answer(ok({{"late", false}}));
  h.idle();
  CHECK(h.row(id).status == InstanceStatus::completed);
  CHECK(h.context(id)["out"]["late"] == false);
}

TEST_CASE("Runtime.Timeout.AnAnsweredAttemptLeavesNoTimerBehind") {
  Harness h(R"(
workflow: three
version: 1
start: a
steps:
  a: { action: ext.op, next: b }
  b: { action: ext.op, next: c }
  c: { action: ext.op, next: done }
  done: { end: completed }
)");
  // One instance's call stays out: its timeout is the earliest timer, and stays.
  auto slow = h.start(json::object()).instance_id;
  REQUIRE(h.ext->held() == 1);
  CHECK(h.engine->stats().timers_in_memory == 1);
  // Another runs its three calls to the end behind it. Each answered call's timeout goes with
  // the answer, not 30 s later: a busy engine holds the timeouts of the calls out, not of
  // every call of the last 30 s.
  h.ext->script("op", {ok(), ok(), ok()});
  auto quick = h.start(json::object()).instance_id;
  h.idle();
  REQUIRE(h.row(quick).status == InstanceStatus::completed);
  CHECK(h.engine->stats().timers_in_memory == 1);
  // The one left still times out.
  h.advance(Duration(30'000));
  CHECK(events_of(h, slow, EventType::attempt_failed).size() == 1);
}

TEST_CASE("Runtime.Retry.FullJitterStaysWithinTheDelay") {
  Harness h(retry_flow("{ max_attempts: 30, interval: 10s, backoff: 1.0, jitter: full }"));
  std::vector<Outcome> failures(29, transient());
  failures.push_back(ok());
  h.ext->script("op", failures);
  auto id = h.start(json::object()).instance_id;
  std::set<std::string> delays;
  while (h.row(id).status == InstanceStatus::running) {
    auto due = h.engine->next_timer();
    REQUIRE(due.has_value());
    auto wait = *due - h.clock->now();
    CHECK(wait >= Duration(0));
    CHECK(wait <= Duration(10'000));
    h.advance(wait);
  }
  for (const auto& e : events_of(h, id, EventType::retry_scheduled)) delays.insert(e["delay"]);
  CHECK(delays.size() > 5);  // drawn, not constant
  CHECK(h.row(id).status == InstanceStatus::completed);
}

TEST_CASE("Runtime.Idempotency.KeyIsFreshForEachVisit") {
  Harness h(R"(
workflow: loop
version: 1
start: call
steps:
  call:
    action: ext.op
    result: out
    next: again
  again:
    switch:
      - if: .out.more
        next: call
    default: done
  done: { end: completed }
)");
  h.ext->script("op", {ok({{"more", true}}), ok({{"more", true}}), ok({{"more", false}})});
  auto id = h.start(json::object()).instance_id;
  CHECK(h.row(id).status == InstanceStatus::completed);
  auto calls = h.ext->calls();
  REQUIRE(calls.size() == 3);
  CHECK(calls[0].idempotency_key == id + ":call:1");
  CHECK(calls[1].idempotency_key == id + ":call:2");
  CHECK(calls[2].idempotency_key == id + ":call:3");
}

TEST_CASE("Runtime.LoopLimit.SetAndSwitchLoopSuspends") {
  Harness h(R"(
workflow: spin
version: 1
start: a
steps:
  a:
    set: { n: 1 }
    next: b
  b:
    switch:
      - if: .n == 1
        next: a
    default: done
  done: { end: completed }
)");
  auto id = h.start(json::object()).instance_id;
  auto row = h.row(id);
  CHECK(row.status == InstanceStatus::suspended);
  CHECK(testing::incident_of(row)["error"]["code"] == "LoopLimit");
}
