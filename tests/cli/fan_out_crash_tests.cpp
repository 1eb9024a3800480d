// Fan-out under SIGKILL: the real binary runs RMAs whose lines are restocked in parallel
// branches (at most three at once), some lines going to a repair vendor as a child workflow,
// and is killed while branches are in flight, between a branch's end and its join, and while a
// child is being started. After each restart every instance must finish, no branch may run
// twice, no child may be started twice, and no effect may happen twice for any line.
#include <doctest/doctest.h>

#include <filesystem>
#include <map>
#include <set>

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "tests/cli/cli_checks.hpp"
#include "tests/support/process.hpp"

using namespace rmaflow::testing;
using json = nlohmann::json;

namespace {

constexpr int kRmas = 24;
constexpr int kLines = 4;

const char* kReturn = R"(
workflow: crash-lines
version: 1
business_key: ${ .input.rma_id }
defaults:
  timeout: 10s
  retry: { max_attempts: 4, interval: 30ms, backoff: 1.0 }
start: label
steps:
  label:
    action: carrier.create_label
    with: { rma: "${ .input.rma_id }" }
    next: lines
  lines:
    foreach: ${ .input.lines }
    as: line
    key: ${ .line.id }
    concurrency: 3
    result: lines
    start: restock
    steps:
      restock:
        action: wms.restock
        with: { rma: "${ .input.rma_id }", line: "${ .line.id }" }
        next: needs_repair
      needs_repair:
        switch:
          - if: .line.repair
            next: repair
        default: restocked
      repair:
        call: { workflow: crash-repair, input: "${ {rma: .input.rma_id, line: .line.id} }" }
        next: repaired
      restocked: { end: restocked }
      repaired: { end: repaired }
    next: credit
  credit:
    action: erp.post_credit_memo
    with: { rma: "${ .input.rma_id }", lines: "${ .lines | length }" }
    next: done
  done: { end: completed }
)";

const char* kRepair = R"(
workflow: crash-repair
version: 1
defaults:
  timeout: 10s
  retry: { max_attempts: 4, interval: 30ms, backoff: 1.0 }
start: fix
steps:
  fix:
    action: vendor.repair
    with: { rma: "${ .input.rma }", line: "${ .input.line }" }
    next: done
  done: { end: completed }
)";

const char* kFanOutAdapters = R"(
adapters:
  carrier: { type: builtin, ledger: effects.db, latency: 1ms }
  wms:
    type: builtin
    ledger: effects.db
    latency: 2ms
    operations:
      restock: { fail: Transient, times: 1, delay: 1ms }
  vendor: { type: builtin, ledger: effects.db, latency: 3ms }
  erp: { type: builtin, ledger: effects.db, latency: 1ms }
)";

struct FanOutRun {
  TempDir dir;
  std::string db = dir.file("lines.db");
  std::string wf_dir = dir.path() + "/workflows";
  std::string adapters = dir.write("adapters.yaml", kFanOutAdapters);
  std::string inputs;

  FanOutRun() {
    dir.write("workflows/crash-lines.yaml", kReturn);
    dir.write("workflows/crash-repair.yaml", kRepair);
    json rmas = json::array();
    for (int i = 0; i < kRmas; ++i) {
      json lines = json::array();
      for (int l = 1; l <= kLines; ++l) {
        lines.push_back({{"id", fmt::format("L{}", l)}, {"repair", (i + l) % 3 == 0}});
      }
      rmas.push_back({{"workflow", "crash-lines"},
                      {"input", {{"rma_id", fmt::format("RMA-{:02}", i)}, {"lines", lines}}}});
    }
    inputs = dir.write("rmas.json", rmas.dump());
  }

  ProcessResult run(const std::string& kill_at) {
    // These kills are a supervisor's, not a poison RMA's: two of them may land on the same
    // instance, which the engine would then quarantine (hard_fault_tests covers that). The
    // record of the instance being processed is cleared so that each restart recovers all.
    std::error_code ignored;
    std::filesystem::remove(std::filesystem::weakly_canonical(db).string() + ".processing", ignored);
    std::vector<std::string> env;
    if (!kill_at.empty()) env.push_back("RMAFLOW_KILL_AT=" + kill_at);
    return run_process({rmaflow_binary(), "run", "--db", db, "--workflows", wf_dir, "--adapters",
                        adapters, inputs},
                       env);
  }
};

