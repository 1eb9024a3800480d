// Queries over real HTTP: filters, keyset pagination that stays stable while instances are
// created, one instance, its history; and the workflows: list, one version with its graph,
// deploy through the API.
#include <doctest/doctest.h>

#include <chrono>
#include <future>
#include <set>

#include "tests/api/api_fixture.hpp"

using namespace rmaflow::testing;
using json = nlohmann::json;

namespace {

std::vector<std::string> ids_of(const json& items) {
  std::vector<std::string> ids;
  for (const auto& item : items) ids.push_back(item.value("id", ""));
  return ids;
}

}  // namespace

TEST_CASE("Api.List.PaginationIsStableWhileInstancesArrive") {
  ApiFixture api;
  std::vector<std::string> before;
  for (int i = 0; i < 23; ++i) {
    before.push_back(api.submit({{"rma_id", "RMA-" + std::to_string(100 + i)}, {"amount", i}})
                         .body.value("id", ""));
  }
  std::vector<std::string> seen;
  std::string cursor;
  int added = 0;
  for (int page = 0; page < 50; ++page) {
    auto reply = api.get("/v1/instances?limit=5" + (cursor.empty() ? "" : "&cursor=" + cursor));
    REQUIRE(reply.status == 200);
    auto ids = ids_of(reply.body["items"]);
    CHECK(ids.size() <= 5);
    seen.insert(seen.end(), ids.begin(), ids.end());
    // New instances arrive between pages; they sort after every page already served.
    api.submit({{"rma_id", "RMA-NEW-" + std::to_string(added++)}, {"amount", 1}});
    if (reply.body["next_cursor"].is_null()) break;
    cursor = reply.body["next_cursor"].get<std::string>();
    CHECK(cursor == ids.back());
  }
  // Ascending, no instance twice, every instance that existed before the first page.
  CHECK(std::is_sorted(seen.begin(), seen.end()));
  CHECK(std::set<std::string>(seen.begin(), seen.end()).size() == seen.size());
  for (const auto& id : before) CHECK(std::find(seen.begin(), seen.end(), id) != seen.end());
  check_problem(api.get("/v1/instances?limit=0"), 400, "invalid-parameter");
  check_problem(api.get("/v1/instances?limit=1001"), 400, "invalid-parameter");
}

TEST_CASE("Api.List.Filters") {
  ApiFixture api;
  auto waiting = api.submit({{"rma_id", "RMA-1"}, {"amount", 1}}).body.value("id", "");
  auto suspended = api.submit({{"rma_id", "RMA-2"}, {"amount", 2}, {"fail", true}}).body.value("id", "");
  api.await_status(waiting, "waiting");
  api.await_status(suspended, "suspended");
  auto one = [&](const std::string& query) {
    auto reply = api.get("/v1/instances?" + query);
    INFO(query, " -> ", reply.text);
    REQUIRE(reply.status == 200);
    return ids_of(reply.body["items"]);
  };
  using Ids = std::vector<std::string>;
  CHECK(one("status=waiting") == Ids{waiting});
  CHECK(one("status=waiting,suspended") == Ids{waiting, suspended});
  CHECK(one("workflow=returns&version=1").size() == 2);
  CHECK(one("workflow=other").empty());
  CHECK(one("step=refund") == Ids{suspended});
  CHECK(one("business_key=RMA-2") == Ids{suspended});
  CHECK(one("created_after=2000-01-01T00:00:00Z&created_before=2999-01-01T00:00:00Z").size() == 2);
  CHECK(one("created_after=2999-01-01T00:00:00Z").empty());
  auto stuck = api.get("/v1/instances?stuck=true");
  REQUIRE(stuck.body["items"].size() == 1);
  CHECK(stuck.body["items"][0].value("id", "") == suspended);
  CHECK(stuck.body["items"][0].value("reason", "").find("ErpDown") != std::string::npos);

  auto bad = api.get("/v1/instances?status=sleeping");
  check_problem(bad, 400, "invalid-parameter");
  CHECK(bad.body.value("parameter", "") == "status");
  check_problem(api.get("/v1/instances?created_after=yesterday"), 400, "invalid-parameter");
  check_problem(api.get("/v1/instances?colour=red"), 400, "invalid-parameter");
  check_problem(api.get("/v1/instances?stuck=true&status=waiting"), 400, "invalid-parameter");
}

