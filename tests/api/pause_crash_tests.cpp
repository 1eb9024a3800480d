// Issue 16: pause survives SIGKILL. The real server is killed with instances paused before
// their timers came due, killed again after, and killed right after they were resumed: no
// timer fires while an instance is paused, none is lost, and each fires once, never early.
#include <doctest/doctest.h>

#include <csignal>

#include <fmt/format.h>

#include "tests/api/api_fixture.hpp"

using namespace rmaflow;
using namespace rmaflow::testing;
using json = nlohmann::json;

namespace {

const char* kCooling = R"(workflow: cooling
version: 1
business_key: ${ .input.rma_id }
start: authorize
steps:
  authorize: { action: builtin.noop, result: authorization, next: cool_off }
  cool_off:
    wait: { duration: 1500ms }
    next: credit
  credit: { action: builtin.noop, result: memo, next: done }
  done: { end: completed }
)";

std::string start(ApiFixture& api, const std::string& rma) {
  auto reply = api.submit({{"rma_id", rma}}, "cooling");
  REQUIRE_MESSAGE(reply.status == 201, reply.text);
  return reply.body.value("id", "");
}

void act(ApiFixture& api, const std::string& id, const std::string& action) {
  auto reply = api.post("/v1/instances/" + id + "/actions/" + action,
                        {{"reason", "the ERP is down for maintenance"}}, "operator");
  REQUIRE_MESSAGE(reply.status == 200, reply.text);
}

// Each paused instance still waits at cool_off with its timer, which has not fired.
void check_still_paused(ApiFixture& api, const std::vector<std::string>& ids) {
  for (const auto& id : ids) {
    INFO(id);
    auto instance = api.get("/v1/instances/" + id).body;
    CHECK(instance.value("status", "") == "waiting");
    CHECK(instance.value("step", "") == "cool_off");
    CHECK(instance["paused_at"].is_string());
    auto events = history(api, id);
    CHECK(events_of(events, "timer_fired").empty());
    CHECK(events_of(events, "timer_set").size() == 1);
  }
}

}  // namespace

TEST_CASE("Api.Crash.Issue16.NoTimerFiresWhilePausedAcrossKillsAndEachFiresOnceAfterResume") {
  ApiFixture api(WorkflowFiles{{"cooling.yaml", kCooling}});
  std::vector<std::string> ids;
  for (int i = 0; i < 6; ++i) ids.push_back(start(api, fmt::format("RMA-P{}", i)));
  for (const auto& id : ids) api.await_status(id, "waiting");
  for (const auto& id : ids) act(api, id, "pause");  // answered once committed

  CHECK(api.server->stop(SIGKILL) == -SIGKILL);
  api.start();
  // A control started after them waits as long: once it has gone on, their timers were due.
  api.await_status(start(api, "RMA-CONTROL-1"), "completed");
  check_still_paused(api, ids);

  // Killed again with their timers past due: the restart fires none of them either.
  CHECK(api.server->stop(SIGKILL) == -SIGKILL);
  api.start();
  api.await_status(start(api, "RMA-CONTROL-2"), "completed");
  check_still_paused(api, ids);

  // Resumed, then killed at once: whether a timer fired before the kill or after the restart,
  // each fires exactly once, after its due time and after the resume, and credit runs once.
  for (const auto& id : ids) act(api, id, "resume");
  CHECK(api.server->stop(SIGKILL) == -SIGKILL);
  api.start();
  for (const auto& id : ids) {
    INFO(id);
    api.await_status(id, "completed");
    auto events = history(api, id);
    auto fired = events_of(events, "timer_fired");
    auto set = events_of(events, "timer_set");
    REQUIRE(fired.size() == 1);
    REQUIRE(set.size() == 1);
    CHECK(fired[0].value("at", "") >= set[0]["data"].value("due", ""));
    auto actions = events_of(events, "operator_action");
    REQUIRE(actions.size() == 2);
    CHECK(actions[0]["data"].value("action", "") == "pause");
    CHECK(actions[1]["data"].value("action", "") == "resume");
    CHECK(actions[1].value("seq", 0) < fired[0].value("seq", 0));
    std::size_t credits = 0;
    for (const auto& e : events_of(events, "attempt_started")) credits += e.value("step", "") == "credit";
    CHECK(credits == 1);
    for (std::size_t i = 0; i < events.size(); ++i) CHECK(events[i].value("seq", 0) == int(i) + 1);
  }
}