void check_fan_out_recovery(FanOutRun& r) {
  SQLite::Database db(r.db, SQLite::OPEN_READONLY);
  std::map<std::string, std::string> parents;  // id -> business key
  std::map<std::string, std::string> children;  // "<parent>:<branch>" -> child id
  SQLite::Statement instances(
      db, "SELECT id, workflow, business_key, status, parent_id, parent_branch FROM instances");
  while (instances.executeStep()) {
    std::string id = instances.getColumn(0).getString();
    CHECK_MESSAGE(instances.getColumn(3).getInt() == 10, "instance ", id, " of ",
                  instances.getColumn(1).getString(), " did not complete");
    if (instances.getColumn(1).getString() == "crash-lines") {
      parents[id] = instances.getColumn(2).getString();
    } else {
      auto at = instances.getColumn(4).getString() + ":" + instances.getColumn(5).getString();
      CHECK_MESSAGE(children.emplace(at, id).second, "a second child for ", at);
    }
  }
  CHECK(parents.size() == kRmas);

  std::set<std::string> expected;
  int repairs = 0;
  for (const auto& [id, key] : parents) {
    int i = std::stoi(key.substr(4));
    expected.insert(id + ":label:1");
    expected.insert(id + ":credit:1");
    for (int l = 1; l <= kLines; ++l) {
      std::string line = fmt::format("L{}", l);
      expected.insert(fmt::format("{}:restock[{}]:1", id, line));
      if ((i + l) % 3 == 0) {
        ++repairs;
        auto child = children.find(id + ":lines[" + line + "]");
        REQUIRE_MESSAGE(child != children.end(), "no repair child for ", id, " ", line);
        expected.insert(child->second + ":fix:1");
      }
    }
    // Each branch began and ended once: no branch ran twice.
    SQLite::Statement events(db, "SELECT type, branch FROM events WHERE instance_id = ? ORDER BY seq");
    events.bind(1, id);
    std::map<std::string, int> began, ended;
    std::int64_t count = 0;
    while (events.executeStep()) {
      ++count;
      int type = events.getColumn(0).getInt();
      if (type == 41) ++began[events.getColumn(1).getString()];
      if (type == 42) ++ended[events.getColumn(1).getString()];
    }
    CHECK(began.size() == kLines);
    for (const auto& [branch, n] : began) CHECK_MESSAGE(n == 1, branch, " of ", id, " began ", n);
    for (const auto& [branch, n] : ended) CHECK_MESSAGE(n == 1, branch, " of ", id, " ended ", n);
    SQLite::Statement last(db, "SELECT max(seq) FROM events WHERE instance_id = ?");
    last.bind(1, id);
    REQUIRE(last.executeStep());
    CHECK(last.getColumn(0).getInt64() == count);  // no gaps
  }
  CHECK(children.size() == static_cast<std::size_t>(repairs));

  SQLite::Database ledger(r.dir.file("effects.db"), SQLite::OPEN_READONLY);
  std::set<std::string> keys;
  SQLite::Statement effects(ledger, "SELECT key, effects FROM effects");
  while (effects.executeStep()) {
    auto key = effects.getColumn(0).getString();
    keys.insert(key);
    CHECK_MESSAGE(effects.getColumn(1).getInt() == 1, "effect of ", key, " applied ",
                  effects.getColumn(1).getInt(), " times");
  }
  CHECK(keys == expected);
}

void kill_and_recover_fan_out(const std::vector<std::string>& kills) {
  FanOutRun r;
  kill_then_finish([&](const std::string& kill_at) { return r.run(kill_at); }, kills);
  check_fan_out_recovery(r);
}

}  // namespace

TEST_CASE("FanOut.Sigkill.Issue13.WhileBranchesAreInFlight") {
  kill_and_recover_fan_out({"invoke.after:40", "invoke.after:40"});
}
// Each kill must be reached: a run dying at its 15th branch end has committed fewer than 15,
// so 96 branches leave work for every later run, and a last run surely makes 3 commits.
TEST_CASE("FanOut.Sigkill.Issue13.BetweenABranchEndAndTheJoin") {
  kill_and_recover_fan_out({"branch.ended:15", "branch.ended:15", "commit.after:3"});
}
TEST_CASE("FanOut.Sigkill.Issue13.WhileStartingAChild") {
  kill_and_recover_fan_out({"child.started:5", "child.started:5", "commit.after:4"});
}
