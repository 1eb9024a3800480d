// Operator actions over real HTTP: each one applied and audited with the token's name as the
// actor, refusals, bulk retry, and commands the offline CLI queues while the server runs.
#include <doctest/doctest.h>

#include <algorithm>

#include "tests/api/api_fixture.hpp"

using namespace rmaflow::testing;
using json = nlohmann::json;

namespace {

// The last operator_action event of the instance.
json last_action(ApiFixture& api, const std::string& id) {
  auto events = api.get("/v1/instances/" + id + "/history").body["events"];
  for (auto it = events.rbegin(); it != events.rend(); ++it) {
    if (it->value("type", "") == "operator_action") return (*it)["data"];
  }
  return nullptr;
}

std::string start(ApiFixture& api, const std::string& rma, bool fail, const std::string& status) {
  auto id = api.submit({{"rma_id", rma}, {"amount", 10}, {"fail", fail}}).body.value("id", "");
  api.await_status(id, status);
  return id;
}

ApiReply act(ApiFixture& api, const std::string& id, const std::string& action, json body,
             const std::string& role = "operator") {
  return api.post("/v1/instances/" + id + "/actions/" + action, body, role);
}

void check_audit(ApiFixture& api, const std::string& id, const std::string& action,
                 const std::string& reason, const std::string& actor = "operator") {
  auto audit = last_action(api, id);
  INFO("audit: ", audit.dump());
  REQUIRE(audit.is_object());
  CHECK(audit.value("action", "") == action);
  CHECK(audit.value("actor", "") == actor);
  CHECK(audit.value("reason", "") == reason);
  CHECK(audit["before"].is_object());
  CHECK(audit["after"].is_object());
}

}  // namespace

TEST_CASE("Api.Actions.EachAppliedAndAudited") {
  ApiFixture api;

  SUBCASE("retry") {
    auto id = start(api, "RMA-R", true, "suspended");
    auto r = act(api, id, "retry", {{"reason", "ERP is back"}});
    REQUIRE(r.status == 200);
    CHECK(r.body.value("action", "") == "retry");
    check_audit(api, id, "retry", "ERP is back");
    api.await_status(id, "completed");
  }
  SUBCASE("skip") {
    auto id = start(api, "RMA-S", true, "suspended");
    auto r = act(api, id, "skip", {{"reason", "credited by hand"}, {"output", {{"memo", "CM-1"}}}});
    REQUIRE(r.status == 200);
    check_audit(api, id, "skip", "credited by hand");
    auto done = api.await_status(id, "completed");
    CHECK(done["context"]["refund"] == json{{"memo", "CM-1"}});
  }
  SUBCASE("goto") {
    auto id = start(api, "RMA-G", false, "waiting");
    auto r = act(api, id, "goto", {{"reason", "parcel lost"}, {"step", "done"}});
    REQUIRE(r.status == 200);
    check_audit(api, id, "goto", "parcel lost");
    api.await_status(id, "completed");
    auto bad = act(api, start(api, "RMA-G2", false, "waiting"), "goto",
                   {{"reason", "x"}, {"step", "nowhere"}});
    check_problem(bad, 422, "invalid-field", "/step");
  }
  SUBCASE("cancel") {
    auto id = start(api, "RMA-C", false, "waiting");
    auto r = act(api, id, "cancel", {{"reason", "customer withdrew"}, {"compensate", false}});
    REQUIRE(r.status == 200);
    CHECK(r.body.value("status", "") == "cancelled");
    check_audit(api, id, "cancel", "customer withdrew");
    // Finished: every further action is refused.
    check_problem(act(api, id, "cancel", {{"reason", "again"}}), 409, "refused");
  }
  SUBCASE("patch") {
    auto id = start(api, "RMA-P", false, "waiting");
    auto r = act(api, id, "patch", {{"reason", "fix the note"}, {"patch", {{"note", "fragile"}}}});
    REQUIRE(r.status == 200);
    check_audit(api, id, "patch", "fix the note");
    CHECK(api.get("/v1/instances/" + id).body["context"]["note"] == "fragile");
    check_problem(act(api, id, "patch", {{"reason", "x"}, {"patch", {{"input", {{"amount", 0}}}}}}),
                  422, "invalid-field", "/patch/input");
  }
  SUBCASE("resolve") {
    auto id = start(api, "RMA-V", true, "suspended");
    auto r = act(api, id, "resolve", {{"reason", "handled in the ERP"}}, "admin");
    REQUIRE(r.status == 200);
    CHECK(r.body.value("status", "") == "failed");
    check_audit(api, id, "resolve", "handled in the ERP", "admin");
  }
}

