// `rmaflow run --clock virtual` and start requests that name their workflow: weeks of waits
// pass at once, durations are shown in virtual time, a rerun resumes where the database left
// off, and mistakes are one sentence.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "tests/cli/cli_checks.hpp"

using namespace rmaflow::testing;
using json = nlohmann::json;

namespace {

const char* kAwait = R"(workflow: await
version: 1
business_key: ${ .input.rma_id }
defaults:
  retry: { max_attempts: 3, interval: 1h, backoff: 1.0, max_interval: 1h }
start: label
steps:
  label:
    action: builtin.fail
    with: { code: Transient, times: 1 }
    next: await_receipt
  await_receipt:
    wait: { signal: warehouse.received, timeout: 30d }
    on_timeout: expired
    next: done
  done: { end: completed }
  expired: { end: expired }
)";

const char* kRefund = R"(workflow: refund
version: 1
business_key: ${ .input.rma_id }
start: credit
steps:
  credit:
    action: builtin.noop
    next: done
  done: { end: completed }
)";

struct Dir {
  TempDir dir;
  std::string db = dir.file("v.db");
  std::string workflows = dir.path() + "/workflows";
  Dir() {
    dir.write("workflows/await.yaml", kAwait);
    dir.write("workflows/refund.yaml", kRefund);
  }
  ProcessResult run(std::vector<std::string> extra) const {
    std::vector<std::string> args = {rmaflow_binary(), "run", "--db", db, "--workflows", workflows};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_process(args);
  }
  // The summary line of `key` in a run's output.
  static std::string row(const std::string& out, const std::string& key) {
    for (const auto& line : lines_of(out))
      if (contains(line, " " + key + " ")) return line;
    return "";
  }
};

}  // namespace

TEST_CASE("Cli.Run.VirtualClock.AMonthPassesAtOnceInVirtualTime") {
  Dir d;
  auto inputs = d.dir.write("in.json", R"([{"workflow": "await", "input": {"rma_id": "RMA-1"}},
                                           {"workflow": "refund", "input": {"rma_id": "RMA-2"}}])");
  auto r = d.run({"--clock", "virtual", "--start", "2025-06-02T08:00:00Z", inputs});
  INFO("stdout:\n", r.out, "\nstderr:\n", r.err);
  REQUIRE(r.exit_code == 0);
  // The retry waited its hour, then the wait its 30 days: the duration is virtual time.
  auto expired = Dir::row(r.out, "RMA-1");
  CHECK(contains(expired, "await@1"));
  CHECK(contains(expired, " expired "));
  CHECK(contains(expired, " 30d 1h "));
  CHECK(contains(expired, " 3 "));  // steps: label, await_receipt, expired
  auto refunded = Dir::row(r.out, "RMA-2");
  CHECK(contains(refunded, "refund@1"));
  CHECK(contains(refunded, " completed "));
  CHECK(contains(r.out, "2 instance(s): 2 started, 0 resumed; 1 completed, 1 expired\n"));
  CHECK(contains(r.out, "virtual clock: 2025-07-02T09:00:00.000Z"));
}

TEST_CASE("Cli.Run.VirtualClock.StopsAtTheHorizonAndResumesWhereTheDatabaseLeftOff") {
  Dir d;
  auto inputs = d.dir.write("in.json", R"({"workflow": "await", "input": {"rma_id": "RMA-1"}})");
  auto first = d.run({"--clock", "virtual", "--start", "2025-06-02T08:00:00Z", "--until", "10d", inputs});
  INFO("stdout:\n", first.out, "\nstderr:\n", first.err);
  REQUIRE(first.exit_code == 0);
  CHECK(contains(Dir::row(first.out, "RMA-1"), " waiting "));
  // An earlier --start does not turn the clock back: the second run goes on from the first.
  auto second = d.run({"--clock", "virtual", "--start", "2025-01-01T00:00:00Z"});
  INFO("stdout:\n", second.out, "\nstderr:\n", second.err);
  REQUIRE(second.exit_code == 0);
  CHECK(contains(Dir::row(second.out, "RMA-1"), " expired "));
  CHECK(contains(second.out, "1 instance(s): 0 started, 1 resumed; 1 expired"));
  CHECK(contains(second.out, "virtual clock: 2025-07-02T09:00:00.000Z"));
}

TEST_CASE("Cli.Run.StartRequests.NameTheirWorkflowBareInputsNeedOne") {
  Dir d;
  auto mixed = d.dir.write("mixed.json", R"([{"workflow": "refund", "input": {"rma_id": "RMA-1"}},
                                             {"rma_id": "RMA-2"}])");
  check_failure(d.run({mixed}), 1, {"holds several workflows", "--workflow"});
  auto r = d.run({"--workflow", "refund", mixed});
  INFO("stdout:\n", r.out, "\nstderr:\n", r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(contains(r.out, "2 instance(s): 2 started, 0 resumed; 2 completed"));
  auto unknown = d.dir.write("unknown.json", R"({"workflow": "exchange", "input": {"rma_id": "RMA-3"}})");
  check_failure(d.run({unknown}), 1, {unknown, "exchange"});
  auto bad_key = d.dir.write("key.json", R"({"workflow": "refund", "input": {}, "business_key": 7})");
  check_failure(d.run({bad_key}), 1, {bad_key, "business_key must be a string"});
}

TEST_CASE("Cli.Run.VirtualClock.MistakesAreOneSentence") {
  Dir d;
  check_failure(d.run({"--start", "2025-06-02T08:00:00Z"}), 1, {"--start", "--clock virtual"});
  check_failure(d.run({"--until", "10d"}), 1, {"--until", "--clock virtual"});
  check_failure(d.run({"--clock", "virtual", "--start", "June 2nd"}), 1, {"--start", "June 2nd"});
  check_failure(d.run({"--clock", "virtual", "--until", "a while"}), 1, {"--until", "a while"});
  check_failure(d.run({"--clock", "sundial"}), 2, {"--clock"});
}
