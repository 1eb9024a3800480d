// Malformed requests: each refused with a 4xx problem+json naming what is wrong, none able to
// crash the server or to change what is stored.
#include <doctest/doctest.h>

#include "tests/api/api_fixture.hpp"
#include "tests/net/raw_tcp.hpp"

using namespace rmaflow::testing;
using json = nlohmann::json;

TEST_CASE("Api.Malformed.BodiesAreRefusedWithProblems") {
  ApiFixture api({{"returns.yaml", kReturnsWorkflow}}, {"--max-body", "4KiB"});
  auto id = api.submit({{"rma_id", "RMA-M"}, {"amount", 3}}).body.value("id", "");
  api.await_status(id, "waiting");
  auto action = "/v1/instances/" + id + "/actions/cancel";

  SUBCASE("not JSON") {
    check_problem(api.call("POST", "/v1/instances", "{\"workflow\": ", "submitter"), 400,
                  "malformed-json");
    check_problem(api.call("POST", action, "reason=because", "operator"), 400, "malformed-json");
  }
  SUBCASE("not JSON by its content type") {
    check_problem(api.call("POST", "/v1/instances", R"({"workflow":"returns"})", "submitter",
                           "text/plain"),
                  415, "unsupported-media-type");
    check_problem(api.call("POST", action, R"({"reason":"x"})", "operator", ""), 415,
                  "unsupported-media-type");
  }
  SUBCASE("not an object") {
    check_problem(api.call("POST", action, "[1, 2]", "operator"), 422, "invalid-field");
  }
  SUBCASE("unknown fields: no mass assignment of state") {
    auto status = api.post(action, {{"reason", "x"}, {"status", "completed"}}, "operator");
    check_problem(status, 422, "unknown-field", "/status");
    check_problem(api.post(action, {{"reason", "x"}, {"history", json::array()}}, "operator"), 422,
                  "unknown-field", "/history");
    check_problem(api.post("/v1/instances",
                           {{"workflow", "returns"}, {"input", {{"rma_id", "X"}, {"amount", 1}}},
                            {"id", "01CHOSENBYME"}},
                           "submitter"),
                  422, "unknown-field", "/id");
    check_problem(api.post("/v1/signals", {{"workflow", "returns"}, {"business_key", "RMA-M"},
                                           {"name", "n"}, {"consumed", true}},
                           "submitter"),
                  422, "unknown-field", "/consumed");
    CHECK(api.get("/v1/instances/" + id).body.value("status", "") == "waiting");
  }
  SUBCASE("wrong types") {
    check_problem(api.post(action, {{"reason", 42}}, "operator"), 422, "invalid-field", "/reason");
    check_problem(api.post(action, {{"reason", "x"}, {"compensate", "yes"}}, "operator"), 422,
                  "invalid-field", "/compensate");
    check_problem(api.post("/v1/instances", {{"workflow", "returns"}, {"input", "RMA-1"}},
                           "submitter"),
                  422, "invalid-field", "/input");
  }
  SUBCASE("nested too deep") {
    std::string deep(200, '[');
    deep += std::string(200, ']');
    check_problem(api.call("POST", action, R"({"reason":"x","extra":)" + deep + "}", "operator"),
                  400, "malformed-json");
  }
  SUBCASE("over the body limit") {
    json big = {{"reason", std::string(5000, 'r')}};
    check_problem(api.post(action, big, "operator"), 413, "body-too-large");
  }
  SUBCASE("not HTTP at all") {
    RawConnection raw(api.server->port());
    raw.send("GARBAGE / NONSENSE\r\n\r\n");
    auto answer = raw.read_all();
    CHECK(answer.rfind("HTTP/1.1 400", 0) == 0);
    CHECK(answer.find("application/problem+json") != std::string::npos);
    CHECK(answer.find("urn:rmaflow:problem:malformed-request") != std::string::npos);
  }
  SUBCASE("no such resource or method") {
    check_problem(api.get("/v2/anything"), 404, "not-found");
    auto wrong = api.call("DELETE", "/v1/instances/" + id, "", "admin");
    check_problem(wrong, 405, "method-not-allowed");
    CHECK(wrong.headers.get("allow") == "GET");
  }
  // Whatever came before, the server is healthy and the instance untouched.
  CHECK(api.get("/healthz", "").status == 200);
  CHECK(api.get("/v1/instances/" + id).body.value("status", "") == "waiting");
}

