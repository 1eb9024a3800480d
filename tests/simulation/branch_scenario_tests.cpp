// Scenarios for workflows with branches: outcomes scripted per branch (by key or by path) and
// answered by the most specific script, signals with a match value, and expectations about the
// path each branch took and how it ended, checked against an instance's history.
#include <doctest/doctest.h>

#include <fmt/format.h>

#include <map>

#include "engine/simulation/scripted_world.hpp"
#include "rmaflow/simulation.hpp"
#include "tests/adapters/fake_host.hpp"
#include "tests/support/process.hpp"

using namespace rmaflow;
using namespace rmaflow::testing;
using json = nlohmann::json;

namespace {

std::vector<std::string> listing(const ScenarioLoad& loaded) {
  std::vector<std::string> lines;
  for (const auto& d : loaded.diagnostics) lines.push_back(format_diagnostic(d));
  return lines;
}

std::vector<std::string> steps_of(const std::vector<ExpectedStep>& path) {
  std::vector<std::string> out;
  for (const auto& e : path) out.push_back(e.step);
  return out;
}

}  // namespace

TEST_CASE("Simulation.Issue13.ScenarioReadsBranchesAndMatch") {
  TempDir dir;
  auto file = dir.write("s.yaml", R"(scenario: per line
workflow: line-return.yaml
input: { rma_id: R1 }
adapters:
  wms.inspect_line:
    - { branch: L1, result: { grade: A } }
    - { branch: "inspect_lines[L2]", fail: Damaged, times: 2 }
    - { result: { grade: C } }
signals:
  - { at: 1d, name: warehouse.line_received, match: L1 }
  - { at: 2d, name: warehouse.line_received, match: 7 }
  - { at: 3d, name: warehouse.received }
expect:
  path:
    - authorize
    - inspect_lines:
        L1: [await_line, inspect, restocked]
        L2:
          - await_line
          - check:
              P1: [probe, ok]
    - done
  branches:
    L1: restocked
    "inspect_lines[L2]": { status: scrapped, output: { credit: true } }
)");
  auto loaded = load_scenario(file);
  INFO(fmt::format("{}", fmt::join(listing(loaded), "\n")));
  REQUIRE(loaded.scenario.has_value());
  const Scenario& s = *loaded.scenario;
  const auto& outcomes = s.scripts.at("wms.inspect_line");
  REQUIRE(outcomes.size() == 3);
  CHECK(outcomes[0].branch == "L1");
  CHECK(outcomes[1].branch == "inspect_lines[L2]");
  CHECK(outcomes[1].times == 2);
  CHECK(outcomes[2].branch.empty());
  REQUIRE(s.signals.size() == 3);
  CHECK(s.signals[0].match == "L1");
  CHECK(s.signals[1].match == 7);
  CHECK(s.signals[2].match.is_null());
  REQUIRE(s.expect.path.has_value());
  const auto& path = *s.expect.path;
  CHECK(steps_of(path) == std::vector<std::string>{"authorize", "inspect_lines", "done"});
  REQUIRE(path[1].branches.size() == 2);
  CHECK(path[1].branches[0].first == "L1");
  CHECK(steps_of(path[1].branches[0].second) ==
        std::vector<std::string>{"await_line", "inspect", "restocked"});
  const auto& l2 = path[1].branches[1].second;
  REQUIRE(l2.size() == 2);
  REQUIRE(l2[1].branches.size() == 1);
  CHECK(l2[1].step == "check");
  CHECK(l2[1].branches[0].first == "P1");
  CHECK(steps_of(l2[1].branches[0].second) == std::vector<std::string>{"probe", "ok"});
  REQUIRE(s.expect.branches.size() == 2);
  CHECK(s.expect.branches[0].branch == "L1");
  CHECK(s.expect.branches[0].status == "restocked");
  CHECK_FALSE(s.expect.branches[0].output.has_value());
  CHECK(s.expect.branches[1].branch == "inspect_lines[L2]");
  CHECK(s.expect.branches[1].output == json({{"credit", true}}));
  CHECK(s.expect.any());
}

