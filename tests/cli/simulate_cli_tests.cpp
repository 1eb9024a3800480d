// `rmaflow simulate` and `rmaflow test`, run as an analyst runs them: the shipped standard
// return through its 30-day expiry, a regression suite with passing and failing scenarios,
// and the errors.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "tests/support/hostile_yaml.hpp"
#include "tests/support/process.hpp"

using namespace rmaflow::testing;
using json = nlohmann::json;

namespace {

ProcessResult cli(std::vector<std::string> args) {
  args.insert(args.begin(), rmaflow_binary());
  return run_process(args);
}

std::string shipped(const std::string& path) { return source_dir() + "/workflows/" + path; }

const char* kWorkflow = R"(workflow: parcel
version: 1
start: label
steps:
  label:
    action: carrier.create_label
    result: label
    compensate: { action: carrier.void_label }
    next: await_parcel
  await_parcel:
    wait: { signal: warehouse.received, timeout: 10d }
    on_timeout: expired
    next: inspect
  inspect:
    action: wms.inspect
    next: done
  done: { end: completed }
  expired: { end: { status: expired, compensate: true } }
)";

// A scenario in which the parcel never comes, with `expect` as given.
std::string scenario(const std::string& name, const std::string& expect) {
  return "scenario: " + name + "\nworkflow: parcel.yaml\n" + expect;
}

}  // namespace

TEST_CASE("Cli.Simulate.ShippedStandardReturnThroughItsThirtyDayExpiry") {
  auto r = cli({"simulate", shipped("standard-return.yaml"), "--scenario",
                shipped("scenarios/standard-return/parcel-never-arrives.yaml")});
  INFO(r.out, r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("path: authorize > screen > route > issue_label > await_receipt > expired\n") != std::string::npos);
  CHECK(r.out.find("+0d 00:00:00  await_receipt          waiting for warehouse.received (timeout 30d)\n") !=
        std::string::npos);
  CHECK(r.out.find("+30d 00:00:00  await_receipt          timed out, to expired\n") != std::string::npos);
  CHECK(r.out.find("+30d 00:00:00  issue_label            undone: carrier.void_label ok\n") !=
        std::string::npos);
  CHECK(r.out.find("status: expired after 30d 00:00:00 of virtual time (") != std::string::npos);
  CHECK(r.out.find("compensations: issue_label, authorize\n") != std::string::npos);
  CHECK(r.out.find("effects: erp.authorize_return, carrier.create_label, carrier.void_label, "
                   "erp.void_authorization\n") != std::string::npos);
  CHECK(r.out.find("\"label_id\": \"LBL-2002\"") != std::string::npos);  // the final context
  CHECK(r.out.find("expectations: all met\n") != std::string::npos);

  // Without FILE the scenario's workflow: is used; JSON carries the same.
  auto j = cli({"simulate", "--scenario", shipped("scenarios/standard-return/parcel-never-arrives.yaml"),
                "--format", "json"});
  CHECK(j.exit_code == 0);
  auto report = json::parse(j.out);
  CHECK(report["status"] == "expired");
  CHECK(report["ended_after"] == "+30d 00:00:00");
  CHECK(report["path"] == json({"authorize", "screen", "route", "issue_label", "await_receipt", "expired"}));
  CHECK(report["effects"][2]["compensation"] == true);
  CHECK(report["expectations"]["met"] == true);
  CHECK(report["wall_ms"].get<double>() > 0);
}

