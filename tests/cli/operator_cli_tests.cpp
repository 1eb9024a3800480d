// The offline operator commands (`signal`, `retry`, `skip`, `goto`, `cancel`, `patch`,
// `resolve`) and `list --stuck`, run as an operator runs them against a database no engine
// holds: the command is checked and queued (exit 0, or one sentence and exit 1/2), the next
// `rmaflow run` applies it and prints its outcome, and `show` / `history` show what it did.
#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "rmaflow/clock.hpp"
#include "rmaflow/store.hpp"
#include "rmaflow/time.hpp"
#include "tests/cli/cli_checks.hpp"
#include "tests/support/process.hpp"
#include "tests/support/server_process.hpp"

using namespace rmaflow::testing;
using json = nlohmann::json;

namespace {

// Waits for a receipt; `gated` inputs first wait for gate.open, so a receipt sent early
// arrives while the instance waits for something else.
const char* kReceive = R"(workflow: receive
version: 1
business_key: ${ .input.rma_id }
start: prepare
steps:
  prepare:
    action: builtin.noop
    next: route
  route:
    switch:
      - if: .input.gated == true
        next: await_gate
    default: await_receipt
  await_gate:
    wait: { signal: gate.open, timeout: 30d }
    next: await_receipt
  await_receipt:
    wait: { signal: warehouse.received, timeout: 30d }
    result: receipt
    next: done
  done: { end: completed }
)";

// Suspends at `refund` (a non-retryable failure on the first call, one attempt allowed) after
// `label`, which has a compensation.
const char* kRepair = R"(workflow: repair
version: 1
business_key: ${ .input.rma_id }
start: label
steps:
  label:
    action: builtin.noop
    with: { label_id: L-1 }
    result: label
    compensate:
      action: builtin.noop
      with: { voided: "${ .label.label_id }" }
    next: refund
  refund:
    action: builtin.fail
    with: { code: Oops, times: 1, retryable: false }
    retry: { max_attempts: 1 }
    result: refund
    next: done
  done: { end: completed }
)";

// Every fate `list --stuck` must tell apart, chosen by the input.
const char* kFates = R"(workflow: fates
version: 1
business_key: ${ .input.rma_id }
start: route
steps:
  route:
    switch:
      - if: .input.kind == "reject"
        next: check
      - if: .input.kind == "broken"
        next: break_it
      - if: .input.kind == "wait"
        next: await_receipt
    default: accept
  accept:
    action: builtin.noop
    next: done
  check:
    action: builtin.fail
    with: { code: NotEligible, retryable: false }
    catch:
      - errors: [NotEligible]
        next: rejected
    next: done
  break_it:
    action: builtin.fail
    with: { code: Broken, retryable: false, message: the part is broken }
    next: done
  await_receipt:
    wait: { signal: warehouse.received, timeout: 30d }
    next: done
  done: { end: completed }
  rejected: { end: rejected }
)";

// An unhandled failure compensates; the compensation itself fails for good.
const char* kSaga = R"(workflow: saga
version: 1
business_key: ${ .input.rma_id }
on_failure: compensate
start: label
steps:
  label:
    action: builtin.noop
    result: label
    compensate:
      action: builtin.fail
      with: { code: VoidRefused, retryable: false, message: the carrier refused the void }
    next: refund
  refund:
    action: builtin.fail
    with: { code: Oops, retryable: false }
    next: done
  done: { end: completed }
)";

// The builtin adapter with a ledger, so the failure count of a call survives the process:
// a retry in a later `run` is the second call, not a first one again.
const char* kAdapters = R"(adapters:
  builtin: { type: builtin, ledger: effects.db }
)";

const char* kUser = "ops-tester";

// A failure as the product rule wants it: the exit code, one sentence on stderr naming every
// culprit, nothing on stdout.
void check_refused(const ProcessResult& r, int exit_code,
                   std::initializer_list<std::string> culprits) {
  INFO("stdout:\n", r.out, "\nstderr:\n", r.err);
  CHECK(r.signal == 0);
  CHECK(r.exit_code == exit_code);
  CHECK(r.out.empty());
  auto lines = lines_of(r.err);
  REQUIRE(lines.size() == 1);
  CHECK(r.err.back() == '\n');
  CHECK(lines[0].rfind("rmaflow", 0) == 0);
  for (const auto& culprit : culprits)
    CHECK_MESSAGE(contains(lines[0], culprit), "names ", culprit);
  CHECK_FALSE(contains(r.err, "terminate"));
  CHECK_FALSE(contains(r.err, "what():"));
}

// The events of one type in a history.
std::vector<json> events_of(const json& history, const std::string& type) {
  std::vector<json> out;
  for (const auto& e : history)
    if (e["type"] == type) out.push_back(e);
  return out;
}

// A scratch directory with every workflow above, the adapters file and a database path.
struct Scratch {
  TempDir dir;
  std::string db = dir.file("rma.db");
  std::string workflows = dir.path() + "/workflows";
  std::string adapters;
  int inputs = 0;

  Scratch() {
    dir.write("workflows/receive.yaml", kReceive);
    dir.write("workflows/repair.yaml", kRepair);
    dir.write("workflows/fates.yaml", kFates);
    dir.write("workflows/saga.yaml", kSaga);
    adapters = dir.write("adapters.yaml", kAdapters);
  }

  // The binary, with $USER set so the default actor is known.
  static ProcessResult rmaflow(std::vector<std::string> args,
                               std::vector<std::string> env = {fmt::format("USER={}", kUser)}) {
    args.insert(args.begin(), rmaflow_binary());
    return run_process(args, env);
  }

  ProcessResult run(std::vector<std::string> extra = {}) const {
    std::vector<std::string> args = {"run",     "--db",       db,      "--workflows",
                                     workflows, "--adapters", adapters};
    args.insert(args.end(), extra.begin(), extra.end());
    return rmaflow(args);
  }

  // Starts one instance of `workflow` and runs it as far as it goes; returns its id.
  std::string start(const std::string& workflow, const json& input) {
    auto file = dir.write(fmt::format("input-{}.json", ++inputs), input.dump());
    auto r = run({"--workflow", workflow, "--format", "json", file});
    INFO("stdout:\n", r.out, "\nstderr:\n", r.err);
    REQUIRE(r.exit_code == 0);
    for (const auto& row : json::parse(r.out))
      if (row["business_key"] == input["rma_id"]) return row["id"];
    FAIL("no instance for ", input.dump());
    return {};
  }