TEST_CASE("Simulation.Issue13.ScenarioErrorsInTheNewKeys") {
  TempDir dir;
  auto file = dir.write("bad.yaml", R"(scenario: bad
adapters:
  a.b:
    - { branch: [L1] }
signals:
  - { at: 1d, name: s, match: { a: 1 } }
expect:
  path: [a, { b: [x] }, { c: {}, d: {} }, { e: { K: 5 } }]
  branches:
    L1: [restocked]
    L2: { status: x, out: 1 }
)");
  auto loaded = load_scenario(file);
  CHECK_FALSE(loaded.scenario.has_value());
  auto lines = listing(loaded);
  INFO(fmt::format("{}", fmt::join(lines, "\n")));
  auto has = [&](const std::string& prefix) {
    return std::any_of(lines.begin(), lines.end(),
                       [&](const std::string& l) { return l.rfind(file + ":" + prefix, 0) == 0; });
  };
  CHECK(has("4:17: error[wrong-type]"));    // branch: a list
  CHECK(has("6:31: error[wrong-type]"));    // match: a mapping
  CHECK(has("8:18: error[wrong-type]"));    // a fan-out step's branches: a list
  CHECK(has("8:25: error[wrong-type]"));    // an entry with two keys
  CHECK(has("8:53: error[wrong-type]"));    // a branch's path: a number
  CHECK(has("10:9: error[wrong-type]"));    // a branch's end: a list
  CHECK(has("11:22: error[unknown-key]"));  // out
  CHECK(std::find(lines.begin(), lines.end(),
                  file + ":8:53: error[wrong-type]: \"K\" in the branches of e in expect/path must "
                         "be a list of steps, not an integer") != lines.end());
}

TEST_CASE("Simulation.Issue13.TheScriptedWorldAnswersEachBranchFromItsOwnScript") {
  Scenario s;
  auto outcome = [](std::string branch, json result, int times = 1) {
    ScriptedOutcome o;
    o.branch = std::move(branch);
    o.result = std::move(result);
    o.times = times;
    return o;
  };
  s.scripts["wms.inspect_line"] = {outcome("L1", {{"grade", "A"}}, 2),
                                   outcome("L1", {{"grade", "B"}}),
                                   outcome("inspect_lines[L2]", {{"grade", "D"}}),
                                   outcome("P1", {{"probe", "deep"}}),
                                   outcome("", {{"grade", "C"}})};
  simulation::ScriptedWorld world(s);
  auto adapter = world.adapter("wms");
  FakeHost host(from_millis(0));
  int keys = 0;
  auto call = [&](const std::string& branch) {
    Invocation inv;
    inv.operation = "inspect_line";
    inv.step = "inspect";
    inv.branch = branch;
    inv.idempotency_key = fmt::format("I:inspect:{}", ++keys);  // every call a new effect
    std::optional<Outcome> answer;
    adapter->invoke(inv, host, [&](Outcome o) { answer = std::move(o); });
    REQUIRE(answer.has_value());
    REQUIRE(answer->ok());
    return *answer->result;
  };
  // L1's own script, in order; its last entry repeats.
  CHECK(call("inspect_lines[L1]") == json({{"grade", "A"}}));
  CHECK(call("inspect_lines[L1]") == json({{"grade", "A"}}));
  CHECK(call("inspect_lines[L1]") == json({{"grade", "B"}}));
  CHECK(call("inspect_lines[L1]") == json({{"grade", "B"}}));
  // By path: that branch, and the branches nested in it.
  CHECK(call("inspect_lines[L2]") == json({{"grade", "D"}}));
  CHECK(call("inspect_lines[L2]/check[X]") == json({{"grade", "D"}}));
  // A key deeper in the path wins over one higher up; a key is a whole segment's key.
  CHECK(call("inspect_lines[L1]/check[P1]") == json({{"probe", "deep"}}));
  CHECK(call("inspect_lines[L11]") == json({{"grade", "C"}}));
  // Every other call, the main line's too, takes the outcomes without a branch.
  CHECK(call("inspect_lines[L3]") == json({{"grade", "C"}}));
  CHECK(call("") == json({{"grade", "C"}}));
  REQUIRE(world.calls().size() == 10);
  CHECK(world.calls()[4].branch == "inspect_lines[L2]");
  CHECK(world.calls()[9].branch.empty());
  CHECK(world.calls()[0].scripted);

  // An action scripted for some branches only: the others are unscripted and get {}.
  Scenario only;
  only.scripts["wms.inspect_line"] = {outcome("L1", {{"grade", "A"}})};
  simulation::ScriptedWorld partial(only);
  auto wms = partial.adapter("wms");
  Invocation inv;
  inv.operation = "inspect_line";
  inv.branch = "inspect_lines[L2]";
  inv.idempotency_key = "I:inspect[L2]:1";
  std::optional<Outcome> answer;
  wms->invoke(inv, host, [&](Outcome o) { answer = std::move(o); });
  REQUIRE(answer.has_value());
  CHECK(answer->result == json::object());
  CHECK_FALSE(partial.calls().back().scripted);
}

