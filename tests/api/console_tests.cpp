// What the web console is served and reads, over real HTTP from the real server: its page and
// files under a strict policy, who the caller is, the overview, the audit trail across
// instances, and workflow graphs drawn as SVG with an instance's path and failing step.
// (The console itself, in a browser, is tests/console/console_test.py.)
#include <doctest/doctest.h>

#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "engine/api/console_assets.hpp"
#include "rmaflow/time.hpp"
#include "tests/api/api_fixture.hpp"
#include "tests/support/hostile_yaml.hpp"

using namespace rmaflow;
using namespace rmaflow::testing;
using json = nlohmann::json;

namespace {

std::string start(ApiFixture& api, const std::string& rma, bool fail, const std::string& status) {
  auto id = api.submit({{"rma_id", rma}, {"amount", 10}, {"fail", fail}}).body.value("id", "");
  REQUIRE(!id.empty());
  api.await_status(id, status);
  return id;
}

// The classes and the <title> of each node of a Graphviz SVG: {step name -> classes}.
std::map<std::string, std::set<std::string>> svg_nodes(const std::string& svg) {
  std::map<std::string, std::set<std::string>> nodes;
  std::regex node(R"re(<g id="[^"]*" class="node ([^"]*)">\s*<title>([^<]*)</title>)re");
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), node); it != std::sregex_iterator(); ++it) {
    std::set<std::string> classes;
    std::istringstream words((*it)[1].str());
    for (std::string w; words >> w;) classes.insert(w);
    nodes[(*it)[2].str()] = classes;
  }
  return nodes;
}

}  // namespace

TEST_CASE("Api.Console.PageAndFilesUnderAStrictPolicyAndWhoSignedIn") {
  ApiFixture api;
  auto page = api.call("GET", "/", "", "");  // no token: the page holds no data
  REQUIRE(page.status == 200);
  CHECK(page.headers.get("content-type") == "text/html; charset=utf-8");
  auto policy = std::string(page.headers.get("content-security-policy"));
  INFO("policy: ", policy);
  CHECK(policy.find("default-src 'none'") != std::string::npos);
  CHECK(policy.find("script-src 'self';") != std::string::npos);
  CHECK(policy.find("unsafe") == std::string::npos);  // no unsafe-inline, no unsafe-eval
  CHECK(policy.find("frame-ancestors 'none'") != std::string::npos);
  CHECK(page.headers.get("x-content-type-options") == "nosniff");
  // The page loads its code as modules from the server, and carries none inline.
  CHECK(page.text.find("<script type=\"module\" src=\"/console/app.js\"></script>") != std::string::npos);
  CHECK_FALSE(std::regex_search(page.text, std::regex(R"(<script(?![^>]*\ssrc=))")));
  CHECK_FALSE(std::regex_search(page.text, std::regex(R"(\son[a-z]+\s*=)", std::regex::icase)));
  CHECK_FALSE(std::regex_search(page.text, std::regex(R"(\sstyle\s*=)", std::regex::icase)));

  for (const auto& asset : api::console_assets()) {
    CAPTURE(asset.name);
    auto file = api.call("GET", "/console/" + std::string(asset.name), "", "");
    REQUIRE(file.status == 200);
    CHECK(file.text == asset.body);
    CHECK(file.headers.get("content-type") == asset.content_type);
    CHECK(file.headers.get("etag") == asset.etag);
    // The scripts build the page from text nodes: nothing in them writes markup.
    for (const char* sink : {"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("}) {
      CHECK_MESSAGE(file.text.find(sink) == std::string::npos, asset.name, " uses ", sink);
    }
    net::HttpRequest again;
    again.target = "/console/" + std::string(asset.name);
    again.headers.set("If-None-Match", std::string(asset.etag));
    auto cached = api.client.request(net::HttpEndpoint{"127.0.0.1", api.server->port()}, again,
                                     std::chrono::seconds(10));
    REQUIRE(cached.ok());
    CHECK(cached.response.status == 304);
    CHECK(cached.response.body.empty());
  }
  check_problem(api.call("GET", "/console/secrets.txt", "", ""), 404, "not-found");
  check_problem(api.call("GET", "/console/..%2Fconsole.css", "", ""), 404, "not-found");

  // API answers run nothing and are not cached either.
  auto list = api.get("/v1/instances");
  CHECK(list.headers.get("content-security-policy") == "default-src 'none'; frame-ancestors 'none'");
  CHECK(list.headers.get("cache-control") == "no-store");
  CHECK(list.headers.get("x-content-type-options") == "nosniff");

  // Who the signed-in token is, and what the console may offer it.
  auto viewer = api.get("/v1/me", "viewer");
  REQUIRE(viewer.status == 200);
  CHECK(viewer.body["name"] == "viewer");
  CHECK(viewer.body["role"] == "viewer");
  CHECK(viewer.body["may"] == json{{"read", true}, {"act", false}, {"signal", false}, {"start", false}, {"deploy", false}});
  auto op = api.get("/v1/me", "operator");
  CHECK(op.body["may"]["act"] == true);
  CHECK(op.body["may"]["signal"] == true);
  CHECK(op.body["may"]["deploy"] == false);
  auto submitter = api.get("/v1/me", "submitter");
  CHECK(submitter.body["may"]["read"] == false);
  check_problem(api.get("/v1/me", ""), 401, "unauthorized");
  check_problem(api.get("/v1/me", "bad"), 401, "unauthorized");
}

