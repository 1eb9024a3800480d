// Operator actions over real HTTP: each one applied and audited with the token's name as the
// actor, refusals, bulk jobs, and commands the offline CLI queues while the server runs.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>

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

json check_audit(ApiFixture& api, const std::string& id, const std::string& action,
                 const std::string& reason, const std::string& actor = "operator") {
  auto audit = last_action(api, id);
  INFO("audit: ", audit.dump());
  REQUIRE(audit.is_object());
  CHECK(audit.value("action", "") == action);
  CHECK(audit.value("actor", "") == actor);
  CHECK(audit.value("reason", "") == reason);
  CHECK(audit["before"].is_object());
  CHECK(audit["after"].is_object());
  return audit;
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

// The job's items: what it did to each instance, by instance id.
std::map<std::string, json> job_items(ApiFixture& api, const std::string& job) {
  std::map<std::string, json> out;
  auto reply = api.get("/v1/jobs/" + job + "/items");
  INFO("items: ", reply.text);
  REQUIRE(reply.status == 200);
  for (const auto& item : reply.body["items"]) out[item.value("instance_id", "")] = item;
  return out;
}

TEST_CASE("Api.Jobs.Issue16.BulkRetryIsAStoredJobWithAnOutcomePerInstance") {
  ApiFixture api;
  std::vector<std::string> suspended;
  for (int i = 0; i < 5; ++i) suspended.push_back(start(api, "RMA-B" + std::to_string(i), true, "suspended"));
  auto waiting = start(api, "RMA-BW", false, "waiting");

  // A dry run lists what the job would touch, a page at a time, and stores nothing.
  auto dry = api.post(
      "/v1/jobs",
      {{"action", "retry"}, {"reason", "ERP outage over"}, {"dry_run", true}, {"limit", 3}},
      "operator");
  REQUIRE_MESSAGE(dry.status == 200, dry.text);
  REQUIRE(dry.body["instances"].size() == 3);
  CHECK(dry.body["instances"][0].value("id", "") == suspended[0]);
  CHECK(dry.body["next_cursor"] == suspended[2]);
  CHECK(dry.body["filter"]["status"] == json::array({"suspended"}));
  auto page2 = api.post("/v1/jobs",
                        {{"action", "retry"},
                         {"reason", "ERP outage over"},
                         {"dry_run", true},
                         {"cursor", suspended[2]}},
                        "operator");
  CHECK(page2.body["instances"].size() == 2);
  CHECK(page2.body["next_cursor"].is_null());
  CHECK(api.get("/v1/jobs").body["jobs"].empty());

  auto started =
      api.post("/v1/jobs", {{"action", "retry"}, {"reason", "ERP outage over"}, {"per_second", 50}},
               "operator");
  REQUIRE_MESSAGE(started.status == 201, started.text);
  auto job_id = started.body.value("id", "");
  CHECK(started.body.value("state", "") == "running");
  CHECK(started.body.value("actor", "") == "operator");
  auto job = api.await_job(job_id);
  CHECK(job.value("state", "") == "finished");
  CHECK(job.value("applied", 0) == 5);
  CHECK(job.value("refused", 0) == 0);
  CHECK(job.value("last_instance", "") == suspended.back());
  auto items = job_items(api, job_id);
  REQUIRE(items.size() == 5);
  for (const auto& id : suspended) {
    CHECK(items[id].value("outcome", "") == "applied");
    api.await_status(id, "completed");
    auto audit = check_audit(api, id, "retry", "ERP outage over", "operator");
    CHECK(audit.value("job", "") == job_id);
  }
  CHECK(api.get("/v1/instances/" + waiting).body.value("status", "") == "waiting");
  CHECK(api.get("/v1/jobs").body["jobs"][0].value("id", "") == job_id);

  // Instances the engine refuses are reported with the reason, not skipped silently.
  auto refusing = api.post(
      "/v1/jobs", {{"action", "retry"}, {"reason", "try"}, {"filter", {{"status", {"waiting"}}}}},
      "operator");
  REQUIRE(refusing.status == 201);
  auto refused_job = api.await_job(refusing.body.value("id", ""));
  CHECK(refused_job.value("refused", 0) == 1);
  auto refused =
      api.get("/v1/jobs/" + refusing.body.value("id", "") + "/items?outcome=refused").body["items"];
  REQUIRE(refused.size() == 1);
  CHECK(refused[0].value("instance_id", "") == waiting);
  CHECK(refused[0].value("detail", "").find("only a suspended step") != std::string::npos);

  check_problem(
      api.post("/v1/jobs",
               {{"action", "retry"}, {"reason", "x"}, {"filter", {{"status", {"bogus"}}}}},
               "operator"),
      422, "invalid-field", "/filter");
  check_problem(
      api.post("/v1/jobs", {{"action", "retry"}, {"reason", "x"}, {"filter", {{"stat", "x"}}}},
               "operator"),
      422, "invalid-field", "/filter");
  check_problem(api.post("/v1/jobs", {{"action", "explode"}, {"reason", "x"}}, "operator"), 422,
                "invalid-field", "/action");
  check_problem(api.post("/v1/jobs", {{"action", "retry"}, {"reason", "x"}, {"per_second", 5000}},
                         "operator"),
                422, "invalid-field", "/per_second");
  check_problem(api.post("/v1/jobs", {{"action", "signal"}, {"reason", "x"}}, "operator"), 422,
                "invalid-field", "/args/name");
  check_problem(
      api.post("/v1/jobs", {{"action", "retry"}, {"reason", "x"}, {"args", {{"input", 1}}}},
               "operator"),
      422, "invalid-field", "/args/input");
  check_problem(api.post("/v1/jobs", {{"action", "retry"}, {"reason", "x"}}, "viewer"), 403,
                "forbidden");
  check_problem(api.get("/v1/jobs/job-nosuch"), 404, "not-found");
  check_problem(api.get("/v1/jobs/" + job_id + "/items?outcome=bogus"), 400, "invalid-parameter");
  check_problem(api.post("/v1/jobs/" + job_id + "/cancel", {{"reason", "late"}}, "operator"), 409,
                "refused");
}

TEST_CASE("Api.Jobs.Issue16.PauseAndResumeEveryInstanceAFilterMatches") {
  ApiFixture api;
  std::vector<std::string> waiting;
  for (int i = 0; i < 4; ++i)
    waiting.push_back(start(api, "RMA-PA" + std::to_string(i), false, "waiting"));
  auto suspended = start(api, "RMA-PS", true, "suspended");

  // Only the waiting ones: the filter's status.
  auto paused = api.post("/v1/jobs",
                         {{"action", "pause"},
                          {"reason", "ERP maintenance"},
                          {"filter", {{"status", {"waiting"}}}},
                          {"per_second", 100}},
                         "operator");
  REQUIRE_MESSAGE(paused.status == 201, paused.text);
  auto pause_job = api.await_job(paused.body.value("id", ""));
  CHECK(pause_job.value("applied", 0) == 4);
  CHECK(pause_job.value("refused", 0) == 0);
  auto listed = api.get("/v1/instances?paused=true").body["items"];
  REQUIRE(listed.size() == 4);
  for (const auto& item : listed) CHECK(item["paused_at"].is_string());
  CHECK(api.get("/v1/instances/" + suspended).body["paused_at"].is_null());
  for (const auto& id : waiting) check_audit(api, id, "pause", "ERP maintenance", "operator");
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
  auto resumed = api.post(
      "/v1/jobs", {{"action", "resume"}, {"reason", "ERP back"}, {"per_second", 100}}, "operator");
  REQUIRE_MESSAGE(resumed.status == 201, resumed.text);
  CHECK(api.await_job(resumed.body.value("id", "")).value("applied", 0) == 4);
  CHECK(api.get("/v1/instances?paused=true").body["items"].empty());
  CHECK(api.get("/metrics").text.find("\nrmaflow_instances_paused 0\n") != std::string::npos);
  api.await_status(waiting[0], "completed");
  CHECK(api.get("/v1/instances/" + waiting[1]).body.value("status", "") == "waiting");
}

TEST_CASE("Api.Jobs.Issue16.SignalAndCancelJobs") {
  ApiFixture api;
  std::vector<std::string> waiting;
  for (int i = 0; i < 3; ++i)
    waiting.push_back(start(api, "RMA-SJ" + std::to_string(i), false, "waiting"));
  // A signal to every waiting instance of a workflow, once each.
  auto signalled =
      api.post("/v1/jobs",
               {{"action", "signal"},
                {"reason", "parcels scanned in bulk"},
                {"filter", {{"workflow", "returns"}}},
                {"args", {{"name", "warehouse.received"}, {"payload", {{"ok", true}}}}},
                {"per_second", 100}},
               "operator");
  REQUIRE_MESSAGE(signalled.status == 201, signalled.text);
  CHECK(api.await_job(signalled.body.value("id", "")).value("applied", 0) == 3);
  for (const auto& id : waiting) api.await_status(id, "completed");

  // A slow cancel job, cancelled itself before it reached every instance.
  std::vector<std::string> more;
  for (int i = 0; i < 4; ++i)
    more.push_back(start(api, "RMA-CJ" + std::to_string(i), false, "waiting"));
  auto slow = api.post("/v1/jobs",
                       {{"action", "cancel"},
                        {"reason", "customer withdrew"},
                        {"args", {{"compensate", true}}},
                        {"per_second", 0.2}},
                       "operator");
  REQUIRE_MESSAGE(slow.status == 201, slow.text);
  auto slow_id = slow.body.value("id", "");
  auto cancelled =
      api.post("/v1/jobs/" + slow_id + "/cancel", {{"reason", "wrong filter"}}, "operator");
  REQUIRE_MESSAGE(cancelled.status == 200, cancelled.text);
  CHECK(cancelled.body.value("state", "") == "cancelled");
  CHECK(cancelled.body.value("cancelled_by", "") == "operator");
  CHECK(cancelled.body.value("cancel_reason", "") == "wrong filter");
  auto touched = cancelled.body.value("applied", 0) + cancelled.body.value("refused", 0);
  CHECK(touched < 4);
  // What it did before the cancel is all it did.
  auto stored = api.get("/v1/jobs/" + slow_id).body;
  CHECK(stored.value("state", "") == "cancelled");
  CHECK(static_cast<int>(job_items(api, slow_id).size()) == touched);
  int still_waiting = 0;
  for (const auto& id : more)
    still_waiting += api.get("/v1/instances/" + id).body.value("status", "") == "waiting";
  CHECK(still_waiting == 4 - touched);
  check_problem(api.post("/v1/jobs/" + slow_id + "/cancel", {{"reason", "again"}}, "operator"), 409,
                "refused");
  check_problem(api.post("/v1/jobs/job-nosuch/cancel", {{"reason", "x"}}, "operator"), 404,
                "not-found");
  check_problem(api.post("/v1/jobs/" + slow_id + "/cancel", json::object(), "operator"), 422,
                "invalid-field", "/reason");
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
