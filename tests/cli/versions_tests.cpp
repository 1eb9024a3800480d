// `rmaflow deploy`, `versions` and `migrate`, run as an analyst runs them: a new version
// deployed while instances of the old one wait, the report of the steps they stand on,
// refusals, the old instances finishing on their version, and waiting instances moved to the
// new one (also across SIGKILLs).
#include <doctest/doctest.h>

#include <csignal>
#include <filesystem>

#include <SQLiteCpp/SQLiteCpp.h>
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
    return json::parse(r.out)["items"];
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

namespace {

std::size_t count_in(const std::string& db, const std::string& sql);

// The instances' migrate audit events.
std::vector<json> migrate_events(Db& d, const std::string& id) {
  std::vector<json> out;
  for (const auto& e : json::parse(d.rmaflow({"history", "--db", d.db, id, "--format", "json"}).out))
    if (e["type"] == "operator_action" && e["data"]["action"] == "migrate") out.push_back(e);
  return out;
}

}  // namespace

TEST_CASE("Cli.Migrate.DryRunShowsThePlanAndQueuesNothing") {
  Db d;
  d.start_on_v1({"R1", "R2"});
  REQUIRE(d.rmaflow({"deploy", d.v2, "--db", d.db}).exit_code == 0);
  auto r = d.rmaflow({"migrate", "--db", d.db, "--from", "1", "--to", "2", "--map",
                      "await_parcel=await_receipt", "--dry-run"});
  INFO(r.out, r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out.rfind("workflow parcel: version 1 -> 2\n", 0) == 0);
  for (const auto& instance : d.list())
    CHECK(r.out.find(instance["id"].get<std::string>() + "  waiting  await_parcel  await_receipt") !=
          std::string::npos);
  CHECK(r.out.find("2 can move, 0 refused\ndry run: nothing was queued\n") != std::string::npos);
  CHECK(count_in(d.db, "SELECT count(*) FROM commands") == 0);

  auto unmapped = d.rmaflow({"migrate", "--db", d.db, "--from", "1", "--to", "2", "--dry-run"});
  CHECK(unmapped.exit_code == 1);  // nothing can move
  CHECK(unmapped.out.find("refused: version 2 has no step await_parcel; map it with --map "
                          "await_parcel=STEP") != std::string::npos);
  auto bad_map = d.rmaflow({"migrate", "--db", d.db, "--from", "1", "--to", "2", "--map", "x"});
  CHECK(bad_map.exit_code == 2);
  auto unknown = d.rmaflow({"migrate", "--db", d.db, "--from", "1", "--to", "7"});
  CHECK(unknown.exit_code == 1);
  CHECK(unknown.err == "rmaflow: workflow parcel has no version 7\n");
}

TEST_CASE("Cli.Migrate.QueuedThenAppliedByTheEngineAndFinishOnTheNewVersion") {
  Db d;
  d.start_on_v1({"R1", "R2"});
  REQUIRE(d.rmaflow({"deploy", d.v2, "--db", d.db}).exit_code == 0);
  auto r = d.rmaflow({"migrate", "--db", d.db, "--from", "1", "--to", "2", "--map",
                      "await_parcel=await_receipt", "--reason", "v2 inspects", "--actor", "ana"});
  INFO(r.out, r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("queued 2 migration(s) as commands 1-2; the engine applies them when it next "
                   "runs on " + d.db + "\n") != std::string::npos);
  auto run = d.rmaflow({"run", "--db", d.db, "--workflows", d.dir.path() + "/v2"});
  INFO(run.out, run.err);
  CHECK(run.exit_code == 0);
  CHECK(run.out.find("command 1 (migrate ") != std::string::npos);
  CHECK(run.out.find("): applied\n") != std::string::npos);
  for (const auto& instance : d.list()) {
    CHECK(instance["version"] == 2);
    CHECK(instance["step"] == "await_receipt");
    auto events = migrate_events(d, instance["id"]);
    REQUIRE(events.size() == 1);
    CHECK(events[0]["data"]["actor"] == "ana");
    CHECK(events[0]["data"]["reason"] == "v2 inspects");
    REQUIRE(d.rmaflow({"signal", "--db", d.db, instance["id"], "warehouse.received"}).exit_code == 0);
  }
  REQUIRE(d.rmaflow({"run", "--db", d.db, "--workflows", d.dir.path() + "/v2"}).exit_code == 0);
  for (const auto& instance : d.list()) {
    CHECK(instance["status"] == "completed");
    auto history = d.rmaflow({"history", "--db", d.db, instance["id"]}).out;
    CHECK(history.find("inspect") != std::string::npos);  // a step only version 2 has
  }
}

