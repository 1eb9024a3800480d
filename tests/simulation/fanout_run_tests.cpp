// The fan-out scenarios in fanout/, run by the real engine in virtual time: per-branch scripts,
// signals matched to one branch (one sent before its branch waits), a concurrency of two, a
// branch that fails for good while the others finish, and a parallel step. See CMakeLists.txt:
// these run once the engine runs branches.
#include <doctest/doctest.h>

#include <fmt/format.h>

#include "rmaflow/simulation.hpp"
#include "tests/support/process.hpp"

using namespace rmaflow;

namespace {

struct Run {
  Scenario scenario;
  SimulationResult result;
};

Run run(const std::string& name, const std::string& dir = "fanout") {
  auto loaded = load_scenario(testing::source_dir() + "/tests/simulation/" + dir + "/" + name);
  for (const auto& d : loaded.diagnostics) MESSAGE(format_diagnostic(d));
  REQUIRE(loaded.scenario.has_value());
  auto workflow = load_definition_file(loaded.scenario->workflow_file);
  REQUIRE(workflow.ok());
  return {*loaded.scenario, simulate(workflow.definition, *loaded.scenario)};
}

void check_met(const Run& r) {
  for (const auto& m : check_expectations(r.scenario.expect, r.result)) {
    std::string lines;
    for (const auto& line : m.lines) lines += "\n  " + line;
    FAIL_CHECK(m.what << lines);
  }
}

}  // namespace

TEST_CASE("Simulation.Issue13.MixedLinesEndAsScripted") {
  auto r = run("mixed-lines.yaml");
  check_met(r);
  CHECK(r.result.notes.empty());
}

TEST_CASE("Simulation.Issue13.AScanBeforeTheWaitIsKeptForItsBranch") {
  auto r = run("scan-before-the-wait.yaml");
  check_met(r);
  CHECK(r.result.notes.empty());  // the early scan was kept, not refused
}

TEST_CASE("Simulation.Issue13.OneLineFailsTheOthersFinish") {
  auto r = run("one-line-fails.yaml");
  check_met(r);
  auto ends = r.result.branch_ends();
  CHECK(ends.size() == 2);  // L1 and L3; L2 waits for an operator
}

TEST_CASE("Simulation.Issue13.CallsCarryTheirBranch") {
  auto r = run("mixed-lines.yaml");
  int inspections = 0;
  for (const auto& call : r.result.calls) {
    if (call.action != "wms.inspect_line") continue;
    ++inspections;
    std::string key = call.input.value("line_id", "");
    CHECK(call.branch == "inspect_lines[" + key + "]");
    CHECK(call.idempotency_key.find(":inspect[" + key + "]:") != std::string::npos);
  }
  CHECK(inspections == 2);  // L3 never arrived
  for (const auto& call : r.result.calls)
    if (call.action == "erp.close_rma") CHECK(call.branch == "close_and_notify[close]");
}

TEST_CASE("Simulation.Issue14.SignalsReachTheChildrenOfCallSteps") {
  // children/: each line's repair is a child workflow, loaded from its file beside the
  // parent's; the vendor's answers name the children by workflow and business key.
  auto r = run("child-signals.yaml", "children");
  check_met(r);
  CHECK(r.result.notes.empty());  // the child was found and both signals were taken
  int repairs = 0;
  for (const auto& call : r.result.calls) repairs += call.action == "vendor.open_repair";
  CHECK(repairs == 2);  // the children's calls are the world's too
}

TEST_CASE("Simulation.Issue14.ACalledWorkflowWithoutAFileIsNamedInTheNotes") {
  testing::TempDir dir;
  auto parent = dir.write("parent.yaml", R"(
workflow: parent
version: 1
start: repair
steps:
  repair:
    call: { workflow: vendor-repair, input: { rma_id: RMA-1, line_id: L1 } }
    result: repair
    catch:
      - errors: [UnknownWorkflow]
        next: not_deployed
    next: done
  done: { end: completed }
  not_deployed: { end: failed }
)");
  auto scenario_file = dir.write("s.yaml", "scenario: no child file\nworkflow: parent.yaml\n"
                                           "expect: { status: failed }\n");
  auto loaded = load_scenario(scenario_file);
  REQUIRE(loaded.scenario.has_value());
  auto workflow = load_definition_file(parent);
  REQUIRE(workflow.ok());
  auto result = simulate(workflow.definition, *loaded.scenario);
  CHECK(check_expectations(loaded.scenario->expect, result).empty());
  REQUIRE(result.notes.size() == 1);
  CHECK(result.notes[0].find("calls workflow vendor-repair") != std::string::npos);
  CHECK(result.notes[0].find("vendor-repair.yaml does not load") != std::string::npos);
}