  // The next `run`, with no inputs: it applies what is queued. Its text output.
  std::string apply() const {
    auto r = run();
    INFO("stdout:\n", r.out, "\nstderr:\n", r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.err.empty());
    return r.out;
  }

  json query(const std::string& command, const std::string& id) const {
    auto r = rmaflow({command, "--db", db, "--format", "json", id});
    INFO("stderr:\n", r.err);
    REQUIRE(r.exit_code == 0);
    return json::parse(r.out);
  }
  json show(const std::string& id) const { return query("show", id); }
  json history(const std::string& id) const { return query("history", id); }

  // Runs an operator command that must be queued; returns the command's id.
  std::string queue(std::vector<std::string> args) const {
    auto r = rmaflow(std::move(args));
    INFO("stdout:\n", r.out, "\nstderr:\n", r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.err.empty());
    auto at = r.out.find(" as command ");
    REQUIRE(at != std::string::npos);
    CHECK(contains(r.out, "queued "));
    auto from = at + 12;
    return r.out.substr(from, r.out.find(';', from) - from);
  }

  json list_stuck() const {
    auto r = rmaflow({"list", "--db", db, "--stuck", "--format", "json"});
    INFO("stderr:\n", r.err);
    REQUIRE(r.exit_code == 0);
    return json::parse(r.out)["items"];
  }

  // Writes straight into the database, for states that otherwise only time would bring.
  void sql(const std::string& statement) const {
    SQLite::Database handle(db, SQLite::OPEN_READWRITE);
    handle.exec(statement);
  }
};

// The line `run` prints for a command: "command N (KIND ID): OUTCOME".
std::string outcome_line(const std::string& out, const std::string& command,
                         const std::string& kind, const std::string& id) {
  auto prefix = fmt::format("command {} ({} {}): ", command, kind, id);
  for (const auto& line : lines_of(out))
    if (line.rfind(prefix, 0) == 0) return line.substr(prefix.size());
  return "(no line " + prefix + ")";
}

// Starts a repair instance, which suspends at `refund`.
std::string suspended_repair(Scratch& s, const std::string& rma) {
  auto id = s.start("repair", {{"rma_id", rma}});
  auto row = s.show(id);
  REQUIRE(row["status"] == "suspended");
  REQUIRE(row["step"] == "refund");
  REQUIRE(row["incident"]["error"]["code"] == "Oops");
  return id;
}

// The operator_action event of a history, after checking there is exactly one.
json the_action(const json& history) {
  auto actions = events_of(history, "operator_action");
  REQUIRE(actions.size() == 1);
  return actions[0]["data"];
}

}  // namespace

// ---- signal ---------------------------------------------------------------------------------

TEST_CASE("Cli.Operator.Signal.QueuedAppliedOnceAndCompletes") {
  Scratch s;
  auto id = s.start("receive", {{"rma_id", "RMA-1"}});
  REQUIRE(s.show(id)["status"] == "waiting");
  REQUIRE(s.show(id)["step"] == "await_receipt");

  std::vector<std::string> send = {"signal", "--db",         s.db,    id,      "warehouse.received",
                                   "--data", R"({"qty":2})", "--key", "scan-1"};
  auto first = s.queue(send);
  auto again = s.queue(send);  // the scanner retried: the same key
  CHECK(first != again);
  // Queued, not applied: the instance still waits.
  CHECK(s.show(id)["status"] == "waiting");

  auto out = s.apply();
  CHECK(outcome_line(out, first, "signal", id) == "applied");
  CHECK(outcome_line(out, again, "signal", id) == "applied: duplicate signal, ignored");
  auto row = s.show(id);
  CHECK(row["status"] == "completed");
  CHECK(row["context"]["receipt"] == json{{"qty", 2}});
  auto history = s.history(id);
  CHECK(events_of(history, "signal_received").size() == 1);
  CHECK(events_of(history, "signal_consumed").size() == 1);

  // Applied commands are not applied again.
  auto later = s.apply();
  CHECK_FALSE(contains(later, "command "));
  CHECK(s.history(id) == history);
}

TEST_CASE("Cli.Operator.Signal.Refused") {
  Scratch s;
  auto id = s.start("receive", {{"rma_id", "RMA-1"}});
  s.queue({"signal", "--db", s.db, id, "warehouse.received"});
  s.apply();
  REQUIRE(s.show(id)["status"] == "completed");
  auto history = s.history(id);

  SUBCASE("to a finished instance") {
    check_refused(Scratch::rmaflow({"signal", "--db", s.db, id, "warehouse.received"}), 1,
                  {id, "completed"});
  }
  SUBCASE("to an unknown instance") {
    check_refused(Scratch::rmaflow({"signal", "--db", s.db, "no-such-id", "warehouse.received"}), 1,
                  {"no-such-id"});
  }
  SUBCASE("with a payload that is not JSON") {
    auto other = s.start("receive", {{"rma_id", "RMA-2"}});
    check_refused(Scratch::rmaflow(
                      {"signal", "--db", s.db, other, "warehouse.received", "--data", "{qty: 2"}),
                  1, {"--data", "{qty: 2"});
    CHECK(s.show(other)["status"] == "waiting");
  }
  SUBCASE("with a payload nested deeper than the engine accepts") {
    auto other = s.start("receive", {{"rma_id", "RMA-2"}});
    std::string deep = std::string(50000, '[') + std::string(50000, ']');
    check_refused(
        Scratch::rmaflow({"signal", "--db", s.db, other, "warehouse.received", "--data", deep}), 1,
        {"--data", "levels deep"});
    // As deep as the engine takes is fine.
    std::string fine = std::string(100, '[') + std::string(100, ']');
    auto command = s.queue({"signal", "--db", s.db, other, "warehouse.received", "--data", fine});
    CHECK(outcome_line(s.apply(), command, "signal", other) == "applied");
    CHECK(s.show(other)["status"] == "completed");
  }
  SUBCASE("without a name") {
    auto r = Scratch::rmaflow({"signal", "--db", s.db, id});
    INFO("stderr:\n", r.err);
    CHECK(r.exit_code == 2);
    CHECK(lines_of(r.err).size() == 1);
    CHECK(contains(r.err, "name"));
  }
  SUBCASE("to a database that does not exist") {
    auto missing = s.dir.file("missing.db");
    check_refused(Scratch::rmaflow({"signal", "--db", missing, id, "warehouse.received"}), 1,
                  {missing});
  }
  // Nothing was queued: the next run applies nothing and the instance is as it was.
  CHECK_FALSE(contains(s.apply(), "command "));
  CHECK(s.history(id) == history);
}