TEST_CASE("Api.Actions.Refusals") {
  ApiFixture api;
  auto waiting = start(api, "RMA-W", false, "waiting");
  check_problem(act(api, waiting, "retry", {{"reason", "nothing failed"}}), 409, "refused");
  check_problem(act(api, waiting, "resolve", {{"reason", "no incident"}}), 409, "refused");
  check_problem(act(api, waiting, "retry", json::object()), 422, "invalid-field", "/reason");
  check_problem(act(api, waiting, "retry", {{"reason", "  "}}), 422, "invalid-field", "/reason");
  check_problem(act(api, waiting, "explode", {{"reason", "x"}}), 404, "not-found");
  check_problem(act(api, "01NOSUCHINSTANCE0000000000", "retry", {{"reason", "x"}}), 404,
                "not-found");
  // A refused action leaves no audit entry.
  CHECK(last_action(api, waiting).is_null());
}

TEST_CASE("Api.Actions.BulkRetryReportsWhatItDid") {
  ApiFixture api;
  std::vector<std::string> suspended;
  for (int i = 0; i < 5; ++i) suspended.push_back(start(api, "RMA-B" + std::to_string(i), true, "suspended"));
  auto waiting = start(api, "RMA-BW", false, "waiting");

  auto first = api.post("/v1/actions/retry",
                        {{"reason", "ERP outage over"}, {"limit", 3}, {"per_second", 50}}, "operator");
  REQUIRE(first.status == 200);
  CHECK(first.body.value("matched", 0) == 3);
  REQUIRE(first.body["retried"].size() == 3);
  CHECK(first.body["refused"].empty());
  CHECK(first.body["next_cursor"] == suspended[2]);
  auto rest = api.post("/v1/actions/retry",
                       {{"reason", "ERP outage over"}, {"cursor", first.body["next_cursor"]},
                        {"per_second", 50}},
                       "operator");
  REQUIRE(rest.status == 200);
  CHECK(rest.body["retried"].size() == 2);
  CHECK(rest.body["next_cursor"].is_null());
  for (const auto& id : suspended) {
    api.await_status(id, "completed");
    check_audit(api, id, "retry", "ERP outage over");
  }
  CHECK(api.get("/v1/instances/" + waiting).body.value("status", "") == "waiting");

  // Instances the engine refuses are reported, not skipped silently.
  auto refused = api.post("/v1/actions/retry",
                          {{"reason", "try"}, {"filter", {{"status", {"waiting"}}}}}, "operator");
  REQUIRE(refused.status == 200);
  REQUIRE(refused.body["refused"].size() == 1);
  CHECK(refused.body["refused"][0].value("id", "") == waiting);
  check_problem(api.post("/v1/actions/retry", {{"reason", "x"}, {"filter", {{"status", {"bogus"}}}}},
                         "operator"),
                422, "invalid-field", "/filter/status/0");
  check_problem(api.post("/v1/actions/retry", {{"reason", "x"}, {"filter", {{"stat", "x"}}}},
                         "operator"),
                422, "unknown-field", "/filter/stat");
}

