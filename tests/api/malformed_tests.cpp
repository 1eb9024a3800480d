// Malformed requests: each refused with a 4xx problem+json naming what is wrong, none able to
// crash the server or to change what is stored.
#include <doctest/doctest.h>

#include "tests/api/api_fixture.hpp"
#include "tests/net/raw_tcp.hpp"

using namespace rmaflow::testing;
using json = nlohmann::json;

TEST_CASE("Api.Malformed.BodiesAreRefusedWithProblems") {
  ApiFixture api({{"returns.yaml", kReturnsWorkflow}}, {"--max-body", "4096"});
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