TEST_CASE("Cli.Migrate.RefusesInstancesNotWaitingAtAWaitStep") {
  const char* mixed = R"(workflow: mixed
version: %d
start: route
steps:
  route:
    switch:
      - if: .input.broken == true
        next: broken
    default: await_parcel
  broken:
    action: builtin.fail
    with: { code: Broken, retryable: false }
    retry: { max_attempts: 1 }
    next: await_parcel
  await_parcel:
    wait: { signal: warehouse.received, timeout: %s }
    on_timeout: done
    next: done
  done: { end: completed }
)";
  auto version = [&](int v, const char* timeout) {
    std::string text = mixed;
    text.replace(text.find("%d"), 2, std::to_string(v));
    text.replace(text.find("%s"), 2, timeout);
    return text;
  };
  TempDir dir;
  auto db = dir.file("mixed.db");
  dir.write("v1/mixed.yaml", version(1, "30d"));
  auto v2 = dir.write("v2/mixed.yaml", version(2, "20d"));
  auto cli = [](std::vector<std::string> args) {
    args.insert(args.begin(), rmaflow_binary());
    return run_process(args);
  };
  REQUIRE(cli({"run", "--db", db, "--workflows", dir.path() + "/v1",
               dir.write("in.json", R"([{"rma_id": "ok"}, {"rma_id": "bad", "broken": true}])")})
              .exit_code == 0);
  REQUIRE(cli({"deploy", v2, "--db", db}).exit_code == 0);
  auto list = json::parse(cli({"list", "--db", db, "--format", "json"}).out)["items"];
  REQUIRE(list.size() == 2);
  std::string waiting = list[0]["status"] == "waiting" ? list[0]["id"] : list[1]["id"];
  std::string suspended = list[0]["status"] == "suspended" ? list[0]["id"] : list[1]["id"];

  auto all = cli({"migrate", "--db", db, "--from", "1", "--to", "2", "--dry-run"});
  INFO(all.out, all.err);
  CHECK(all.exit_code == 0);  // the waiting one can move; the other is reported
  CHECK(all.out.find(suspended + "  suspended  broken        refused: it is suspended at task step "
                                 "broken; only an instance waiting at a wait step can move") !=
        std::string::npos);
  CHECK(all.out.find("1 can move, 1 refused\n") != std::string::npos);
  auto named = cli({"migrate", "--db", db, "--from", "1", "--to", "2", "--instance", suspended});
  CHECK(named.exit_code == 1);  // the instance asked for cannot move
  CHECK(count_in(db, "SELECT count(*) FROM commands") == 0);
  auto json_plan = json::parse(
      cli({"migrate", "--db", db, "--from", "1", "--to", "2", "--instance", waiting, "--format",
           "json"})
          .out);
  CHECK(json_plan["instances"][0]["target"] == "await_parcel");
  CHECK(json_plan["commands"].size() == 1);
}

// Migration changes execution state: kill the engine before and after the commit that applies
// the queued migrations; each instance is migrated exactly once and then finishes on version 2.
TEST_CASE("Recovery.Sigkill.MigrationIsAppliedExactlyOnce") {
  Db d;
  d.start_on_v1({"R1", "R2", "R3"});
  REQUIRE(d.rmaflow({"deploy", d.v2, "--db", d.db}).exit_code == 0);
  REQUIRE(d.rmaflow({"migrate", "--db", d.db, "--from", "1", "--to", "2", "--map",
                     "await_parcel=await_receipt"})
              .exit_code == 0);
  auto run_killed = [&](const std::string& point) {
    auto r = run_process({rmaflow_binary(), "run", "--db", d.db, "--workflows", d.dir.path() + "/v2"},
                         {"RMAFLOW_KILL_AT=" + point});
    INFO(point, r.out, r.err);
    REQUIRE(r.signal == SIGKILL);
  };
  run_killed("commit.before:1");
  for (const auto& instance : d.list()) CHECK(instance["version"] == 1);  // nothing was applied
  CHECK(count_in(d.db, "SELECT count(*) FROM commands WHERE outcome = ''") == 3);

  run_killed("commit.after:1");
  for (const auto& instance : d.list()) {
    CHECK(instance["version"] == 2);  // applied with the commit that recorded the outcomes
    CHECK(migrate_events(d, instance["id"]).size() == 1);
  }
  CHECK(count_in(d.db, "SELECT count(*) FROM commands WHERE outcome = 'applied'") == 3);

  for (const auto& instance : d.list())
    REQUIRE(d.rmaflow({"signal", "--db", d.db, instance["id"], "warehouse.received"}).exit_code == 0);
  auto last = d.rmaflow({"run", "--db", d.db, "--workflows", d.dir.path() + "/v2"});
  INFO(last.out, last.err);
  REQUIRE(last.exit_code == 0);
  for (const auto& instance : d.list()) {
    CHECK(instance["status"] == "completed");
    CHECK(instance["version"] == 2);
    CHECK(migrate_events(d, instance["id"]).size() == 1);
  }
}

namespace {

std::size_t count_in(const std::string& db, const std::string& sql) {
  SQLite::Database database(db, SQLite::OPEN_READONLY);
  return static_cast<std::size_t>(database.execAndGet(sql).getInt64());
}

}  // namespace