TEST_CASE("Api.Overview.CountsStatusesWorkflowsTheStuckQueueAndTheDay") {
  ApiFixture api;
  auto failed = start(api, "RMA-F", true, "suspended");
  start(api, "RMA-W1", false, "waiting");
  start(api, "RMA-W2", false, "waiting");
  auto done = start(api, "RMA-D", false, "waiting");
  REQUIRE(api.post("/v1/instances/" + done + "/signals/warehouse.received", json::object(), "operator").status == 202);
  api.await_status(done, "completed");

  auto reply = api.get("/v1/overview");
  REQUIRE(reply.status == 200);
  const auto& o = reply.body;
  INFO(o.dump(2));
  CHECK(o["by_status"] == json{{"waiting", 2}, {"suspended", 1}, {"completed", 1}});
  REQUIRE(o["by_workflow"].size() == 1);
  CHECK(o["by_workflow"][0]["workflow"] == "returns");
  CHECK(o["by_workflow"][0]["total"] == 4);
  CHECK(o["stuck"]["total"] == 1);
  REQUIRE(o["stuck"]["by_reason"].size() == 1);
  CHECK(o["stuck"]["by_reason"][0]["code"] == "ErpDown");
  CHECK(o["stuck"]["by_reason"][0]["count"] == 1);
  CHECK(o["sla_breaches"] == 0);
  // Everything started and the one that completed did so within the last day's window.
  CHECK(o["last_day"]["started"] == 4);
  CHECK(o["last_day"]["ended"] == json{{"completed", 1}});
  REQUIRE(o["last_day"]["hours"].size() == 24);
  int hourly = 0;
  for (const auto& hour : o["last_day"]["hours"]) hourly += hour["started"].get<int>();
  CHECK(hourly == 4);
  CHECK(o["unfinished"] == json::array({
      {{"workflow", "returns"}, {"version", 1}, {"step", "await_receipt"}, {"status", "waiting"}, {"count", 2}},
      {{"workflow", "returns"}, {"version", 1}, {"step", "refund"}, {"status", "suspended"}, {"count", 1}}}));

  // The stuck queue's items carry what the console shows: reason, code, age, SLA.
  auto stuck = api.get("/v1/instances?stuck=true").body["items"];
  REQUIRE(stuck.size() == 1);
  CHECK(stuck[0]["id"] == failed);
  CHECK(stuck[0]["reason_kind"] == "incident");
  CHECK(stuck[0]["reason_code"] == "ErpDown");
  CHECK(stuck[0]["team"].is_null());
  CHECK(parse_time(stuck[0].value("stuck_since", "")).has_value());
  CHECK(stuck[0]["past_sla"] == false);
}

