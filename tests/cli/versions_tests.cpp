// `rmaflow deploy` and `rmaflow versions`, run as an analyst runs them: a new version deployed
// while instances of the old one wait, the report of the steps they stand on, refusals, and
// the old instances finishing on their version.
#include <doctest/doctest.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "tests/support/process.hpp"

using namespace rmaflow::testing;
using json = nlohmann::json;

namespace {

const char* kV1 = R"(workflow: parcel
version: 1
business_key: ${ .input.rma_id }
start: label
steps:
  label:
    action: builtin.noop
    with: { rma: "${ .input.rma_id }" }
    result: label
    next: await_parcel
  await_parcel:
    wait: { signal: warehouse.received, timeout: 30d }
    result: receipt
    on_timeout: expired
    next: credit
  credit:
    action: builtin.noop
    next: done
  done: { end: completed }
  expired: { end: expired }
)";

const char* kV2 = R"(workflow: parcel
version: 2
business_key: ${ .input.rma_id }
start: label
steps:
  label:
    action: builtin.noop
    with: { rma: "${ .input.rma_id }" }
    result: label
    next: await_receipt
  await_receipt:
    wait: { signal: warehouse.received, timeout: 30d }
    result: receipt
    on_timeout: expired
    next: inspect
  inspect:
    action: builtin.noop
    next: credit
  credit:
    action: builtin.noop
    next: done
  done: { end: completed }
  expired: { end: expired }
)";

struct Db {
  TempDir dir;
  std::string db = dir.file("returns.db");
  std::string v1 = dir.write("v1/parcel.yaml", kV1);
  std::string v2 = dir.write("v2/parcel.yaml", kV2);

  ProcessResult rmaflow(std::vector<std::string> args) {
    args.insert(args.begin(), rmaflow_binary());
    return run_process(args);
  }
  // Starts one instance per RMA id on version 1 and runs them to their wait.
  void start_on_v1(const std::vector<std::string>& rmas) {
    json inputs = json::array();
    for (const auto& id : rmas) inputs.push_back({{"rma_id", id}});
    auto r = rmaflow({"run", "--db", db, "--workflows", dir.path() + "/v1",
                      dir.write("rmas.json", inputs.dump())});
    INFO(r.out, r.err);
    REQUIRE(r.exit_code == 0);
  }
  json list() {
    auto r = rmaflow({"list", "--db", db, "--format", "json"});
    REQUIRE(r.exit_code == 0);
    return json::parse(r.out);
  }
};

}  // namespace

TEST_CASE("Cli.Deploy.ReportsStrandedStepsThenDeploys") {
  Db d;
  d.start_on_v1({"R1", "R2"});
  auto r = d.rmaflow({"deploy", d.v2, "--db", d.db});
  INFO(r.out, r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out ==
        d.v2 + ": workflow parcel version 2 deployed (newest before: version 1)\n"
               "  2 unfinished instances of version 1 stand at step await_parcel, which version 2 "
               "does not have (renamed to await_receipt?)\n"
               "  they finish on version 1; to move the waiting ones to version 2: rmaflow "
               "migrate --db " +
            d.db + " --workflow parcel --from 1 --to 2 --map await_parcel=await_receipt\n");
  CHECK(r.err.empty());

  auto again = d.rmaflow({"deploy", d.v2, "--db", d.db, "--format", "json"});
  CHECK(again.exit_code == 0);
  auto report = json::parse(again.out);
  CHECK(report[0]["result"] == "unchanged");
  CHECK(report[0]["stranded"][0]["step"] == "await_parcel");
  CHECK(report[0]["stranded"][0]["waiting"] == 2);
}

TEST_CASE("Cli.Deploy.DryRunStoresNothing") {
  Db d;
  d.start_on_v1({"R1"});
  auto r = d.rmaflow({"deploy", d.v2, "--db", d.db, "--dry-run"});
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("workflow parcel version 2 would be deployed") != std::string::npos);
  auto versions = d.rmaflow({"versions", "--db", d.db, "--format", "json"});
  CHECK(json::parse(versions.out).size() == 1);
  // Without a database a dry run creates none.
  auto fresh = d.rmaflow({"deploy", d.v2, "--db", d.dir.file("none.db"), "--dry-run"});
  CHECK(fresh.exit_code == 0);
  CHECK_FALSE(std::filesystem::exists(d.dir.file("none.db")));
}