TEST_CASE("Cli.Operator.Signal.BufferedUntilTheWait") {
  Scratch s;
  auto id = s.start("receive", {{"rma_id", "RMA-1"}, {"gated", true}});
  REQUIRE(s.show(id)["step"] == "await_gate");

  auto early = s.queue({"signal", "--db", s.db, id, "warehouse.received", "--data", R"({"qty":1})",
                        "--key", "scan-1"});
  CHECK(outcome_line(s.apply(), early, "signal", id) == "applied");
  auto row = s.show(id);
  CHECK(row["status"] == "waiting");
  CHECK(row["step"] == "await_gate");  // the receipt is stored, not consumed
  CHECK(events_of(s.history(id), "signal_received").size() == 1);
  CHECK(events_of(s.history(id), "signal_consumed").empty());

  auto gate = s.queue({"signal", "--db", s.db, id, "gate.open"});
  CHECK(outcome_line(s.apply(), gate, "signal", id) == "applied");
  row = s.show(id);
  CHECK(row["status"] == "completed");
  CHECK(row["context"]["receipt"] == json{{"qty", 1}});
  CHECK(events_of(s.history(id), "signal_consumed").size() == 2);
}

// ---- retry / skip / goto --------------------------------------------------------------------

TEST_CASE("Cli.Operator.Retry.SucceedsWithDefaultActor") {
  Scratch s;
  auto id = suspended_repair(s, "RMA-1");
  auto command = s.queue({"retry", "--db", s.db, id, "--reason", "the ERP is back"});
  CHECK(outcome_line(s.apply(), command, "retry", id) == "applied");
  auto row = s.show(id);
  CHECK(row["status"] == "completed");
  CHECK(row["incident"].is_null());
  auto action = the_action(s.history(id));
  CHECK(action["action"] == "retry");
  CHECK(action["actor"] == kUser);
  CHECK(action["reason"] == "the ERP is back");
  CHECK(action["before"] == json{{"status", "suspended"}, {"step", "refund"}});
}

TEST_CASE("Cli.Operator.Retry.WithInput") {
  Scratch s;
  auto id = suspended_repair(s, "RMA-1");
  auto command = s.queue({"retry", "--db", s.db, id, "--reason", "corrected the request", "--actor",
                          "carol", "--input", R"({"code":"Oops","times":0,"note":"patched"})"});
  CHECK(outcome_line(s.apply(), command, "retry", id) == "applied");
  auto row = s.show(id);
  CHECK(row["status"] == "completed");
  CHECK(row["context"]["refund"]["note"] == "patched");
  auto action = the_action(s.history(id));
  CHECK(action["actor"] == "carol");
  CHECK(action["args"]["input"]["note"] == "patched");
}

// The engine refuses arguments nested deeper than it accepts when it applies the command;
// the CLI says so before queueing, naming the option, where the operator can still fix it.
TEST_CASE("Cli.Operator.Retry.InputNestedTooDeep") {
  Scratch s;
  auto id = suspended_repair(s, "RMA-1");
  std::string deep;
  for (int i = 0; i < 20000; ++i) deep += "{\"a\":";
  deep += "1" + std::string(20000, '}');
  check_refused(Scratch::rmaflow({"retry", "--db", s.db, id, "--reason", "deep", "--input", deep}),
                1, {"--input", "levels deep"});
  check_refused(Scratch::rmaflow({"skip", "--db", s.db, id, "--reason", "deep", "--output", deep}),
                1, {"--output", "levels deep"});
  check_refused(Scratch::rmaflow({"patch", "--db", s.db, id, "--reason", "deep", "--patch",
                                  "{\"note\":" + deep + "}"}),
                1, {"--patch", "levels deep"});
  CHECK_FALSE(contains(s.apply(), "command "));
  CHECK(s.show(id)["status"] == "suspended");
}

TEST_CASE("Cli.Operator.Skip.WithOutput") {
  Scratch s;
  auto id = suspended_repair(s, "RMA-1");
  auto command = s.queue(
      {"skip", "--db", s.db, id, "--reason", "credited by hand", "--output", R"({"credited":5})"});
  CHECK(outcome_line(s.apply(), command, "skip", id) == "applied");
  auto row = s.show(id);
  CHECK(row["status"] == "completed");
  CHECK(row["context"]["refund"] == json{{"credited", 5}});
  auto history = s.history(id);
  CHECK(the_action(history)["action"] == "skip");
  CHECK(the_action(history)["reason"] == "credited by hand");
  bool skipped = false;
  for (const auto& e : events_of(history, "step_completed"))
    skipped = skipped || (e["step"] == "refund" && e["data"].value("skipped", false));
  CHECK(skipped);
}

TEST_CASE("Cli.Operator.Goto") {
  Scratch s;
  auto id = suspended_repair(s, "RMA-1");

  SUBCASE("a step of the workflow") {
    auto command = s.queue({"goto", "--db", s.db, id, "done", "--reason", "refund not needed"});
    CHECK(outcome_line(s.apply(), command, "goto", id) == "applied");
    auto row = s.show(id);
    CHECK(row["status"] == "completed");
    auto action = the_action(s.history(id));
    CHECK(action["action"] == "goto");
    CHECK(action["args"]["step"] == "done");
  }
  SUBCASE("an unknown step: refused before it is queued, naming the steps (issue 11)") {
    auto history = s.history(id);
    check_refused(Scratch::rmaflow({"goto", "--db", s.db, id, "nowhere", "--reason", "typo"}), 1,
                  {id, "has no step nowhere", "label, refund, done"});
    CHECK_FALSE(contains(s.apply(), "command "));
    auto row = s.show(id);
    CHECK(row["status"] == "suspended");
    CHECK(row["step"] == "refund");
    CHECK(s.history(id) == history);
  }
  SUBCASE("without a step: usage") {
    auto r = Scratch::rmaflow({"goto", "--db", s.db, id, "--reason", "no step"});
    CHECK(r.exit_code == 2);
    CHECK(lines_of(r.err).size() == 1);
  }
}

// ---- cancel / patch / resolve ---------------------------------------------------------------

