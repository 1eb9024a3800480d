// Issue 16, search attributes over the API and the CLI: GET /v1/instances?attr.NAME=... and
// `rmaflow list --attr`, on the real server, offline and through it.
#include <doctest/doctest.h>

#include <set>

#include "tests/api/api_fixture.hpp"

using namespace rmaflow;
using namespace rmaflow::testing;
using json = nlohmann::json;

namespace {

const char* kSearched = R"(workflow: searched
version: 1
business_key: ${ .input.rma_id }
attributes:
  customer_id: ${ .input.customer_id }
  value: ${ .input.value }
start: authorize
steps:
  authorize: { action: builtin.noop, next: done }
  done: { end: completed }
)";

std::set<std::string> keys_of(const json& page) {
  std::set<std::string> out;
  for (const auto& item : page["items"]) out.insert(item.value("business_key", ""));
  return out;
}

std::set<std::string> listed(ApiFixture& api, const std::string& query) {
  auto reply = api.get("/v1/instances?" + query);
  REQUIRE_MESSAGE(reply.status == 200, reply.text);
  return keys_of(reply.body);
}

std::set<std::string> listed_by_cli(std::vector<std::string> args) {
  args.insert(args.begin(), {rmaflow_binary(), "list", "--format", "json"});
  auto r = run_process(args);
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  return keys_of(json::parse(r.out));
}

}  // namespace

TEST_CASE("Api.Issue16.ListsFilterOnSearchAttributes") {
  ApiFixture api(WorkflowFiles{{"searched.yaml", kSearched}});
  const std::vector<std::pair<std::string, json>> returns = {
      {"RMA-1", {{"customer_id", "C-1"}, {"value", 50}}},
      {"RMA-2", {{"customer_id", "C-2"}, {"value", 250}}},
      {"RMA-3", {{"customer_id", "C-1"}, {"value", 700.5}}}};
  std::string last;
  for (const auto& [key, fields] : returns) {
    json input = fields;
    input["rma_id"] = key;
    auto reply = api.submit(input, "searched");
    REQUIRE_MESSAGE(reply.status == 201, reply.text);
    last = reply.body.value("id", "");
    api.await_status(last, "completed");
  }
  // An instance shows its attributes, through the API and `rmaflow show`.
  CHECK(api.get("/v1/instances/" + last).body["attributes"] ==
        json{{"customer_id", "C-1"}, {"value", 700.5}});
  auto shown = run_process({rmaflow_binary(), "show", "--db", api.db, last});
  CHECK(shown.out.find("attributes   customer_id=C-1, value=700.5") != std::string::npos);
  using Keys = std::set<std::string>;
  CHECK(listed(api, "attr.customer_id=C-1") == Keys{"RMA-1", "RMA-3"});
  CHECK(listed(api, "attr.value=%3E%3D100") == Keys{"RMA-2", "RMA-3"});
  CHECK(listed(api, "attr.value=%3E%3D100,%3C500") == Keys{"RMA-2"});
  CHECK(listed(api, "attr.customer_id=C-1&attr.value=%3C100") == Keys{"RMA-1"});
  CHECK(listed(api, "attr.customer_id=C-9").empty());
  check_problem(api.get("/v1/instances?attr.Customer=C-1"), 400, "invalid-parameter");
  check_problem(api.get("/v1/instances?attr.value=%3E%3D"), 400, "invalid-parameter");
  // At most 16 conditions: 17 (however they are spread over parameters) is a 400, not a
  // statement SQLite refuses.
  std::string many = "attr.value=%3E%3D1";
  for (int i = 0; i < 16; ++i) many += "&attr.a" + std::to_string(i) + "=x";
  auto too_many = api.get("/v1/instances?" + many);
  check_problem(too_many, 400, "invalid-parameter");
  CHECK(too_many.body["detail"] == "a list takes at most 16 conditions on search attributes");

  // The CLI, through the server and on the file: the same answers.
  std::vector<std::string> online = {"--server", api.server->url(), "--token", api.token("viewer")};
  auto with = [](std::vector<std::string> a, std::vector<std::string> b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  };
  CHECK(listed_by_cli(with(online, {"--attr", "value>=100", "--attr", "value<500"})) ==
        Keys{"RMA-2"});
  CHECK(listed_by_cli({"--db", api.db, "--attr", "customer_id=C-1", "--attr", "value>=100"}) ==
        Keys{"RMA-3"});
  auto bad = run_process({rmaflow_binary(), "list", "--db", api.db, "--attr", "value"});
  CHECK(bad.exit_code != 0);
  CHECK(bad.err.find("not an attribute condition") != std::string::npos);
}