TEST_CASE("Api.Instance.OneAndItsHistory") {
  ApiFixture api;
  auto id = api.submit({{"rma_id", "RMA-5"}, {"amount", 5}, {"fail", true}}).body.value("id", "");
  auto row = api.await_status(id, "suspended");
  CHECK(row.value("workflow", "") == "returns");
  CHECK(row.value("version", 0) == 1);  // the version it is pinned to
  CHECK(row.value("step", "") == "refund");
  CHECK(row["incident"]["error"].value("code", "") == "ErpDown");
  CHECK(row["context"]["authorization"] == json{{"rma", "RMA-5"}});
  auto history = api.get("/v1/instances/" + id + "/history");
  REQUIRE(history.status == 200);
  auto events = history.body["events"];
  REQUIRE(events.size() > 3);
  CHECK(events[0].value("type", "") == "instance_started");
  for (std::size_t i = 0; i < events.size(); ++i) CHECK(events[i].value("seq", 0) == int(i + 1));
  check_problem(api.get("/v1/instances/01NOSUCHINSTANCE0000000000"), 404, "not-found");
  check_problem(api.get("/v1/instances/01NOSUCHINSTANCE0000000000/history"), 404, "not-found");
}

TEST_CASE("Api.Instance.Issue19.WaitAnswersOnceTheInstanceEnds") {
  ApiFixture api;
  auto id = api.submit({{"rma_id", "RMA-W1"}, {"amount", 5}}).body.value("id", "");
  api.await_status(id, "waiting");

  // A wait that runs out answers the instance as it stands: the same view as without one.
  auto out = api.get("/v1/instances/" + id + "?wait=1");
  REQUIRE(out.status == 200);
  CHECK(out.body.value("status", "") == "waiting");
  CHECK(out.body.value("step", "") == "await_receipt");
  CHECK(out.body.contains("context"));

  // A wait out while the parcel arrives is answered with the end (its own connection: the
  // fixture's client is this thread's).
  auto token = api.token("viewer");
  auto port = api.server->port();
  auto waited = std::async(std::launch::async, [token, port, id] {
    rmaflow::net::HttpClient client;
    rmaflow::net::HttpRequest request;
    request.method = "GET";
    request.target = "/v1/instances/" + id + "?wait=25";
    request.headers.set("Authorization", "Bearer " + token);
    return client.request(rmaflow::net::HttpEndpoint{"127.0.0.1", port}, request,
                          std::chrono::seconds(40));
  });
  REQUIRE(
      api.post("/v1/instances/" + id + "/signals/warehouse.received", json::object(), "operator")
          .status == 202);
  auto result = waited.get();
  REQUIRE_MESSAGE(result.ok(), result.message);
  CHECK(result.response.status == 200);
  auto body = json::parse(result.response.body);
  CHECK(body.value("status", "") == "completed");
  CHECK_FALSE(body["ended_at"].is_null());

  // An ended instance is answered at once; an unknown one is refused at once; a wait beyond
  // the longest, or not a number of seconds, is refused naming the parameter.
  auto again = api.get("/v1/instances/" + id + "?wait=60");
  CHECK(again.status == 200);
  CHECK(again.body.value("status", "") == "completed");
  check_problem(api.get("/v1/instances/01NOSUCHINSTANCE0000000000?wait=5"), 404, "not-found");
  auto too_long = api.get("/v1/instances/" + id + "?wait=61");
  check_problem(too_long, 400, "invalid-parameter");
  CHECK(too_long.text.find("wait") != std::string::npos);
  check_problem(api.get("/v1/instances/" + id + "?wait=soon"), 400, "invalid-parameter");
}