TEST_CASE("Cli.Deploy.SameVersionOtherContentIsRefused") {
  Db d;
  REQUIRE(d.rmaflow({"deploy", d.v1, "--db", d.db}).exit_code == 0);
  std::string changed = kV1;
  changed.replace(changed.find("timeout: 30d"), 12, "timeout: 20d");
  auto other = d.dir.write("changed/parcel.yaml", changed);
  // Both files in one deploy: the clash refuses the whole deploy, v2 included.
  auto r = d.rmaflow({"deploy", d.v2, other, "--db", d.db});
  CHECK(r.exit_code == 1);
  CHECK(r.err ==
        "rmaflow: workflow parcel version 1 is already deployed in " + d.db +
            " with different content; give the change a new version number (nothing was "
            "deployed)\n");
  auto versions = json::parse(d.rmaflow({"versions", "--db", d.db, "--format", "json"}).out);
  REQUIRE(versions.size() == 1);
  CHECK(versions[0]["version"] == 1);
}

TEST_CASE("Cli.Deploy.InvalidFileDeploysNothing") {
  Db d;
  auto bad = d.dir.write("bad.yaml", "workflow: parcel\nversion: 3\nstart: a\nsteps:\n  a: {}\n");
  auto r = d.rmaflow({"deploy", d.v1, bad, "--db", d.db});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find(bad + ":5:3: error[missing-kind]") != std::string::npos);
  CHECK(r.err.find("rmaflow: nothing was deployed: fix the errors above first\n") !=
        std::string::npos);
  CHECK_FALSE(std::filesystem::exists(d.db));
}

TEST_CASE("Cli.Versions.ListsUnfinishedInstancesPerVersion") {
  Db d;
  d.start_on_v1({"R1", "R2", "R3"});
  REQUIRE(d.rmaflow({"deploy", d.v2, "--db", d.db}).exit_code == 0);
  auto r = d.rmaflow({"versions", "--db", d.db});
  INFO(r.out);
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("await_parcel: 3 waiting") != std::string::npos);
  CHECK(r.out.find("2 version(s)\n") != std::string::npos);
  auto j = json::parse(d.rmaflow({"versions", "--db", d.db, "--format", "json"}).out);
  REQUIRE(j.size() == 2);
  CHECK(j[0]["unfinished"] == 3);
  CHECK(j[0]["steps"][0] == json({{"step", "await_parcel"}, {"status", "waiting"}, {"count", 3}}));
  CHECK(j[1]["unfinished"] == 0);
  auto unknown = d.rmaflow({"versions", "--db", d.db, "--workflow", "nope"});
  CHECK(unknown.exit_code == 1);
  CHECK(unknown.err == "rmaflow: no workflow named nope is deployed in " + d.db + "\n");
}

TEST_CASE("Cli.Deploy.V1InstancesWaitingFinishOnV1") {
  Db d;
  d.start_on_v1({"R1", "R2"});
  REQUIRE(d.rmaflow({"deploy", d.v2, "--db", d.db}).exit_code == 0);
  for (const auto& instance : d.list()) {
    auto r = d.rmaflow({"signal", "--db", d.db, instance["id"], "warehouse.received"});
    REQUIRE(r.exit_code == 0);
  }
  // The engine runs on a directory holding only version 2; version 1 comes from the database.
  auto run = d.rmaflow({"run", "--db", d.db, "--workflows", d.dir.path() + "/v2"});
  INFO(run.out, run.err);
  REQUIRE(run.exit_code == 0);
  for (const auto& instance : d.list()) {
    CHECK(instance["version"] == 1);
    CHECK(instance["status"] == "completed");
    auto history = json::parse(
        d.rmaflow({"history", "--db", d.db, instance["id"], "--format", "json"}).out);
    std::vector<std::string> steps;
    for (const auto& e : history)
      if (e["type"] == "step_entered") steps.push_back(e["step"]);
    CHECK(steps == std::vector<std::string>{"label", "await_parcel", "credit", "done"});
  }
}