TEST_CASE("Cli.Test.FailingExpectationsExitOneWithADiff") {
  TempDir dir;
  dir.write("parcel.yaml", kWorkflow);
  auto ok = dir.write("ok.yaml", scenario("the parcel never comes", R"(expect:
  status: expired
  ended_after: 10d
  compensated: [label]
)"));
  auto bad = dir.write("bad.yaml", scenario("wrongly expects the parcel", R"(expect:
  status: completed
  path: [label, await_parcel, inspect, done]
  context: { label: { id: L-1 } }
)"));
  auto r = cli({"test", dir.path()});
  INFO(r.out, r.err);
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("PASS  " + ok + "  the parcel never comes (expired after 10d 00:00:00, ") !=
        std::string::npos);
  CHECK(r.out.find("FAIL  " + bad + "  wrongly expects the parcel (expired after 10d 00:00:00, ") !=
        std::string::npos);
  CHECK(r.out.find("      status: expected completed, got expired\n"
                   "      path:\n"
                   "        (- expected, + actual)\n"
                   "          label\n"
                   "          await_parcel\n"
                   "        - inspect\n"
                   "        - done\n"
                   "        + expired\n"
                   "      context: /label/id: expected \"L-1\", but it is not there\n") !=
        std::string::npos);
  CHECK(r.out.find("2 scenario(s): 1 passed, 1 failed\n") != std::string::npos);
  // The workflow file beside the scenarios is not taken for one.
  CHECK(r.out.find("parcel.yaml  ") == std::string::npos);

  auto one = cli({"test", ok});
  CHECK(one.exit_code == 0);
  CHECK(one.out.find("1 scenario(s): 1 passed, 0 failed\n") != std::string::npos);
}

TEST_CASE("Cli.Test.ScenariosThatCannotRunFail") {
  TempDir dir;
  dir.write("parcel.yaml", kWorkflow);
  auto none = dir.write("a-none.yaml", scenario("states nothing", ""));
  auto broken = dir.write("b-broken.yaml", scenario("broken", "until: soon\nexpect: { status: expired }\n"));
  auto lost = dir.write("c-lost.yaml", "scenario: lost\nworkflow: missing.yaml\nexpect: { status: expired }\n");
  // Aliases that expand to 43 million nodes: found and refused without being walked.
  auto bomb = dir.write("d-bomb.yaml", yaml_alias_bomb() + "scenario: bomb\ninput: *h\n");
  auto r = cli({"test", dir.path()});
  INFO(r.out, r.err);
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("FAIL  " + none + "  states nothing\n      the scenario states no expectations "
                   "(expect:)\n") != std::string::npos);
  CHECK(r.out.find("FAIL  " + broken + "  (the scenario does not load)\n      " + broken +
                   ":3:8: error[bad-duration]") != std::string::npos);
  CHECK(r.out.find("FAIL  " + lost + "  lost\n      " + dir.file("missing.yaml") +
                   ":1:1: error[io]: cannot read the workflow file") != std::string::npos);
  CHECK(r.out.find("FAIL  " + bomb + "  (the scenario does not load)\n      " + bomb +
                   ":7:8: error[yaml-too-large]") != std::string::npos);
  CHECK(r.out.find("4 scenario(s): 0 passed, 4 failed\n") != std::string::npos);
  auto empty = cli({"test", dir.file("nowhere")});
  CHECK(empty.exit_code == 1);
  CHECK(empty.err == "rmaflow: " + dir.file("nowhere") + " is neither a scenario file nor a directory\n");
}

TEST_CASE("Cli.Simulate.Errors") {
  TempDir dir;
  dir.write("parcel.yaml", kWorkflow);
  auto usage = cli({"simulate", dir.file("parcel.yaml")});
  CHECK(usage.exit_code == 2);  // --scenario is required
  auto bad = dir.write("bad.yaml", "scenario: x\nsignals: [ { at: 1d } ]\n");
  auto r = cli({"simulate", dir.file("parcel.yaml"), "--scenario", bad});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find(bad + ":2:12: error[missing-key]: missing key \"name\" in a signal\n") !=
        std::string::npos);
  CHECK(r.err.find("rmaflow: the scenario " + bad + " has errors; nothing was simulated\n") !=
        std::string::npos);
  auto nowhere = dir.write("nowhere.yaml", "scenario: x\n");
  auto no_workflow = cli({"simulate", "--scenario", nowhere});
  CHECK(no_workflow.exit_code == 2);
  CHECK(no_workflow.err.find("the scenario names none (workflow:)") != std::string::npos);
  // A scenario whose expectations fail makes simulate exit 1 as well.
  auto wrong = dir.write("wrong.yaml", scenario("wrong", "expect: { status: completed }\n"));
  auto failed = cli({"simulate", "--scenario", wrong});
  CHECK(failed.exit_code == 1);
  CHECK(failed.out.find("expectations not met:\n  status: expected completed, got expired\n") !=
        std::string::npos);
}