TEST_CASE("Cli.Operator.Cancel") {
  Scratch s;
  auto id = suspended_repair(s, "RMA-1");

  SUBCASE("without compensation") {
    auto command = s.queue({"cancel", "--db", s.db, id, "--reason", "customer withdrew"});
    CHECK(outcome_line(s.apply(), command, "cancel", id) == "applied");
    CHECK(s.show(id)["status"] == "cancelled");
    auto history = s.history(id);
    CHECK(the_action(history)["args"]["compensate"] == false);
    CHECK(events_of(history, "compensation_started").empty());
  }
  SUBCASE("with compensation") {
    auto command =
        s.queue({"cancel", "--db", s.db, id, "--reason", "customer withdrew", "--compensate"});
    CHECK(outcome_line(s.apply(), command, "cancel", id) == "applied");
    CHECK(s.show(id)["status"] == "cancelled");
    auto history = s.history(id);
    CHECK(the_action(history)["args"]["compensate"] == true);
    REQUIRE(events_of(history, "compensation_started").size() == 1);
    auto undone = events_of(history, "compensation_step_completed");
    REQUIRE(undone.size() == 1);
    CHECK(undone[0]["step"] == "label");
    CHECK(undone[0]["data"]["result"] == json{{"voided", "L-1"}});
  }
  SUBCASE("twice: the second is refused when it is applied") {
    auto first = s.queue({"cancel", "--db", s.db, id, "--reason", "customer withdrew"});
    auto second = s.queue({"cancel", "--db", s.db, id, "--reason", "clicked twice"});
    auto out = s.apply();
    CHECK(outcome_line(out, first, "cancel", id) == "applied");
    auto outcome = outcome_line(out, second, "cancel", id);
    CHECK(outcome.rfind("refused: ", 0) == 0);
    CHECK(contains(outcome, "cancelled"));
    CHECK(the_action(s.history(id))["reason"] == "customer withdrew");
    // Once it has ended, the command is refused before it is queued.
    check_refused(Scratch::rmaflow({"cancel", "--db", s.db, id, "--reason", "again"}), 1,
                  {id, "cancelled"});
  }
}

TEST_CASE("Cli.Operator.Patch") {
  Scratch s;
  auto id = suspended_repair(s, "RMA-1");

  SUBCASE("a merge patch lands in the context") {
    auto command = s.queue({"patch", "--db", s.db, id, "--reason", "noted the carrier", "--patch",
                            R"({"note":"checked","label":{"carrier":"DHL"}})"});
    CHECK(outcome_line(s.apply(), command, "patch", id) == "applied");
    auto row = s.show(id);
    CHECK(row["status"] == "suspended");  // a patch repairs data; it does not move on
    CHECK(row["context"]["note"] == "checked");
    CHECK(row["context"]["label"]["carrier"] == "DHL");
    CHECK(row["context"]["label"]["label_id"] == "L-1");  // merged, not replaced
    CHECK(the_action(s.history(id))["action"] == "patch");
  }
  SUBCASE("the input is read-only") {
    auto history = s.history(id);
    check_refused(Scratch::rmaflow({"patch", "--db", s.db, id, "--reason", "fix the RMA", "--patch",
                                    R"({"input":{"rma_id":"RMA-9"}})"}),
                  1, {".input", "read-only"});
    CHECK_FALSE(contains(s.apply(), "command "));
    CHECK(s.show(id)["context"]["input"]["rma_id"] == "RMA-1");
    CHECK(s.history(id) == history);
  }
  SUBCASE("not an object") {
    check_refused(
        Scratch::rmaflow({"patch", "--db", s.db, id, "--reason", "oops", "--patch", "[1]"}), 1,
        {"--patch"});
  }
}

TEST_CASE("Cli.Operator.Resolve") {
  Scratch s;
  auto id = suspended_repair(s, "RMA-1");
  auto command =
      s.queue({"resolve", "--db", s.db, id, "--reason", "refunded in the ERP", "--actor", "dave"});
  CHECK(outcome_line(s.apply(), command, "resolve", id) == "applied");
  auto row = s.show(id);
  CHECK(row["status"] == "failed");
  CHECK_FALSE(row["ended_at"].is_null());
  auto history = s.history(id);
  auto action = the_action(history);
  CHECK(action["action"] == "resolve");
  CHECK(action["actor"] == "dave");
  auto resolved = events_of(history, "incident_resolved");
  REQUIRE(resolved.size() == 1);
  CHECK(resolved[0]["data"]["reason"] == "refunded in the ERP");
}

TEST_CASE("Cli.Operator.Issue16.PauseHoldsSignalsAndResumeLetsThemThrough") {
  Scratch s;
  auto id = s.start("receive", {{"rma_id", "RMA-1"}});
  REQUIRE(s.show(id)["step"] == "await_receipt");
  auto pause = s.queue({"pause", "--db", s.db, id, "--reason", "ERP maintenance", "--actor", "erin"});
  CHECK(outcome_line(s.apply(), pause, "pause", id) == "applied");
  auto row = s.show(id);
  CHECK(row["paused_at"].is_string());

  // Shown and listed as paused.
  auto shown = Scratch::rmaflow({"show", "--db", s.db, id});
  CHECK(contains(shown.out, "paused       since "));
  auto listed = Scratch::rmaflow({"list", "--db", s.db, "--paused"});
  CHECK(contains(listed.out, id));
  CHECK(contains(listed.out, "paused since"));
  auto others = s.start("receive", {{"rma_id", "RMA-2"}});
  CHECK_FALSE(contains(Scratch::rmaflow({"list", "--db", s.db, "--paused"}).out, others));

  // A signal is kept, not consumed, while it is paused.
  auto scan = s.queue({"signal", "--db", s.db, id, "warehouse.received", "--data", R"({"qty":3})"});
  CHECK(outcome_line(s.apply(), scan, "signal", id) == "applied");
  CHECK(s.show(id)["status"] == "waiting");
  CHECK(events_of(s.history(id), "signal_consumed").empty());

  // Pausing twice is refused by the engine, and recorded as refused.
  auto twice = s.queue({"pause", "--db", s.db, id, "--reason", "again"});
  CHECK(contains(outcome_line(s.apply(), twice, "pause", id), "already paused"));

  auto resume = s.queue({"resume", "--db", s.db, id, "--reason", "ERP back", "--actor", "erin"});
  CHECK(outcome_line(s.apply(), resume, "resume", id) == "applied");
  row = s.show(id);
  CHECK(row["status"] == "completed");
  CHECK(row["paused_at"].is_null());
  CHECK(row["context"]["receipt"] == json{{"qty", 3}});
  auto history = s.history(id);
  auto actions = events_of(history, "operator_action");
  REQUIRE(actions.size() == 2);
  CHECK(actions[0]["data"]["action"] == "pause");
  CHECK(actions[1]["data"]["action"] == "resume");
  CHECK(actions[1]["data"]["actor"] == "erin");
}