namespace {

// A request sent byte for byte (an HTTP client would refuse to send some of these bytes).
std::string raw_request(ApiFixture& api, const std::string& method, const std::string& target,
                        const std::string& body, const std::string& role,
                        const std::string& extra_headers = "") {
  RawConnection raw(api.server->port());
  raw.send(method + " " + target + " HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " +
           api.token(role) + "\r\nContent-Type: application/json\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\nConnection: close\r\n" + extra_headers + "\r\n" +
           body);
  return raw.read_all();
}

int status_of(const std::string& response) {
  if (response.rfind("HTTP/1.1 ", 0) != 0) return 0;
  return std::stoi(response.substr(9, 3));
}

}  // namespace

TEST_CASE("Api.Issue12.HostileRequestsAre4xxAndTheServerGoesOn") {
  ApiFixture api;
  auto id = api.submit({{"rma_id", "RMA-H"}, {"amount", 3}}).body.value("id", "");
  api.await_status(id, "waiting");
  auto alive = [&] {
    REQUIRE(api.get("/healthz", "").status == 200);
    REQUIRE(api.get("/v1/instances/" + id).body.value("status", "") == "waiting");
  };

  SUBCASE("the two requests that stopped the engine") {
    auto header = raw_request(api, "POST", "/v1/instances/" + id + "/signals/note", "{}", "submitter",
                              "Idempotency-Key: k\xFFk\r\n");
    CHECK(status_of(header) == 400);
    CHECK(header.find("urn:rmaflow:problem:invalid-header") != std::string::npos);
    alive();
    auto name = api.call("POST", "/v1/instances/" + id + "/signals/%FF", "{}", "submitter");
    check_problem(name, 400, "malformed-request");
    alive();
  }
  SUBCASE("the twelve that answered 500") {
    const std::string overflow = "1e400";
    struct Case {
      const char* method;
      std::string target;
      std::string body;
      const char* role;
      int status;
    };
    std::vector<Case> cases = {
        {"POST", "/v1/instances",
         R"({"workflow":"returns","input":{"rma_id":"RMA-O","amount":)" + overflow + "}}",
         "submitter", 400},
        {"POST", "/v1/signals",
         R"({"workflow":"returns","business_key":"RMA-H","name":"n","payload":)" + overflow + "}",
         "submitter", 400},
        {"POST", "/v1/instances/" + id + "/actions/patch",
         R"({"reason":"r","patch":{"x":)" + overflow + "}}", "operator", 400},
        {"POST", "/v1/instances/" + id + "/signals/n", R"({"payload":)" + overflow + "}",
         "submitter", 400},
        {"GET", "/v1/instances/%FF", "", "viewer", 400},
        {"GET", "/v1/instances/%FF/history", "", "viewer", 400},
        {"POST", "/v1/instances/%FF/actions/cancel", R"({"reason":"r"})", "operator", 400},
        {"GET", "/v1/workflows/%FF", "", "viewer", 400},
        {"GET", "/v1/workflows/%FF/versions/1", "", "viewer", 400},
        {"POST", "/v1/instances/" + id + "/actions/%FF", R"({"reason":"r"})", "operator", 400},
        {"GET", "/v1/instances?workflow=%FF", "", "viewer", 400},
        {"GET", "/v1/instances?%FF=1", "", "viewer", 400},
    };
    for (const auto& c : cases) {
      CAPTURE(c.target);
      CAPTURE(c.body);
      auto reply = api.call(c.method, c.target, c.body, c.role);
      CHECK(reply.status == c.status);
      CHECK(reply.headers.get("content-type") == "application/problem+json");
      alive();
    }
  }
  SUBCASE("workflow files that used to hang or fail the deploy") {
    std::string bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
    for (int i = 1; i <= 10; ++i) {
      bomb += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
      for (int k = 0; k < 10; ++k) bomb += (k ? ", *a" : "*a") + std::to_string(i - 1);
      bomb += "]\n";
    }
    bomb += "workflow: bomb\nversion: 1\nstart: s\nsteps:\n  s: { end: completed }\n";
    auto refused = api.call("POST", "/v1/workflows", bomb, "admin", "application/yaml");
    check_problem(refused, 422, "invalid-definition");
    CHECK(refused.body["errors"][0]["code"] == "yaml-too-large");
    auto latin1 = api.call("POST", "/v1/workflows",
                           "workflow: t\nversion: 1\ndescription: caf\xE9\n", "admin",
                           "application/yaml");
    check_problem(latin1, 422, "invalid-definition");
    CHECK(latin1.body["errors"][0]["code"] == "yaml-encoding");
    alive();
  }
  SUBCASE("duplicate keys, and keys and names past their limits") {
    check_problem(api.call("POST", "/v1/instances",
                           R"({"workflow":"returns","workflow":"other","input":{"rma_id":"D","amount":1}})",
                           "submitter"),
                  400, "malformed-json");
    check_problem(api.call("POST", "/v1/instances",
                           R"({"workflow":"returns","input":{"rma_id":"D","amount":1,"amount":2}})",
                           "submitter"),
                  400, "malformed-json");
    check_problem(api.post("/v1/instances/" + id + "/signals/n",
                           {{"idempotency_key", std::string(100 * 1024, 'k')}}, "submitter"),
                  422, "invalid-field", "/idempotency_key");
    check_problem(api.post("/v1/signals", {{"workflow", "returns"}, {"business_key", "RMA-H"},
                                           {"name", std::string(10 * 1024, 'n')}},
                           "submitter"),
                  422, "invalid-field", "/name");
    check_problem(api.call("POST", "/v1/instances/" + id + "/signals/" + std::string(10 * 1024, 'n'),
                           "{}", "submitter"),
                  400, "malformed-request");
    alive();
    // Nothing was stored: the instance has its one start and no signal.
    auto history = api.get("/v1/instances/" + id + "/history").body;
    for (const auto& event : history["events"]) CHECK(event["type"] != "signal_received");
  }
  alive();
}