TEST_CASE("Api.Instance.Issue19.AStartThatWaitsIsAnsweredAtTheInstancesEnd") {
  const char* express = R"(workflow: express
version: 1
business_key: ${ .input.rma_id }
start: authorize
steps:
  authorize:
    action: builtin.noop
    with: { rma: "${ .input.rma_id }" }
    result: authorization
    next: label
  label:
    action: builtin.noop
    with: { rma: "${ .input.rma_id }" }
    result: label
    next: done
  done: { end: completed }
)";
  ApiFixture api(WorkflowFiles{{"returns.yaml", kReturnsWorkflow}, {"express.yaml", express}});
  json start = {{"workflow", "express"}, {"input", {{"rma_id", "RMA-SW1"}}}};

  // Started and answered once ended, in one request: 201, where it lives, and its view, the
  // same as a GET of it answers.
  auto ended = api.post("/v1/instances?wait=30", start, "submitter");
  REQUIRE_MESSAGE(ended.status == 201, ended.text);
  auto id = ended.body.value("id", "");
  CHECK(ended.headers.get("Location") == "/v1/instances/" + id);
  CHECK(ended.body.value("status", "") == "completed");
  CHECK_FALSE(ended.body["ended_at"].is_null());
  CHECK(ended.body["context"]["label"] == json{{"rma", "RMA-SW1"}});
  CHECK(ended.body == api.get("/v1/instances/" + id).body);

  // The same start again is the same instance, answered 200 at once (it has ended).
  auto again = api.post("/v1/instances?wait=30", start, "submitter");
  REQUIRE_MESSAGE(again.status == 200, again.text);
  CHECK(again.body.value("id", "") == id);
  CHECK(again.body.value("status", "") == "completed");

  // A wait that runs out answers the instance as it stands; it goes on.
  auto waiting = api.post(
      "/v1/instances?wait=1",
      {{"workflow", "returns"}, {"input", {{"rma_id", "RMA-SW2"}, {"amount", 5}}}}, "submitter");
  REQUIRE_MESSAGE(waiting.status == 201, waiting.text);
  CHECK(waiting.body.value("status", "") == "waiting");
  CHECK(waiting.body.value("step", "") == "await_receipt");

  // Without a wait (or wait=0) the answer is the start's, at its commit.
  auto at_once =
      api.post("/v1/instances?wait=0",
               {{"workflow", "express"}, {"input", {{"rma_id", "RMA-SW3"}}}}, "submitter");
  REQUIRE_MESSAGE(at_once.status == 201, at_once.text);
  CHECK(at_once.body ==
        json{{"id", at_once.body.value("id", "")}, {"version", 1}, {"created", true}});

  // A wait beyond the longest, not a number, or a parameter the start does not take is
  // refused naming it, and nothing is started.
  json refused_start = {{"workflow", "express"}, {"input", {{"rma_id", "RMA-SW4"}}}};
  auto too_long = api.post("/v1/instances?wait=61", refused_start, "submitter");
  check_problem(too_long, 400, "invalid-parameter");
  CHECK(too_long.text.find("wait") != std::string::npos);
  check_problem(api.post("/v1/instances?wait=soon", refused_start, "submitter"), 400,
                "invalid-parameter");
  auto unknown = api.post("/v1/instances?wiat=5", refused_start, "submitter");
  REQUIRE(unknown.status == 400);
  CHECK(unknown.text.find("wiat") != std::string::npos);
  CHECK(api.get("/v1/instances?business_key=RMA-SW4").body["items"].empty());
  // A body the start refuses is refused as without a wait.
  check_problem(api.post("/v1/instances?wait=5", {{"workflow", "express"}}, "submitter"), 422,
                "invalid-field", "/input");
}