TEST_CASE("Cli.Operator.ReasonRequired") {
  Scratch s;
  auto id = suspended_repair(s, "RMA-1");
  for (const char* command : {"retry", "skip", "cancel", "resolve"}) {
    CAPTURE(command);
    auto r = Scratch::rmaflow({command, "--db", s.db, id});
    INFO("stderr:\n", r.err);
    CHECK(r.exit_code == 2);
    CHECK(lines_of(r.err).size() == 1);
    CHECK(contains(r.err, "--reason"));
  }
  // An empty reason is no reason: refused before anything is queued.
  auto r = Scratch::rmaflow({"retry", "--db", s.db, id, "--reason", ""});
  INFO("stderr:\n", r.err);
  CHECK(r.exit_code == 2);
  CHECK(lines_of(r.err).size() == 1);
  CHECK(contains(r.err, "--reason"));
  CHECK_FALSE(contains(s.apply(), "command "));
  CHECK(s.show(id)["status"] == "suspended");
}

TEST_CASE("Cli.Operator.UnknownInstance") {
  Scratch s;
  suspended_repair(s, "RMA-1");
  check_refused(Scratch::rmaflow({"retry", "--db", s.db, "no-such-id", "--reason", "why"}), 1,
                {"no-such-id"});
}

// ---- list --stuck ---------------------------------------------------------------------------

TEST_CASE("Cli.Operator.ListStuck.OnlySuspendedWithReasons") {
  Scratch s;
  auto completed = s.start("fates", {{"rma_id", "RMA-1"}, {"kind", "ok"}});
  auto rejected = s.start("fates", {{"rma_id", "RMA-2"}, {"kind", "reject"}});
  auto waiting = s.start("fates", {{"rma_id", "RMA-3"}, {"kind", "wait"}});
  auto broken = s.start("fates", {{"rma_id", "RMA-4"}, {"kind", "broken"}});
  auto saga = s.start("saga", {{"rma_id", "RMA-5"}});
  REQUIRE(s.show(completed)["status"] == "completed");
  REQUIRE(s.show(rejected)["status"] == "rejected");
  REQUIRE(s.show(waiting)["status"] == "waiting");
  REQUIRE(s.show(broken)["status"] == "suspended");
  REQUIRE(s.show(saga)["status"] == "suspended");
  REQUIRE(s.show(saga)["incident"]["compensating"] == true);

  auto stuck = s.list_stuck();
  REQUIRE(stuck.size() == 2);
  std::map<std::string, std::string> reasons;
  for (const auto& row : stuck) reasons[row["id"]] = row["reason"];
  REQUIRE(reasons.count(broken) == 1);
  REQUIRE(reasons.count(saga) == 1);
  CHECK(reasons[broken] == "suspended: Broken: the part is broken");
  CHECK(reasons[saga] == "suspended while compensating: VoidRefused: the carrier refused the void");

  auto r = Scratch::rmaflow({"list", "--db", s.db, "--stuck"});
  INFO("stdout:\n", r.out, "\nstderr:\n", r.err);
  CHECK(r.exit_code == 0);
  auto lines = lines_of(r.out);
  REQUIRE(lines.size() == 4);  // header, two rows, count
  CHECK(contains(lines[0], "REASON"));
  CHECK(contains(r.out, "suspended: Broken: the part is broken"));
  CHECK(lines[3] == "2 stuck instance(s)");

  // A page says when there is a next one, as `list` does.
  auto first = Scratch::rmaflow({"list", "--db", s.db, "--stuck", "--limit", "1"});
  INFO("stdout:\n", first.out);
  CHECK(first.exit_code == 0);
  auto page = lines_of(first.out);
  REQUIRE(page.size() == 4);  // header, one row, count, next page
  auto shown = stuck[0]["id"].get<std::string>();
  CHECK(contains(page[1], shown));
  CHECK(page[2] == "1 stuck instance(s)");
  CHECK(page[3] == "(first 1; next page: --after " + shown + ")");
  auto rest = Scratch::rmaflow({"list", "--db", s.db, "--stuck", "--after", shown});
  CHECK(contains(rest.out, stuck[1]["id"].get<std::string>()));
  CHECK(contains(rest.out, "\n1 stuck instance(s)\n"));
  CHECK_FALSE(contains(rest.out, "next page"));
}

// No engine ran while the wait's deadline passed: the timer has not fired, the instance still
// says `waiting`. The deadline is moved into the past in the database rather than waited for.
TEST_CASE("Cli.Operator.ListStuck.WaitPastItsDeadline") {
  Scratch s;
  auto late = s.start("fates", {{"rma_id", "RMA-1"}, {"kind", "wait"}});
  auto on_time = s.start("fates", {{"rma_id", "RMA-2"}, {"kind", "wait"}});
  CHECK(s.list_stuck().empty());
  s.sql(fmt::format("UPDATE instances SET deadline = 1000, cursors = json_set(cursors, "
                    "'$[0].deadline', 1000) WHERE id = '{}'",
                    late));

  auto stuck = s.list_stuck();
  REQUIRE(stuck.size() == 1);
  CHECK(stuck[0]["id"] == late);
  CHECK(stuck[0]["status"] == "waiting");
  CHECK(stuck[0]["reason"] ==
        "waiting at await_receipt past its deadline 1970-01-01T00:00:01.000Z");
  CHECK(on_time != late);
}

TEST_CASE("Cli.Operator.ListStuck.PastTheSla") {
  Scratch s;
  std::string slow = kFates;
  slow.replace(slow.find("workflow: fates"), 15, "workflow: slow");
  slow.replace(slow.find("start: route"), 12, "sla: 14d\nstart: route");
  s.dir.write("workflows/slow.yaml", slow);
  auto id = s.start("slow", {{"rma_id", "RMA-1"}, {"kind", "wait"}});
  CHECK(s.list_stuck().empty());
  s.sql(fmt::format("UPDATE instances SET created_at = 1000 WHERE id = '{}'", id));
  auto stuck = s.list_stuck();
  REQUIRE(stuck.size() == 1);
  CHECK(stuck[0]["id"] == id);
  CHECK(stuck[0]["reason"] == "past its SLA of 14d (started 1970-01-01T00:00:01.000Z)");
}

