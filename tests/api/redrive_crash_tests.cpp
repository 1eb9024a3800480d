// Issue 16: redrive survives SIGKILL. Failed instances are redriven over the API and the real
// server is killed as soon as each redrive is answered: after the restart every one of them
// runs on from the step that failed, under a new idempotency key, exactly once; the steps
// before it are not called again, and the history records one redrive and no gap.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <csignal>

#include "tests/api/api_fixture.hpp"

using namespace rmaflow;
using namespace rmaflow::testing;
using json = nlohmann::json;

namespace {

// The refund fails as often as .erp_failures says (per idempotency key): once, unless a patch
// says otherwise.
const char* kRefunds = R"(workflow: refunds
version: 1
business_key: ${ .input.rma_id }
start: policy
steps:
  policy: { set: { erp_failures: 1 }, next: authorize }
  authorize: { action: builtin.noop, result: authorization, next: refund }
  refund:
    action: builtin.fail
    with: { code: ErpDown, times: "${ .erp_failures }", retryable: false }
    retry: { max_attempts: 1 }
    result: refund
    next: done
  done: { end: completed }
)";

ApiReply act(ApiFixture& api, const std::string& id, const std::string& action, json body) {
  body["reason"] = "the ERP is back";
  return api.post("/v1/instances/" + id + "/actions/" + action, body, "operator");
}

}  // namespace

TEST_CASE("Api.Crash.Issue16.ARedriveAnsweredBeforeAKillRunsOnceAfterTheRestart") {
  ApiFixture api(WorkflowFiles{{"refunds.yaml", kRefunds}});
  std::vector<std::string> ids;
  for (int i = 0; i < 4; ++i) {
    auto reply = api.submit({{"rma_id", fmt::format("RMA-R{}", i)}}, "refunds");
    REQUIRE_MESSAGE(reply.status == 201, reply.text);
    ids.push_back(reply.body.value("id", ""));
  }
  for (const auto& id : ids) {
    api.await_status(id, "suspended");
    REQUIRE(act(api, id, "resolve", json::object()).status == 200);
    api.await_status(id, "failed");
  }

  // A redrive at a step its workflow lacks is refused; nothing is stored.
  auto refused = act(api, ids[0], "redrive", {{"step", "nowhere"}});
  check_problem(refused, 404, "not-found");

  for (const auto& id : ids) {
    auto reply = act(api, id, "redrive", {{"patch", {{"erp_failures", 0}}}});
    REQUIRE_MESSAGE(reply.status == 200, reply.text);
    CHECK(reply.body.value("action", "") == "redrive");
  }
  CHECK(api.server->stop(SIGKILL) == -SIGKILL);
  api.start();

  for (const auto& id : ids) {
    INFO(id);
    api.await_status(id, "completed");
    auto events = history(api, id);
    auto actions = events_of(events, "operator_action");
    REQUIRE(actions.size() == 2);
    CHECK(actions[1]["data"].value("action", "") == "redrive");
    CHECK(actions[1]["data"]["args"].value("step", "") == "refund");
    CHECK(actions[1]["data"]["before"].value("status", "") == "failed");
    CHECK(events_of(events, "attempt_started", "authorize").size() == 1);
    auto refunds = events_of(events, "attempt_started", "refund");
    REQUIRE(refunds.size() >= 2);
    CHECK(refunds[0]["data"].value("idempotency_key", "") == id + ":refund:1");
    for (std::size_t i = 1; i < refunds.size(); ++i) {
      CHECK(refunds[i]["data"].value("idempotency_key", "") == id + ":refund:2");
    }
    // Made again after the restart at most: never a second attempt of its own.
    CHECK(events_of(events, "attempt_failed", "refund").size() == 1);
    CHECK(events_of(events, "step_completed", "refund").size() == 1);
    CHECK(events_of(events, "instance_ended").size() == 2);
    for (std::size_t i = 0; i < events.size(); ++i) CHECK(events[i].value("seq", 0) == int(i) + 1);
  }
}
