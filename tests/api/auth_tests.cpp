// The auth matrix: every route of the server (its own routing table) called with no token, an
// unknown token, and each role's token. The expectation per route is written out here, so a
// route without an entry fails the test until someone decides who may call it.
#include <doctest/doctest.h>

#include <map>
#include <set>

#include "engine/api/router.hpp"
#include "tests/api/api_fixture.hpp"

using namespace rmaflow;
using namespace rmaflow::testing;
using json = nlohmann::json;

namespace {

// Who may call each route; "anyone" needs no token.
// clang-format off
const std::map<std::string, std::set<std::string>> kAllowed = {
    {"GET /",                                             {"anyone"}},
    {"GET /console/{file}",                               {"anyone"}},
    {"GET /healthz",                                      {"anyone"}},
    {"GET /metrics",                                      {"viewer", "operator", "admin"}},
    {"GET /v1/logging",                                   {"viewer", "operator", "admin"}},
    {"PUT /v1/logging",                                   {"admin"}},
    {"GET /v1/me",                                        {"submitter", "viewer", "operator", "admin"}},
    {"GET /v1/overview",                                  {"viewer", "operator", "admin"}},
    {"GET /v1/audit",                                     {"viewer", "operator", "admin"}},
    {"POST /v1/instances",                                {"submitter", "admin"}},
    {"GET /v1/instances",                                 {"viewer", "operator", "admin"}},
    {"GET /v1/instances/{id}",                            {"viewer", "operator", "admin"}},
    {"GET /v1/instances/{id}/history",                    {"viewer", "operator", "admin"}},
    {"GET /v1/instances/{id}/graph",                      {"viewer", "operator", "admin"}},
    {"POST /v1/instances/{id}/signals/{name}",            {"submitter", "operator", "admin"}},
    {"POST /v1/signals",                                  {"submitter", "operator", "admin"}},
    {"POST /v1/instances/{id}/actions/{action}",          {"operator", "admin"}},
    {"POST /v1/jobs",                                     {"operator", "admin"}},
    {"GET /v1/jobs",                                      {"viewer", "operator", "admin"}},
    {"GET /v1/jobs/{id}",                                 {"viewer", "operator", "admin"}},
    {"GET /v1/jobs/{id}/items",                           {"viewer", "operator", "admin"}},
    {"POST /v1/jobs/{id}/cancel",                         {"operator", "admin"}},
    {"GET /v1/workflows",                                 {"viewer", "operator", "admin"}},
    {"POST /v1/workflows",                                {"admin"}},
    {"GET /v1/workflows/{name}",                          {"viewer", "operator", "admin"}},
    {"GET /v1/workflows/{name}/versions/{version}",       {"viewer", "operator", "admin"}},
    {"GET /v1/workflows/{name}/versions/{version}/graph", {"viewer", "operator", "admin"}},
};
// clang-format on

// The pattern with its parameters filled in.
std::string fill(std::string pattern, const std::string& id) {
  for (auto [name, value] : {std::pair{"{id}", id}, std::pair{"{name}", std::string("returns")},
                             std::pair{"{action}", std::string("retry")},
                             std::pair{"{version}", std::string("1")},
                             std::pair{"{file}", std::string("app.js")}}) {
    if (auto at = pattern.find(name); at != std::string::npos) {
      pattern.replace(at, std::string(name).size(), value);
    }
  }
  return pattern;
}

}  // namespace

TEST_CASE("Api.Auth.EveryRouteByEveryCaller") {
  ApiFixture api;
  auto id = api.submit({{"rma_id", "RMA-A"}, {"amount", 1}}).body.value("id", "");
  REQUIRE(!id.empty());

  std::set<std::string> seen;
  for (const auto& route : api::api_routes()) {
    std::string key = std::string(route.method) + " " + route.pattern;
    seen.insert(key);
    auto allowed = kAllowed.find(key);
    REQUIRE_MESSAGE(allowed != kAllowed.end(), "no expectation for ", key);
    bool open = allowed->second.count("anyone") > 0;
    auto target = fill(route.pattern, id);
    // A body that passes no validation: an allowed caller is refused for the body (422), or
    // for nothing at all, never for who it is.
    std::string body = std::string(route.method) == "POST" ? "{}" : "";
    for (const std::string caller : {"", "bad", "submitter", "viewer", "operator", "admin"}) {
      CAPTURE(key);
      CAPTURE(caller);
      auto reply = api.call(route.method, target, body, caller);
      bool may = open || allowed->second.count(caller) > 0;
      if (may) {
        CHECK(reply.status != 401);
        CHECK(reply.status != 403);
        CHECK(reply.status < 500);
      } else if (caller.empty() || caller == "bad") {
        check_problem(reply, 401, "unauthorized");
        CHECK(reply.headers.get("www-authenticate").rfind("Bearer", 0) == 0);
        if (caller == "bad") {
          CHECK(reply.headers.get("www-authenticate").find("invalid_token") != std::string::npos);
        }
      } else {
        check_problem(reply, 403, "forbidden");
        CHECK(reply.body.value("detail", "").find(caller) != std::string::npos);
      }
    }
  }
  // Every expectation belongs to a route the server has.
  for (const auto& [key, roles] : kAllowed) CHECK_MESSAGE(seen.count(key) == 1, key);
}

TEST_CASE("Api.Auth.MalformedAuthorizationHeaders") {
  ApiFixture api;
  for (const std::string& header : std::vector<std::string>{
           "Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "bearer", "Token " + api.token("admin")}) {
    CAPTURE(header);
    net::HttpRequest request;
    request.target = "/v1/instances";
    request.headers.set("Authorization", header);
    auto result = api.client.request(net::HttpEndpoint{"127.0.0.1", api.server->port()}, request,
                                     std::chrono::seconds(10));
    REQUIRE(result.ok());
    CHECK(result.response.status == 401);
  }
  // The scheme is case-insensitive.
  net::HttpRequest request;
  request.target = "/v1/instances";
  request.headers.set("Authorization", "bEaReR " + api.token("viewer"));
  auto result = api.client.request(net::HttpEndpoint{"127.0.0.1", api.server->port()}, request,
                                   std::chrono::seconds(10));
  REQUIRE(result.ok());
  CHECK(result.response.status == 200);
}
