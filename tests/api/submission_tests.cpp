// Submission and signals over real HTTP: idempotent starts (201, 200, 409, 422), signals by id
// and by business key, duplicates, and what is refused.
#include <doctest/doctest.h>

#include <map>

#include "tests/api/api_fixture.hpp"

using namespace rmaflow;
using namespace rmaflow::testing;
using json = nlohmann::json;

TEST_CASE("Api.Submit.NewReplayConflictInvalid") {
  ApiFixture api;
  json input = {{"rma_id", "RMA-1"}, {"amount", 120.5}};

  auto created = api.submit(input);
  REQUIRE(created.status == 201);
  auto id = created.body.value("id", "");
  CHECK(id.size() == 26);
  CHECK(created.body.value("created", false));
  CHECK(created.body.value("version", 0) == 1);
  CHECK(created.headers.get("location") == "/v1/instances/" + id);
  // Answered after the commit: the instance is there for anyone who reads.
  auto stored = api.get("/v1/instances/" + id);
  REQUIRE(stored.status == 200);
  CHECK(stored.body["context"]["input"] == input);
  CHECK(stored.body.value("business_key", "") == "RMA-1");

  SUBCASE("a replay with the same input is the same instance") {
    auto replay = api.submit(input);
    CHECK(replay.status == 200);
    CHECK(replay.body.value("id", "") == id);
    CHECK_FALSE(replay.body.value("created", true));
  }
  SUBCASE("the same key with another input conflicts") {
    auto other = api.submit({{"rma_id", "RMA-1"}, {"amount", 99}});
    check_problem(other, 409, "conflict");
    CHECK(other.body.value("detail", "").find(id) != std::string::npos);
  }
  SUBCASE("an input that fails the schema names the field") {
    auto bad = api.submit({{"rma_id", "RMA-2"}, {"amount", -5}});
    check_problem(bad, 422, "invalid-input", "/input/amount");
    auto missing = api.submit({{"amount", 5}});
    check_problem(missing, 422, "invalid-input", "/input/rma_id");
    CHECK(missing.body.value("detail", "").find("rma_id") != std::string::npos);
    auto list = api.get("/v1/instances");
    CHECK(list.body["items"].size() == 1);  // nothing was started for them
  }
  SUBCASE("an unknown workflow or version names the field") {
    auto unknown = api.post("/v1/instances", {{"workflow", "exchange"}, {"input", input}},
                            "submitter");
    check_problem(unknown, 422, "invalid-field", "/workflow");
    auto version = api.post("/v1/instances",
                            {{"workflow", "returns"}, {"version", 7}, {"input", input}}, "submitter");
    check_problem(version, 422, "invalid-field", "/version");
  }
  SUBCASE("an explicit business key") {
    auto keyed = api.post("/v1/instances",
                          {{"workflow", "returns"},
                           {"business_key", "CUSTOM-9"},
                           {"input", {{"rma_id", "RMA-9"}, {"amount", 1}}}},
                          "submitter");
    REQUIRE(keyed.status == 201);
    auto found = api.get("/v1/instances?business_key=CUSTOM-9");
    REQUIRE(found.body["items"].size() == 1);
    CHECK(found.body["items"][0].value("id", "") == keyed.body.value("id", ""));
  }
}

TEST_CASE("Api.Signal.ByIdByKeyAndDuplicates") {
  ApiFixture api;
  auto first = api.submit({{"rma_id", "RMA-10"}, {"amount", 10}}).body.value("id", "");
  auto second = api.submit({{"rma_id", "RMA-11"}, {"amount", 11}}).body.value("id", "");
  api.await_status(first, "waiting");
  api.await_status(second, "waiting");

  SUBCASE("by id, with a repeat of its key") {
    auto target = "/v1/instances/" + first + "/signals/warehouse.received";
    json body = {{"payload", {{"dock", 4}}}, {"idempotency_key", "scan-1"}};
    auto accepted = api.post(target, body, "submitter");
    REQUIRE(accepted.status == 202);
    CHECK(accepted.body.value("instance_id", "") == first);
    CHECK_FALSE(accepted.body.value("duplicate", true));
    auto done = api.await_status(first, "completed");
    CHECK(done["context"]["receipt"] == json{{"dock", 4}});
    // A finished instance takes no signals, not even a repeat.
    check_problem(api.post(target, body, "operator"), 409, "refused");
  }
  SUBCASE("by workflow and business key; a duplicate while waiting") {
    json body = {{"workflow", "returns"},
                 {"business_key", "RMA-11"},
                 {"name", "note"},
                 {"idempotency_key", "k-1"}};
    auto accepted = api.post("/v1/signals", body, "submitter");
    REQUIRE(accepted.status == 202);
    CHECK(accepted.body.value("instance_id", "") == second);
    auto duplicate = api.post("/v1/signals", body, "submitter");
    CHECK(duplicate.status == 200);
    CHECK(duplicate.body.value("duplicate", false));
    // Kept (not consumed: the instance waits for warehouse.received), stored once.
    auto history = api.get("/v1/instances/" + second + "/history").body["events"];
    int received = 0;
    for (const auto& e : history) received += e.value("type", "") == "signal_received";
    CHECK(received == 1);
    CHECK(api.get("/v1/instances/" + second).body.value("status", "") == "waiting");
  }
  SUBCASE("the Idempotency-Key header") {
    auto target = "/v1/instances/" + second + "/signals/note";
    auto with_header = [&](const std::string& key, const std::string& body) {
      net::HttpRequest request;
      request.method = "POST";
      request.target = target;
      request.body = body;
      request.headers.set("Authorization", "Bearer " + api.token("submitter"));
      request.headers.set("Idempotency-Key", key);
      if (!body.empty()) request.headers.set("Content-Type", "application/json");
      auto result = api.client.request(net::HttpEndpoint{"127.0.0.1", api.server->port()},
                                       request, std::chrono::seconds(10));
      REQUIRE(result.ok());
      return result.response;
    };
    auto one = with_header("h-1", "");  // an empty body is allowed: no payload
    CHECK(one.status == 202);
    CHECK(nlohmann::json::parse(one.body).value("idempotency_key", "") == "h-1");
    CHECK(with_header("h-1", "").status == 200);
    auto clash = with_header("h-2", R"({"idempotency_key": "other"})");
    CHECK(clash.status == 422);
    CHECK(nlohmann::json::parse(clash.body).value("pointer", "") == "/idempotency_key");
  }
  SUBCASE("refusals") {
    check_problem(api.post("/v1/instances/01NOSUCHINSTANCE/signals/x", json::object(), "submitter"),
                  404, "not-found");
    check_problem(api.post("/v1/signals",
                           {{"workflow", "returns"}, {"business_key", "RMA-404"}, {"name", "x"}},
                           "submitter"),
                  404, "not-found");
    check_problem(api.post("/v1/signals", {{"workflow", "returns"}, {"name", "x"}}, "submitter"),
                  422, "invalid-field", "/business_key");
  }
}