TEST_CASE("Api.Actions.Issue16.PauseAndResumeEveryInstanceAFilterMatches") {
  ApiFixture api;
  std::vector<std::string> waiting;
  for (int i = 0; i < 4; ++i)
    waiting.push_back(start(api, "RMA-PA" + std::to_string(i), false, "waiting"));
  auto suspended = start(api, "RMA-PS", true, "suspended");

  // Only the waiting ones: the filter's status.
  auto paused = api.post(
      "/v1/actions/pause",
      {{"reason", "ERP maintenance"}, {"filter", {{"status", {"waiting"}}}}, {"per_second", 100}},
      "operator");
  REQUIRE_MESSAGE(paused.status == 200, paused.text);
  CHECK(paused.body.value("matched", 0) == 4);
  REQUIRE(paused.body["paused"].size() == 4);
  CHECK(paused.body["refused"].empty());
  auto listed = api.get("/v1/instances?paused=true").body["items"];
  REQUIRE(listed.size() == 4);
  for (const auto& item : listed) CHECK(item["paused_at"].is_string());
  CHECK(api.get("/v1/instances/" + suspended).body["paused_at"].is_null());
  for (const auto& id : waiting) check_audit(api, id, "pause", "ERP maintenance");
  // A pause is not forgotten: the stuck queue and the metrics show it.
  auto stuck = api.get("/v1/instances?stuck=true").body["items"];
  std::size_t stuck_paused = 0;
  for (const auto& item : stuck) {
    if (item.value("reason_kind", "") != "paused") continue;
    ++stuck_paused;
    CHECK(item.value("reason", "").rfind("paused since ", 0) == 0);
  }
  CHECK(stuck_paused == 4);
  auto metrics = api.get("/metrics").text;
  CHECK(metrics.find("\nrmaflow_instances_paused 4\n") != std::string::npos);
  CHECK(metrics.find("\nrmaflow_instances_stuck{reason=\"paused\"} 4\n") != std::string::npos);

  // A signal for a paused instance is kept until the resume.
  auto sent = api.post("/v1/instances/" + waiting[0] + "/signals/warehouse.received",
                       {{"payload", 1}}, "operator");
  REQUIRE_MESSAGE(sent.status < 300, sent.text);
  CHECK(api.get("/v1/instances/" + waiting[0]).body.value("status", "") == "waiting");

  // Resume takes the paused ones by default.
  auto resumed =
      api.post("/v1/actions/resume", {{"reason", "ERP back"}, {"per_second", 100}}, "operator");
  REQUIRE_MESSAGE(resumed.status == 200, resumed.text);
  CHECK(resumed.body.value("matched", 0) == 4);
  CHECK(resumed.body["resumed"].size() == 4);
  CHECK(api.get("/v1/instances?paused=true").body["items"].empty());
  CHECK(api.get("/metrics").text.find("\nrmaflow_instances_paused 0\n") != std::string::npos);
  api.await_status(waiting[0], "completed");
  CHECK(api.get("/v1/instances/" + waiting[1]).body.value("status", "") == "waiting");

  check_problem(api.post("/v1/actions/cancel", {{"reason", "x"}}, "operator"), 404, "not-found");
  check_problem(api.post("/v1/actions/pause", {{"reason", "x"}}, "viewer"), 403, "forbidden");
}

TEST_CASE("Api.Commands.QueuedOfflineArePickedUpWhileServing") {
  ApiFixture api;
  auto id = start(api, "RMA-Q", true, "suspended");
  auto queued = run_process({rmaflow_binary(), "retry", "--db", api.db, id, "--reason",
                             "queued from the shell", "--actor", "carol"});
  REQUIRE_MESSAGE(queued.exit_code == 0, queued.err);
  api.await_status(id, "completed");
  auto audit = last_action(api, id);
  CHECK(audit.value("actor", "") == "carol");
  CHECK(audit.value("reason", "") == "queued from the shell");
}