TEST_CASE("Cli.Operator.ListStuck.WithStatusIsAMistake") {
  Scratch s;
  s.start("fates", {{"rma_id", "RMA-1"}, {"kind", "broken"}});
  check_refused(Scratch::rmaflow({"list", "--db", s.db, "--stuck", "--status", "suspended"}), 1,
                {"--stuck", "--status"});
}

// ---- issue 11: offline commands say what became of them --------------------------------------

namespace {

// The id a `commands list --format json` row has for command `command`, or null.
json command_row(const Scratch& s, const std::string& command, bool all = true) {
  std::vector<std::string> args = {"commands", "list", "--db", s.db, "--format", "json"};
  if (all) args.push_back("--all");
  auto r = Scratch::rmaflow(args);
  INFO("stderr:\n", r.err);
  REQUIRE(r.exit_code == 0);
  for (const auto& row : json::parse(r.out))
    if (std::to_string(row["id"].get<std::int64_t>()) == command) return row;
  return nullptr;
}

}  // namespace

TEST_CASE("Cli.Operator.Issue11.SignalNoWaitTakesIsRefusedBeforeItIsQueued") {
  Scratch s;
  auto id = s.start("receive", {{"rma_id", "RMA-1"}});
  check_refused(Scratch::rmaflow({"signal", "--db", s.db, id, "warehouse.recieved"}), 1,
                {id, "never waits for signal warehouse.recieved",
                 "did you mean warehouse.received", "it waits for: gate.open, warehouse.received"});
  CHECK_FALSE(contains(s.apply(), "command "));
  CHECK(s.show(id)["status"] == "waiting");
}

TEST_CASE("Cli.Operator.Issue11.ListAndWithdrawPendingCommands") {
  Scratch s;
  auto id = suspended_repair(s, "RMA-1");
  auto cancel = s.queue({"cancel", "--db", s.db, id, "--reason", "customer withdrew"});
  auto retry = s.queue({"retry", "--db", s.db, id, "--reason", "the ERP is back"});

  auto r = Scratch::rmaflow({"commands", "list", "--db", s.db});
  INFO("stdout:\n", r.out, "\nstderr:\n", r.err);
  CHECK(r.exit_code == 0);
  auto lines = lines_of(r.out);
  REQUIRE(lines.size() == 4);  // header, two commands, count
  CHECK(contains(lines[1], cancel));
  CHECK(contains(lines[1], "cancel"));
  CHECK(contains(lines[1], "pending"));
  CHECK(contains(lines[2], "retry"));
  CHECK(lines[3] == "2 pending command(s)");

  auto withdrawn = Scratch::rmaflow(
      {"commands", "withdraw", "--db", s.db, cancel, "--reason", "queued by mistake"});
  INFO("stdout:\n", withdrawn.out, "\nstderr:\n", withdrawn.err);
  CHECK(withdrawn.exit_code == 0);
  CHECK(contains(withdrawn.out, "command " + cancel + " (cancel for instance " + id + ") withdrawn"));
  // Not pending any more: withdrawing again is refused.
  check_refused(Scratch::rmaflow({"commands", "withdraw", "--db", s.db, cancel, "--reason", "again"}),
                1, {"command " + cancel, "not pending", "withdrawn by"});
  check_refused(Scratch::rmaflow({"commands", "withdraw", "--db", s.db, "999", "--reason", "x"}), 1,
                {"no command 999"});

  auto out = s.apply();
  CHECK_FALSE(contains(out, "command " + cancel + " "));
  CHECK(outcome_line(out, retry, "retry", id) == "applied");
  CHECK(s.show(id)["status"] == "completed");  // retried, not cancelled
  auto row = command_row(s, cancel);
  CHECK(row["state"] == "withdrawn");
  CHECK(row["outcome"] == fmt::format("withdrawn by {}: queued by mistake", kUser));
  CHECK(events_of(s.history(id), "operator_action").size() == 1);
}

// A command that passes a job's instance on to another node (written by the job's node) is
// not withdrawn: the job waits for its outcome.
TEST_CASE("Cli.Operator.Issue18.AJobsPassedOnInstanceIsNotWithdrawn") {
  Scratch s;
  auto id = suspended_repair(s, "RMA-1");
  rmaflow::CommandRow passed_on;
  passed_on.instance_id = id;
  passed_on.kind = "retry";
  passed_on.body = R"({"job": "job-01J8Z", "actor": "ops", "reason": "ERP back", "args": {}})";
  passed_on.created_at = rmaflow::system_clock()->now();
  auto command = std::to_string(rmaflow::open_store(s.db)->add_command(passed_on));
  check_refused(
      Scratch::rmaflow({"commands", "withdraw", "--db", s.db, command, "--reason", "not needed"}),
      1, {"command " + command, "of job job-01J8Z", "cancel the job instead"});
  CHECK(command_row(s, command)["state"] == "pending");
}

TEST_CASE("Cli.Operator.Issue11.WaitForTheEnginesVerdict") {
  Scratch s;
  auto id = suspended_repair(s, "RMA-1");
  auto waiting = s.start("receive", {{"rma_id", "RMA-2"}});

  // No engine runs on the database: nothing could give a verdict, so nothing is queued.
  check_refused(Scratch::rmaflow({"retry", "--db", s.db, id, "--reason", "now", "--wait"}), 1,
                {"--wait", "no", s.db});
  auto none = Scratch::rmaflow({"commands", "list", "--db", s.db, "--format", "json"});
  CHECK(json::parse(none.out).empty());

  ServerProcess server({"--db", s.db, "--workflows", s.workflows, "--adapters", s.adapters,
                        "--no-auth"},
                       {}, s.dir.file("serve.err"));
  auto applied = Scratch::rmaflow({"retry", "--db", s.db, id, "--reason", "ERP is back", "--wait"});
  INFO("stdout:\n", applied.out, "\nstderr:\n", applied.err);
  CHECK(applied.exit_code == 0);
  auto lines = lines_of(applied.out);
  REQUIRE(lines.size() == 2);
  CHECK(contains(lines[0], "queued retry for instance " + id + " as command "));
  // Where the instance stands when the verdict is read: the retry's attempt, or already done.
  CHECK(contains(lines[1], ": applied (instance " + id + " is now "));

  auto refused = Scratch::rmaflow(
      {"resolve", "--db", s.db, waiting, "--reason", "close it", "--wait", "--timeout", "20s"});
  INFO("stdout:\n", refused.out, "\nstderr:\n", refused.err);
  CHECK(refused.exit_code == 1);
  CHECK(contains(refused.out, ": refused: "));
  CHECK(contains(refused.out, "it has no open incident"));

  // An engine runs: it applies queued commands at once, so withdrawing is refused.
  auto queued = s.queue({"signal", "--db", s.db, waiting, "gate.open"});
  check_refused(Scratch::rmaflow({"commands", "withdraw", "--db", s.db, queued, "--reason", "x"}), 1,
                {"another rmaflow engine", "cannot be withdrawn now"});
  CHECK(server.stop(SIGTERM) == 0);
}