// ---- issue 11 --------------------------------------------------------------------------------

TEST_CASE("Api.Submit.Issue11.InputsAreComparedByValue") {
  ApiFixture api;
  auto first = api.submit(json::parse(R"({"rma_id": "RMA-1", "amount": 120})"));
  REQUIRE(first.status == 201);
  auto same = api.submit(json::parse(R"({"rma_id": "RMA-1", "amount": 120.0})"));
  CHECK(same.status == 200);
  CHECK(same.body.value("id", "") == first.body.value("id", ""));
  auto other = api.submit(json::parse(R"({"rma_id": "RMA-1", "amount": 121})"));
  check_problem(other, 409, "conflict", "/input/amount");
  CHECK(other.body.value("detail", "").find("/amount is 120 there and 121 here") !=
        std::string::npos);
}

TEST_CASE("Api.Submit.Issue11.EverySchemaViolationInWords") {
  ApiFixture api;
  auto bad = api.submit(json::parse(R"({"amount": -5, "fail": "yes"})"));
  check_problem(bad, 422, "invalid-input");
  INFO(bad.text);
  auto errors = bad.body["errors"];
  REQUIRE(errors.size() == 3);
  std::map<std::string, std::string> by_pointer;
  for (const auto& e : errors) by_pointer[e["pointer"]] = e["message"];
  CHECK(by_pointer["/input/rma_id"] == "/rma_id is missing; it is required");
  CHECK(by_pointer["/input/amount"] == "/amount must be at least 0");
  CHECK(by_pointer["/input/fail"] == "/fail must be a boolean, not a string");
  for (const auto& [pointer, message] : by_pointer) {
    CHECK(bad.body.value("detail", "").find(message) != std::string::npos);
  }
}

TEST_CASE("Api.Signal.Issue11.NameNoWaitTakesIsRefused") {
  ApiFixture api;
  auto id = api.submit({{"rma_id", "RMA-1"}, {"amount", 1}}).body.value("id", "");
  api.await_status(id, "waiting");
  auto by_id = api.post("/v1/instances/" + id + "/signals/warehouse.recieved", json::object(),
                        "submitter");
  check_problem(by_id, 422, "invalid-field");
  CHECK(by_id.body.value("detail", "") ==
        "instance " + id + ": workflow returns version 1 never waits for signal "
        "warehouse.recieved (did you mean warehouse.received?); it waits for: note, "
        "warehouse.received");
  auto by_key = api.post("/v1/signals",
                         {{"workflow", "returns"}, {"business_key", "RMA-1"}, {"name", "scan"}},
                         "submitter");
  check_problem(by_key, 422, "invalid-field", "/name");
  auto history = api.get("/v1/instances/" + id + "/history").body["events"];
  for (const auto& e : history) CHECK(e.value("type", "") != "signal_received");
  CHECK(api.get("/v1/instances/" + id).body["waiting_for"]["signal"] == "warehouse.received");
}

TEST_CASE("Api.Deploy.Issue11.ActionsTheServerCannotRunAreRefused") {
  ApiFixture api;
  std::string yaml = R"(workflow: claims
version: 1
start: a
steps:
  a:
    action: erp.open_claim
    next: done
  done: { end: completed }
)";
  for (const char* target : {"/v1/workflows?dry_run=true", "/v1/workflows"}) {
    INFO(target);
    auto reply = api.call("POST", target, yaml, "admin", "application/yaml");
    check_problem(reply, 422, "invalid-definition");
    REQUIRE(reply.body["errors"].size() == 1);
    CHECK(reply.body["errors"][0]["code"] == "unknown-action");
    CHECK(reply.body["errors"][0]["line"] == 5);
    CHECK(reply.body["errors"][0]["message"] ==
          "step \"a\" calls erp.open_claim, but no adapter named erp is configured (the adapters "
          "are: builtin)");
  }
  CHECK(api.get("/v1/workflows/claims").status == 404);
}