TEST_CASE("Api.Audit.OperatorActionsAcrossInstancesNewestFirst") {
  ApiFixture api;
  auto a = start(api, "RMA-A1", true, "suspended");
  auto b = start(api, "RMA-B1", false, "waiting");
  auto act = [&](const std::string& id, const std::string& action, json body, const std::string& role) {
    auto r = api.post("/v1/instances/" + id + "/actions/" + action, body, role);
    REQUIRE_MESSAGE(r.status == 200, r.text);
  };
  act(b, "patch", {{"reason", "address fixed"}, {"patch", {{"note", "<b>x</b>"}}}}, "operator");
  act(a, "retry", {{"reason", "ERP is back"}}, "admin");
  act(b, "goto", {{"reason", "parcel lost"}, {"step", "done"}}, "operator");
  api.await_status(b, "completed");

  auto trail = api.get("/v1/audit").body["items"];
  INFO(trail.dump(2));
  REQUIRE(trail.size() == 3);
  // Newest first (actions committed in the same millisecond may come in either order).
  for (std::size_t i = 1; i < trail.size(); ++i) CHECK(trail[i - 1]["at"] >= trail[i]["at"]);
  std::map<std::string, json> by_action;
  for (const auto& entry : trail) by_action[entry["action"]] = entry;
  REQUIRE(by_action.size() == 3);
  const auto& moved = by_action["goto"];
  CHECK(moved["actor"] == "operator");
  CHECK(moved["reason"] == "parcel lost");
  CHECK(moved["instance_id"] == b);
  CHECK(moved["business_key"] == "RMA-B1");
  CHECK(moved["workflow"] == "returns");
  CHECK(moved["before"] == json{{"status", "waiting"}, {"step", "await_receipt"}});
  CHECK(moved["after"]["step"] == "done");
  CHECK(by_action["retry"]["actor"] == "admin");
  CHECK(by_action["retry"]["instance_id"] == a);
  CHECK(by_action["patch"]["args"]["patch"] == json{{"note", "<b>x</b>"}});

  CHECK(api.get("/v1/audit?actor=admin").body["items"].size() == 1);
  CHECK(api.get("/v1/audit?action=patch").body["items"][0]["instance_id"] == b);
  CHECK(api.get("/v1/audit?instance=" + a).body["items"].size() == 1);
  CHECK(api.get("/v1/audit?before=2000-01-01").body["items"].empty());

  // Keyset pages: each entry once, in order, and the last page has no cursor.
  std::vector<std::string> seen;
  std::string cursor;
  for (int page = 0; page < 5; ++page) {
    auto reply = api.get("/v1/audit?limit=1" + (cursor.empty() ? "" : "&cursor=" + cursor)).body;
    for (const auto& item : reply["items"]) seen.push_back(item["action"]);
    if (reply["next_cursor"].is_null()) break;
    cursor = reply["next_cursor"];
  }
  std::vector<std::string> expected;
  for (const auto& entry : trail) expected.push_back(entry["action"]);
  CHECK(seen == expected);

  check_problem(api.get("/v1/audit?cursor=nonsense"), 400, "invalid-parameter");
  check_problem(api.get("/v1/audit?action=reboot"), 400, "invalid-parameter");
  check_problem(api.get("/v1/audit?who=me"), 400, "invalid-parameter");
}