// The shipped standard return read from another working directory: its SLA (45d) comes from
// the version stored at deploy, whatever the schema path in its YAML. An instance stuck for
// several reasons shows every one.
TEST_CASE("Cli.Operator.Issue11.ShippedWorkflowPastItsSlaFromAnotherDirectory") {
  TempDir dir;
  auto adapters = dir.path() + "/sim/adapters.yaml";
  std::filesystem::create_directories(dir.path() + "/sim");
  std::filesystem::copy_file(source_dir() + "/examples/sim/adapters.yaml", adapters);
  std::filesystem::copy_file(source_dir() + "/examples/sim/erp-data.yaml",
                             dir.path() + "/sim/erp-data.yaml");
  std::ifstream day(source_dir() + "/examples/returns-day.json");
  auto all = json::parse(day);
  json picked = json::array();
  for (const auto& item : all) {
    auto rma = item["input"]["rma_id"];
    if (rma == "RMA-1004" || rma == "RMA-1023") picked.push_back(item);  // never ships; bad address
  }
  REQUIRE(picked.size() == 2);
  auto inputs = dir.write("inputs.json", picked.dump());
  auto db = dir.file("returns.db");
  // A June 2025 day, in virtual time: both are far past 45 days by now.
  auto run = Scratch::rmaflow({"run", "--db", db, "--workflows", source_dir() + "/workflows",
                               "--adapters", adapters, "--clock", "virtual", "--start",
                               "2025-06-02T08:00:00Z", "--until", "1d", inputs});
  INFO("run stdout:\n", run.out, "\nstderr:\n", run.err);
  REQUIRE(run.exit_code == 0);
  auto elsewhere = dir.path() + "/elsewhere";
  std::filesystem::create_directories(elsewhere);
  auto r = run_process({"/bin/sh", "-c",
                        fmt::format("cd '{}' && exec '{}' list --db '{}' --stuck --format json",
                                    elsewhere, rmaflow_binary(), db)});
  INFO("list stdout:\n", r.out, "\nstderr:\n", r.err);
  REQUIRE(r.exit_code == 0);
  auto items = json::parse(r.out)["items"];
  REQUIRE(items.size() == 2);
  std::string suspended_id;
  for (const auto& item : items) {
    INFO(item.dump(2));
    auto reasons = item["reasons"];
    bool suspended = item["status"] == "suspended";
    // The suspended one's incident was routed (the workflow's `incidents:`) to customer
    // service, whose day to resolve it ran out long ago.
    REQUIRE(reasons.size() == (suspended ? 3 : 2));
    CHECK(reasons.back() == "past its SLA of 45d (started 2025-06-02T08:00:00.000Z)");
    // Stuck since the earlier of its reasons: the incident on the day, the wait's deadline a
    // month later; both before the SLA ran out on 2025-07-17.
    auto since = item["stuck_since"].get<std::string>();
    if (suspended) {
      suspended_id = item["id"];
      CHECK(contains(reasons[0], "suspended: AddressInvalid"));
      CHECK(contains(reasons[1], "incident for team customer-service open past its SLA (due 2025-06-03T"));
      CHECK(item["team"] == "customer-service");
      CHECK(item["past_team_sla"] == true);
      CHECK(since.rfind("2025-06-02T", 0) == 0);
    } else {
      CHECK(item["team"].is_null());
      CHECK(item["past_team_sla"] == false);
      CHECK(item["status"] == "waiting");
      CHECK(contains(reasons[0], "waiting at await_receipt past its deadline 2025-07-02T"));
      CHECK(since.rfind("2025-07-02T", 0) == 0);
    }
    CHECK(item["reason"] == reasons[0].get<std::string>() + "; " + reasons[1].get<std::string>() +
                                (suspended ? "; " + reasons[2].get<std::string>() : ""));
  }
  // The team's queue holds its incident only.
  for (auto [team, expected] : {std::pair{"customer-service", 1}, {"finance", 0}}) {
    auto queue = run_process({"/bin/sh", "-c",
                              fmt::format("exec '{}' list --db '{}' --team {} --format json",
                                          rmaflow_binary(), db, team)});
    REQUIRE(queue.exit_code == 0);
    auto listed = json::parse(queue.out)["items"];
    CHECK(listed.size() == static_cast<std::size_t>(expected));
    if (expected == 1) CHECK(listed[0]["id"] == suspended_id);
  }
  auto table = run_process({"/bin/sh", "-c",
                            fmt::format("cd '{}' && exec '{}' list --db '{}' --stuck", elsewhere,
                                        rmaflow_binary(), db)});
  CHECK(contains(table.out, "past its SLA of 45d"));
  CHECK(contains(table.out, "STUCK SINCE"));
}

TEST_CASE("Cli.Operator.Issue11.ListShowsAgeAndJsonHasTheCursor") {
  Scratch s;
  auto first = s.start("fates", {{"rma_id", "RMA-1"}, {"kind", "wait"}});
  s.start("fates", {{"rma_id", "RMA-2"}, {"kind", "wait"}});
  s.sql(fmt::format("UPDATE instances SET created_at = created_at - 3 * 86400000 - 7200000 WHERE id = '{}'",
                    first));
  auto text = Scratch::rmaflow({"list", "--db", s.db});
  auto lines = lines_of(text.out);
  REQUIRE(lines.size() >= 3);
  CHECK(contains(lines[0], "AGE"));
  CHECK(contains(lines[1], first));
  CHECK(contains(lines[1], " 3d2h"));

  auto page = Scratch::rmaflow({"list", "--db", s.db, "--limit", "1", "--format", "json"});
  REQUIRE(page.exit_code == 0);
  auto doc = json::parse(page.out);
  REQUIRE(doc["items"].size() == 1);
  CHECK(doc["next_cursor"] == first);
  auto rest = json::parse(
      Scratch::rmaflow({"list", "--db", s.db, "--after", first, "--format", "json"}).out);
  CHECK(rest["items"].size() == 1);
  CHECK(rest["next_cursor"].is_null());

  // The CLI takes the page sizes the server takes.
  CHECK(Scratch::rmaflow({"list", "--db", s.db, "--limit", "1000"}).exit_code == 0);
  auto too_many = Scratch::rmaflow({"list", "--db", s.db, "--limit", "1001"});
  CHECK(too_many.exit_code == 2);
  CHECK(contains(too_many.err, "--limit"));
}