// Input checked against a schema's patterns, and schemas that would never finish a check: the
// server answers 422 and goes on (a 300,000-byte email crashed it through std::regex).
TEST_CASE("Api.Malformed.SchemasAndPatternsCannotCrashTheServer") {
  const char* contacts = R"(workflow: contacts
version: 1
input:
  type: object
  properties:
    email: { type: string, pattern: "^[^@\\s]+@[^@\\s]+$" }
start: done
steps:
  done: { end: completed }
)";
  ApiFixture api(WorkflowFiles{{"contacts.yaml", contacts}});
  auto long_email = api.submit({{"email", std::string(300'000, 'a') + "@b"}}, "contacts");
  check_problem(long_email, 422, "invalid-input");
  CHECK(long_email.body["errors"][0]["pointer"] == "/input/email");
  CHECK(long_email.body["errors"][0]["message"] ==
        "/email is 300002 bytes long; a string the schema matches against a pattern may hold at "
        "most 4096");
  CHECK(api.submit({{"email", "a@b"}}, "contacts").status == 201);

  // A schema applying itself to the same value without end is refused at deploy.
  json upload = {{"source",
                  "workflow: ring\nversion: 1\ninput: ring.json\nstart: done\nsteps:\n  done: { "
                  "end: completed }\n"},
                 {"input_schema", {{"allOf", {{{"$ref", "#"}}}}}}};
  auto ring = api.call("POST", "/v1/workflows", upload.dump(), "admin");
  check_problem(ring, 422, "invalid-definition");
  CHECK(ring.text.find("is applied to the same value again through itself") != std::string::npos);
  CHECK(api.get("/healthz", "").status == 200);
}