TEST_CASE("Api.Graph.InstanceSvgMarksThePathAndTheFailingStep") {
  ApiFixture api;
  auto id = start(api, "RMA-G", true, "suspended");
  auto reply = api.get("/v1/instances/" + id + "/graph");
  REQUIRE(reply.status == 200);
  CHECK(reply.headers.get("content-type") == "image/svg+xml");
  CHECK(reply.headers.get("content-security-policy").find("default-src 'none'") != std::string::npos);
  CHECK(reply.text.find("<svg") != std::string::npos);
  CHECK(reply.text.find("<script") == std::string::npos);
  auto nodes = svg_nodes(reply.text);
  INFO(reply.text);
  REQUIRE(nodes.count("refund") == 1);
  CHECK(nodes["refund"].count("failing") == 1);
  CHECK(nodes["refund"].count("current") == 1);
  CHECK(nodes["authorize"].count("visited") == 1);
  CHECK(nodes["authorize"].count("failing") == 0);
  CHECK(nodes["await_receipt"].count("visited") == 0);  // the switch went straight to refund
  CHECK(nodes["done"].count("visited") == 0);

  // The version's own drawing marks nothing.
  auto version = api.get("/v1/workflows/returns/versions/1/graph");
  REQUIRE(version.status == 200);
  auto plain = svg_nodes(version.text);
  CHECK(plain.size() >= 6);
  for (const auto& [step, classes] : plain) {
    CAPTURE(step);
    CHECK(classes.count("step") == 1);
    CHECK(classes.count("visited") + classes.count("current") + classes.count("failing") == 0);
  }
  check_problem(api.get("/v1/instances/nope/graph"), 404, "not-found");
  check_problem(api.get("/v1/workflows/returns/versions/9/graph"), 404, "not-found");
  // The same graph without a layout, with the instance's marks.
  auto mermaid = api.get("/v1/instances/" + id + "/graph?format=mermaid");
  REQUIRE(mermaid.status == 200);
  CHECK(mermaid.headers.get("content-type") == "text/plain; charset=utf-8");
  CHECK(mermaid.text.rfind("flowchart TD\n", 0) == 0);
  CHECK(mermaid.text.find("class s_refund current") != std::string::npos);
  auto dot = api.get("/v1/workflows/returns/versions/1/graph?format=dot");
  REQUIRE(dot.status == 200);
  CHECK(dot.headers.get("content-type") == "text/vnd.graphviz; charset=utf-8");
  CHECK(dot.text.rfind("digraph \"returns v1\" {\n", 0) == 0);
  auto png = api.get("/v1/workflows/returns/versions/1/graph?format=png");
  check_problem(png, 400, "invalid-parameter");
  CHECK(png.body["parameter"] == "format");

  // What the console reads beside the graph: the version's signals, unfinished counts, the
  // instance's newest event and the input its step was given.
  auto def = api.get("/v1/workflows/returns/versions/1").body;
  CHECK(def["signals"] == json::array({"note", "warehouse.received"}));
  CHECK(api.get("/v1/workflows").body["items"][0]["versions"][0]["unfinished"] == 1);
  auto view = api.get("/v1/instances/" + id).body;
  CHECK(view["last_seq"].get<int>() > 3);
  CHECK(view["step_input"] == json{{"code", "ErpDown"}, {"times", 1}, {"retryable", false}});
  CHECK(view["pending_commands"] == json::array());
}

// A graph whose layout passes --layout-timeout is refused (422), for the version and for every
// instance's path on it, and the answer says what to ask for instead; other versions draw.
TEST_CASE("Api.Graph.ALayoutPastItsBoundIsRefused") {
  ApiFixture api({{"returns.yaml", kReturnsWorkflow},
                  {"tangle.yaml", testing::slow_layout_workflow("tangle")}},
                 {"--layout-timeout", "5s"});  // returns lays out in 0.6 s; tangle in 46 s
  const std::string detail =
      "workflow tangle version 1 cannot be drawn as SVG: Graphviz did not lay out the graph "
      "within 5s; format=dot or format=mermaid give the graph without a layout";
  for (int i = 0; i < 2; ++i) {
    auto refused = api.get("/v1/workflows/tangle/versions/1/graph");
    check_problem(refused, 422, "graph-too-large");
    CHECK(refused.body["detail"] == detail);
    CHECK(refused.body["title"] == "The graph is too costly to lay out as SVG");
  }
  auto started =
      api.call("POST", "/v1/instances", R"({"workflow": "tangle", "input": {}})", "submitter");
  REQUIRE(started.status < 300);
  auto id = started.body["id"].get<std::string>();
  auto path = api.get("/v1/instances/" + id + "/graph");
  check_problem(path, 422, "graph-too-large");
  CHECK(path.body["detail"] == detail);
  auto dot = api.get("/v1/instances/" + id + "/graph?format=dot");
  CHECK(dot.status == 200);
  CHECK(dot.text.find("\"s199\" -> \"done\"") != std::string::npos);
  auto other = api.get("/v1/workflows/returns/versions/1/graph");
  CHECK(other.status == 200);
  CHECK(other.text.find("<svg") != std::string::npos);
}