TEST_CASE("Cli.Operator.Issue11.ShowSaysWhatItWaitsForAndUntilWhen") {
  Scratch s;
  auto id = s.start("receive", {{"rma_id", "RMA-1"}});
  auto row = s.show(id);
  REQUIRE(row["status"] == "waiting");
  REQUIRE(row["waiting_for"].is_object());
  CHECK(row["waiting_for"]["signal"] == "warehouse.received");
  CHECK(row["waiting_for"]["then"] == "Timeout");
  auto until = row["waiting_for"]["until"].get<std::string>();
  CHECK(rmaflow::parse_time(until).value() -
            rmaflow::parse_time(row["created_at"].get<std::string>()).value() >=
        rmaflow::Duration(30LL * 86'400'000 - 60'000));
  auto text = Scratch::rmaflow({"show", "--db", s.db, id});
  CHECK(contains(text.out, "waiting for  signal warehouse.received until " + until +
                               ", then fails with Timeout\n"));
  // Not waiting: nothing of the kind.
  auto done = suspended_repair(s, "RMA-2");
  CHECK_FALSE(s.show(done).contains("waiting_for"));
}

TEST_CASE("Cli.Operator.Issue11.HistoryReadsAsLinesWithinTheWidth") {
  Scratch s;
  auto id = suspended_repair(s, "RMA-1");
  auto r = Scratch::rmaflow({"history", "--db", s.db, id}, {"COLUMNS=100"});
  INFO("stdout:\n", r.out);
  REQUIRE(r.exit_code == 0);
  auto lines = lines_of(r.out);
  REQUIRE(lines.size() > 5);
  for (const auto& line : lines) CHECK(line.size() <= 100);
  CHECK(contains(lines[0], "WHAT HAPPENED"));
  CHECK(contains(r.out, "attempt 1 failed: Oops"));
  CHECK(contains(r.out, "suspended: Oops"));
  CHECK_FALSE(contains(r.out, "{\"attempt\""));  // not raw event data

  auto wide = Scratch::rmaflow({"history", "--db", s.db, id, "--width", "0"});
  bool longer = false;
  for (const auto& line : lines_of(wide.out)) longer = longer || line.size() > 100;
  CHECK(longer);
  // --format json keeps the raw events.
  auto raw = json::parse(Scratch::rmaflow({"history", "--db", s.db, id, "--format", "json"}).out);
  CHECK(raw[0]["type"] == "instance_started");
  CHECK(raw[0]["data"].is_object());
}

TEST_CASE("Cli.Operator.TablesShowControlCharactersAsText") {
  // A business key from outside that a terminal would obey: retitle the window, clear the
  // screen, a C1 control sequence introducer. list, show and history show it as text.
  Scratch s;
  const std::string key = "R-\x1b]0;pwned\x07-\x1b[2J-\xc2\x9b" "31m";
  auto id = s.start("receive", {{"rma_id", key}});
  for (const std::vector<std::string>& command :
       {std::vector<std::string>{"list", "--db", s.db},
        std::vector<std::string>{"show", "--db", s.db, id},
        std::vector<std::string>{"history", "--db", s.db, id}}) {
    auto r = Scratch::rmaflow(command);
    INFO(command[0], " stdout:\n", r.out, "\nstderr:\n", r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find('\x1b') == std::string::npos);
    CHECK(r.out.find('\x07') == std::string::npos);
    CHECK(r.out.find("\xc2\x9b") == std::string::npos);
    if (command[0] != "history")
      CHECK(contains(r.out, "R-\\x1b]0;pwned\\x07-\\x1b[2J-\\u009b31m"));
  }
}

TEST_CASE("Cli.Operator.Issue16.RedriveReopensAFailedInstanceAtTheStepThatFailed") {
  Scratch s;
  auto id = s.start("repair", {{"rma_id", "RMA-1"}});
  REQUIRE(s.show(id)["status"] == "suspended");
  // Not finished yet: refused before it is queued.
  check_refused(Scratch::rmaflow({"redrive", "--db", s.db, id, "--reason", "too early"}), 1,
                {id, "only a finished instance can be redriven"});
  auto resolve = s.queue({"resolve", "--db", s.db, id, "--reason", "ERP down all day"});
  CHECK(outcome_line(s.apply(), resolve, "resolve", id) == "applied");
  REQUIRE(s.show(id)["status"] == "failed");

  // A patch of the read-only input is refused before it is queued.
  check_refused(Scratch::rmaflow(
                    {"redrive", "--db", s.db, id, "--reason", "x", "--patch", R"({"input":{}})"}),
                1, {"--patch", ".input"});

  auto redrive = s.queue({"redrive", "--db", s.db, id, "--reason", "ERP back", "--patch",
                          R"({"ticket":"INC-7"})", "--actor", "erin"});
  CHECK(outcome_line(s.apply(), redrive, "redrive", id) == "applied");
  auto row = s.show(id);
  // The refund ran again under its new key, which fails once too (the ledger counts per key).
  CHECK(row["status"] == "suspended");
  CHECK(row["step"] == "refund");
  CHECK(row["context"]["ticket"] == "INC-7");
  auto history = s.history(id);
  std::vector<std::string> keys;
  for (const auto& e : events_of(history, "attempt_started")) {
    keys.push_back(e["step"].get<std::string>() + " " +
                   e["data"].value("idempotency_key", std::string()));
  }
  CHECK(keys == std::vector<std::string>{"label " + id + ":label:1", "refund " + id + ":refund:1",
                                         "refund " + id + ":refund:2"});
  auto actions = events_of(history, "operator_action");
  REQUIRE(actions.size() == 2);
  CHECK(actions[1]["data"]["action"] == "redrive");
  CHECK(actions[1]["data"]["actor"] == "erin");
  CHECK(actions[1]["data"]["before"]["status"] == "failed");
}