TEST_CASE("Api.Workflows.ListGetDeploy") {
  ApiFixture api;
  auto list = api.get("/v1/workflows");
  REQUIRE(list.status == 200);
  REQUIRE(list.body["items"].size() == 1);
  CHECK(list.body["items"][0].value("name", "") == "returns");
  CHECK(list.body["items"][0].value("latest", 0) == 1);

  auto v1 = api.get("/v1/workflows/returns/versions/1");
  REQUIRE(v1.status == 200);
  CHECK(v1.body.value("start", "") == "authorize");
  auto graph = v1.body["graph"];
  CHECK(graph["nodes"].size() == 7);  // the start and six steps
  bool start_edge = false, branch_edge = false, catch_edge = false;
  for (const auto& e : graph["edges"]) {
    start_edge |= e.value("kind", "") == "start" && e.value("to", "") == "authorize";
    branch_edge |= e.value("kind", "") == "branch" && e.value("from", "") == "route" &&
                   e.value("to", "") == "refund";
    catch_edge |= e.value("kind", "") == "catch";
  }
  CHECK(start_edge);
  CHECK(branch_edge);
  CHECK_FALSE(catch_edge);
  check_problem(api.get("/v1/workflows/returns/versions/9"), 404, "not-found");
  check_problem(api.get("/v1/workflows/exchange"), 404, "not-found");

  // An instance started on version 1 stays there when version 2 is deployed.
  auto old = api.submit({{"rma_id", "RMA-OLD"}, {"amount", 1}}).body.value("id", "");
  std::string v2 = kReturnsWorkflow;
  v2.replace(v2.find("version: 1"), 10, "version: 2");
  auto deployed = api.post("/v1/workflows", {{"source", v2}, {"file", "returns-v2.yaml"}});
  REQUIRE(deployed.status == 201);
  CHECK(deployed.body.value("version", 0) == 2);
  CHECK(api.post("/v1/workflows", {{"source", v2}, {"file", "again.yaml"}}).status == 200);
  auto fresh = api.submit({{"rma_id", "RMA-NEW"}, {"amount", 1}});
  CHECK(fresh.body.value("version", 0) == 2);
  CHECK(api.get("/v1/instances/" + old).body.value("version", 0) == 1);
  CHECK(api.get("/v1/workflows/returns").body.value("latest", 0) == 2);

  // The same version with other content is refused; invalid YAML says where, as validate does.
  std::string changed = v2;
  changed.replace(changed.find("timeout: 30d"), 12, "timeout: 20d");
  check_problem(api.post("/v1/workflows", {{"source", changed}}), 409, "conflict");
  auto invalid = api.post("/v1/workflows",
                          {{"source", "workflow: broken\nversion: 1\nstart: a\nsteps:\n  a:\n"
                                      "    action: builtin.noop\n    next: nowhere\n"},
                           {"file", "broken.yaml"}});
  check_problem(invalid, 422, "invalid-definition");
  REQUIRE(invalid.body["errors"].is_array());
  auto first = invalid.body["errors"][0];
  CHECK(first.value("file", "") == "broken.yaml");
  CHECK(first.value("line", 0) == 7);
  CHECK(first.value("column", 0) > 0);
  CHECK_FALSE(first.value("code", "").empty());
  CHECK(invalid.body.value("detail", "").rfind("broken.yaml:7:", 0) == 0);
  // Raw YAML is taken too; a dry run deploys nothing and names the steps instances of older
  // versions stand on that the new version lacks.
  std::string v3 = v2;
  v3.replace(v3.find("version: 2"), 10, "version: 3");
  for (auto at = v3.find("await_receipt"); at != std::string::npos; at = v3.find("await_receipt")) {
    v3.replace(at, 13, "await_parcel");
  }
  api.await_status(old, "waiting");
  auto dry = api.call("POST", "/v1/workflows?dry_run=true", v3, "admin", "application/yaml");
  REQUIRE(dry.status == 200);
  CHECK(dry.body.value("result", "") == "would deploy");
  CHECK(dry.body.value("newest_before", 0) == 2);
  // RMA-OLD waits there on version 1, RMA-NEW on version 2.
  REQUIRE(dry.body["stranded"].size() == 2);
  auto stranded = dry.body["stranded"][0];
  CHECK(stranded.value("version", 0) == 1);
  CHECK(dry.body["stranded"][1].value("version", 0) == 2);
  CHECK(stranded.value("step", "") == "await_receipt");
  CHECK(stranded.value("renamed_to", "") == "await_parcel");
  CHECK(stranded.value("message", "").find("await_receipt") != std::string::npos);
  CHECK(api.get("/v1/workflows/returns").body.value("latest", 0) == 2);
  auto real = api.call("POST", "/v1/workflows", v3, "admin", "application/yaml");
  CHECK(real.status == 201);
  CHECK(real.body.value("result", "") == "deployed");
  CHECK(api.get("/v1/workflows/returns").body.value("latest", 0) == 3);
  CHECK(api.get("/v1/instances/" + old).body.value("version", 0) == 1);
}

// Each waiting branch of a fan-out says what it waits for and until when, as the instance does.
TEST_CASE("Api.Instance.Issue13.BranchesSayWhatTheyWaitFor") {
  ApiFixture api(WorkflowFiles{{"lines.yaml", R"(
workflow: lines
version: 1
start: lines
steps:
  lines:
    foreach: ${ .input.lines }
    as: line
    key: ${ .line.id }
    start: await_line
    steps:
      await_line:
        wait: { signal: line.received, match: "${ .line.id }", timeout: 10d }
        on_timeout: missing
        next: received
      received: { end: received }
      missing: { end: missing }
    next: done
  done: { end: completed }
)"}});
  auto id = api.submit({{"lines", {{{"id", "L1"}}, {{"id", "L2"}}}}}, "lines").body.value("id", "");
  REQUIRE(!id.empty());
  api.await_status(id, "waiting");
  auto branches = api.get("/v1/instances/" + id).body["branches"];
  REQUIRE(branches.size() == 2);
  for (const auto& b : branches) {
    INFO(b.dump());
    CHECK(b["waiting_for"]["signal"] == "line.received");
    CHECK(b["waiting_for"]["then"] == "missing");
    CHECK(b["waiting_for"]["until"] == b["deadline"]);
    CHECK(b["waiting_for"]["until"].is_string());
  }
  auto sent = api.post("/v1/instances/" + id + "/signals/line.received", {{"match", "L1"}},
                       "submitter");
  REQUIRE(sent.status == 202);
  // Line 1 has ended and waits for nothing; line 2 still waits.
  bool settled = false;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!settled && std::chrono::steady_clock::now() < deadline) {
    branches = api.get("/v1/instances/" + id).body["branches"];
    settled = branches.size() == 2 && branches[0].value("state", "") == "ended";
  }
  REQUIRE(settled);
  CHECK_FALSE(branches[0].contains("waiting_for"));
  CHECK(branches[1]["waiting_for"]["signal"] == "line.received");
}