TEST_CASE("Simulation.Issue13.ExpectationsPerBranch") {
  SimulationResult r;
  std::int64_t seq = 0;
  auto event = [&](EventType type, const std::string& step, const std::string& branch,
                   json data = json::object()) {
    EventRow e;
    e.seq = ++seq;
    e.type = type;
    e.step = step;
    e.branch = branch;
    e.data = data.dump();
    r.history.push_back(e);
  };
  auto entered = [&](const std::string& step, const std::string& branch = "") {
    event(EventType::step_entered, step, branch);
  };
  const std::string l1 = "inspect_lines[L1]", l2 = "inspect_lines[L2]";
  const std::string nested = "inspect_lines[L1]/probe[L2]";
  entered("authorize");
  entered("inspect_lines");
  entered("await_line", l1);
  entered("await_line", l2);
  entered("inspect", l1);
  entered("probe", l1);
  entered("look", nested);
  event(EventType::branch_ended, "look", nested, {{"status", "seen"}, {"output", nullptr}});
  entered("restocked", l1);
  event(EventType::branch_ended, "restocked", l1,
        {{"status", "restocked"}, {"output", {{"credit", true}}}});
  entered("not_received", l2);
  event(EventType::branch_ended, "not_received", l2,
        {{"status", "not_received"}, {"output", {{"credit", false}}}});
  entered("done");
  r.row.status = InstanceStatus::completed;

  CHECK(r.path() == std::vector<std::string>{"authorize", "inspect_lines", "done"});
  CHECK(r.path(l1) == std::vector<std::string>{"await_line", "inspect", "probe", "restocked"});
  CHECK(r.path(nested) == std::vector<std::string>{"look"});
  REQUIRE(r.branch_ends().size() == 3);
  CHECK(r.branch_ends()[1].branch == l1);
  CHECK(r.branch_ends()[1].output == json({{"credit", true}}));

  Expectations met;
  met.status = InstanceStatus::completed;
  met.path = std::vector<ExpectedStep>{
      {"authorize", {}},
      {"inspect_lines",
       {{"L1", {{"await_line", {}}, {"inspect", {}}, {"probe", {{"L2", {{"look", {}}}}}}, {"restocked", {}}}},
        {"L2", {{"await_line", {}}, {"not_received", {}}}}}},
      {"done", {}}};
  met.branches = {{"L1", "restocked", json{{"credit", true}}},
                  {"inspect_lines[L2]", "not_received", std::nullopt},
                  {"inspect_lines[L1]/probe[L2]", "seen", std::nullopt}};
  met.visited = {"look", "restocked"};  // steps of branches count
  met.not_visited = {"scrapped"};
  for (const auto& m : check_expectations(met, r)) FAIL_CHECK(m.what);

  Expectations unmet;
  unmet.path = std::vector<ExpectedStep>{
      {"authorize", {}},
      {"inspect_lines", {{"L2", {{"await_line", {}}, {"inspect", {}}}}}},
      {"done", {}}};
  unmet.branches = {{"L1", "scrapped", json{{"credit", false}}},
                    {"L2", "not_received", std::nullopt},
                    {"L9", "restocked", std::nullopt}};
  unmet.not_visited = {"look"};
  std::map<std::string, std::vector<std::string>> by_what;
  for (const auto& m : check_expectations(unmet, r)) by_what[m.what] = m.lines;
  CHECK(by_what.count("path") == 0);  // the main line is as expected
  CHECK(by_what["path of branch inspect_lines[L2]"] ==
        std::vector<std::string>{"(- expected, + actual)", "  await_line", "- inspect",
                                 "+ not_received"});
  CHECK(by_what["branches"] ==
        std::vector<std::string>{
            "branch inspect_lines[L1]: expected scrapped, got restocked",
            "branch inspect_lines[L1] output/credit: expected false, got true",
            "branch L2: the key names 2 branches (inspect_lines[L1]/probe[L2], "
            "inspect_lines[L2]); give its path",
            "branch L9: expected restocked, but it never ended"});
  CHECK(by_what["not_visited"] == std::vector<std::string>{"step look was entered"});
  CHECK(by_what.size() == 3);
}
