// The real binary, killed with SIGKILL at the interesting points of a run of many instances,
// restarted on the same database each time. Afterwards every instance must have reached its
// final state with a history free of gaps and repeats, and the adapter's own ledger must show
// every effect applied exactly once.
#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>
#include <vector>

#include "engine/store/schema.hpp"
#include "rmaflow/store.hpp"
#include "tests/cli/cli_checks.hpp"
#include "tests/support/pg_cluster.hpp"
#include "tests/support/process.hpp"

using namespace rmaflow::testing;
using json = nlohmann::json;
namespace fs = std::filesystem;
using rmaflow::EventType;
using rmaflow::InstanceStatus;

namespace {

// The checks read through the Store, so that they hold on either backend.
rmaflow::StoreOptions read_only() {
  return rmaflow::StoreOptions{.read_only = true};
}

rmaflow::InstanceFilter all_instances() {
  rmaflow::InstanceFilter filter;
  filter.limit = 10'000;
  return filter;
}

constexpr int kInstances = 60;

const char* kWorkflow = R"(
workflow: crash-return
version: 1
business_key: ${ .input.rma_id }
defaults:
  # Far past any call's time: 6,000 instances under AddressSanitizer on a loaded machine queue
  # their calls for seconds, and a timed-out attempt is not what these kills are about.
  timeout: 120s
  retry: { max_attempts: 4, interval: 30ms, backoff: 1.0 }
start: authorize
steps:
  authorize:
    action: erp.authorize_return
    with: { rma: "${ .input.rma_id }" }
    result: authorization
    next: label
  label:
    action: carrier.create_label
    with: { rma: "${ .input.rma_id }" }
    result: label
    next: receive
  receive:
    action: wms.receive
    with: { rma: "${ .input.rma_id }" }
    next: credit
  credit:
    action: erp.post_credit_memo
    with: { amount: "${ .input.amount }" }
    result: memo
    next: done
  done: { end: completed }
)";

const char* kAdapters = R"(
adapters:
  erp:
    type: builtin
    ledger: effects.db
    latency: 2ms
  carrier:
    type: builtin
    ledger: effects.db
    operations:
      create_label: { fail: Transient, times: 2, delay: 1ms }
  wms:
    type: builtin
    ledger: effects.db
    latency: 3ms
)";

const std::vector<std::string> kSteps = {"authorize", "label", "receive", "credit"};

struct Run {
  TempDir dir;
  std::string db = dir.file("crash.db");
  std::string wf_dir;
  std::string adapters;
  std::string inputs;
  int instances;

  explicit Run(int count = kInstances) : instances(count) {
    wf_dir = dir.path() + "/workflows";
    dir.write("workflows/crash-return.yaml", kWorkflow);
    adapters = dir.write("adapters.yaml", kAdapters);
    json rmas = json::array();
    for (int i = 0; i < instances; ++i) {
      rmas.push_back({{"rma_id", fmt::format("RMA-{:03}", i)}, {"amount", 10 * i}});
    }
    inputs = dir.write("rmas.json", rmas.dump());
  }

  ProcessResult run(const std::string& kill_at) {
    std::vector<std::string> env;
    if (!kill_at.empty()) env.push_back("RMAFLOW_KILL_AT=" + kill_at);
    return run_process({rmaflow_binary(), "run", "--db", db, "--workflows", wf_dir, "--adapters",
                        adapters, inputs},
                       env);
  }
};

void check_after_recovery(Run& r);

// Each scenario kills the binary at the given points, one run each, restarting on the same
// database; a final run then finishes the work.
void kill_and_recover(const std::vector<std::string>& kills, int instances = kInstances) {
  Run r(instances);
  kill_then_finish([&](const std::string& kill_at) { return r.run(kill_at); }, kills);
  check_after_recovery(r);
}

}  // namespace

TEST_CASE("Recovery.Sigkill.BetweenSteps") { kill_and_recover({"commit.after:2"}); }
TEST_CASE("Recovery.Sigkill.MidAttempt") { kill_and_recover({"invoke.after:70"}); }
TEST_CASE("Recovery.Sigkill.DuringRetryDelay") { kill_and_recover({"retry.armed:5"}); }
TEST_CASE("Recovery.Sigkill.BatchLostBeforeCommit") { kill_and_recover({"commit.before:3"}); }
// Killed right after the first call went out: every instance had its attempt started (one
// batch), so on restart each call is made again, and each history says so, with the key the
// first call carried; the ledger still holds one effect per key.
TEST_CASE("Recovery.Sigkill.Issue11.ReinvocationIsInTheHistory") {
  Run r;
  kill_then_finish([&](const std::string& kill_at) { return r.run(kill_at); }, {"invoke.after:1"});
  check_after_recovery(r);
  auto store = rmaflow::open_store(r.db, read_only());
  int reinvoked = 0;
  for (const auto& instance : store->list_instances(all_instances())) {
    const auto& id = instance.id;
    auto history = store->history(id);
    for (std::size_t i = 1; i < history.size(); ++i) {
      if (history[i].type != EventType::attempt_reinvoked) continue;
      ++reinvoked;
      INFO(id);
      CHECK(history[i - 1].type ==
            EventType::attempt_started);  // right after the attempt it repeats
      CHECK(history[i].step == "authorize");
      auto data = json::parse(history[i].data);
      CHECK(data["attempt"] == 1);
      CHECK(data["idempotency_key"] == id + ":authorize:1");
      CHECK(json::parse(history[i - 1].data)["idempotency_key"] == id + ":authorize:1");
    }
  }
  CHECK(reinvoked == kInstances);
}

TEST_CASE("Recovery.Sigkill.RepeatedKills") {
  kill_and_recover({"commit.after:2", "invoke.after:70", "retry.armed:5", "commit.before:2"});
}

// The commit is pipelined: a writer thread writes one batch while the engine thread builds the
// next. Killed while a batch is with the writer (not yet written: it and what the engine built
// on it are lost, nothing of either was invoked), and once it is durable but before the engine
// thread heard so (its calls were never made): each restart finds the last committed state and
// goes on, every effect still applied once.
TEST_CASE("Recovery.Sigkill.Issue19.WhileTheNextBatchIsBuilt") {
  kill_and_recover(
      {"commit.writing:3", "commit.written:2", "commit.writing:2", "commit.written:4"});
}

// 6,000 starts at once fill batches to their cap (8,192 events), and a full batch goes to the
// writer as soon as the one before it is committed, before that one's effects run. Killed there
// (the first batch durable, its calls not made, the next one with the writer), once a full
// batch's rows are copied while the one before it is still being written, then once SQLite has
// copied its log back to the database file on its own thread but before the log started over:
// each restart finds the last committed state, every effect applied once.
TEST_CASE("Recovery.Sigkill.Issue19.FullBatchesAndCheckpointsOffTheCommitPath") {
  kill_and_recover({"commit.after:1", "commit.copied:1", "checkpoint.copied:1", "commit.after:3"},
                   6000);
}

// The engine lays its log's file out as it starts (engine/store/checkpointer.hpp):
// killed with its commits at the start of that file and zeros behind them, the restart reads
// the log to its last commit, and the runs after it write over the zeros.
TEST_CASE("Recovery.Sigkill.Issue19.CommitsInALaidOutLog") {
  Run r;
  auto killed = r.run("commit.after:3");
  INFO("stderr:\n", killed.err);
  REQUIRE(killed.signal == SIGKILL);
  const std::string log = r.db + "-wal";
  REQUIRE(fs::exists(log));
  CHECK(fs::file_size(log) >= 40ll << 20);
  {
    std::ifstream in(log, std::ios::binary);
    in.seekg(-(1 << 20), std::ios::end);
    std::string tail(1 << 20, 'x');
    in.read(tail.data(), static_cast<std::streamsize>(tail.size()));
    CHECK(tail.find_first_not_of('\0') == std::string::npos);
  }
  kill_then_finish([&](const std::string& kill_at) { return r.run(kill_at); },
                   {"commit.writing:3", "commit.after:2"});
  check_after_recovery(r);
}

namespace {

// A database left by a killed run, moved back to an older schema: the same rows, in the
// tables and columns that schema has (before schema 13, the context in the instance's row).
void move_back_to_schema(Run& r, int version) {
  const std::string old = r.dir.file(fmt::format("schema{}.db", version));
  {
    SQLite::Database db(old, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db.exec("PRAGMA journal_mode = WAL");
    rmaflow::store::migrate(db, old, version);
    SQLite::Statement attach(db, "ATTACH DATABASE ?1 AS killed");
    attach.bind(1, r.db);
    attach.exec();
    SQLite::Transaction tx(db);
    std::vector<std::string> tables;
    SQLite::Statement names(db,
                            "SELECT name FROM main.sqlite_schema WHERE type = 'table' AND "
                            "name NOT LIKE 'sqlite_%' AND name <> 'schema_version'");
    while (names.executeStep()) tables.push_back(names.getColumn(0).getString());
    for (const auto& table : tables) {
      std::vector<std::string> columns;
      std::vector<std::string> values;
      SQLite::Statement info(db, fmt::format("SELECT name FROM pragma_table_info('{}')", table));
      while (info.executeStep()) {
        columns.push_back(info.getColumn(0).getString());
        values.push_back(columns.back() == "context" && table == "instances"
                             ? "(SELECT c.context FROM killed.instance_contexts c WHERE "
                               "c.instance_id = t.id)"
                             : "t." + columns.back());
      }
      db.exec(fmt::format("INSERT INTO main.{} ({}) SELECT {} FROM killed.{} AS t", table,
                          fmt::join(columns, ", "), fmt::join(values, ", "), table));
    }
    tx.commit();
    db.exec("DETACH DATABASE killed");
  }
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(r.db + suffix);
  fs::rename(old, r.db);
}

std::int64_t count_rows(const std::string& file, const char* table) {
  SQLite::Database db(file, SQLite::OPEN_READONLY);
  return db.execAndGet(fmt::format("SELECT count(*) FROM {}", table)).getInt64();
}

int schema_of(const std::string& file) {
  SQLite::Database db(file, SQLite::OPEN_READONLY);
  return rmaflow::store::stored_schema_version(db);
}

// A run killed mid-way, its database moved back to schema `version`, then a run killed with
// the next migration applied and not committed: the database is left at `version`.
void kill_while_migrating_from(Run& r, int version) {
  auto killed = r.run("commit.after:3");
  REQUIRE(killed.signal == SIGKILL);
  move_back_to_schema(r, version);
  auto migrating = r.run("migrate.applied:1");
  INFO("stderr:\n", migrating.err);
  REQUIRE(migrating.signal == SIGKILL);
  CHECK(schema_of(r.db) == version);
}

// The next runs (one more killed) migrate, and every instance finishes once.
void migrate_and_finish(Run& r) {
  kill_then_finish([&](const std::string& kill_at) { return r.run(kill_at); }, {"commit.after:2"});
  CHECK(schema_of(r.db) == rmaflow::store::latest_schema_version());
  check_after_recovery(r);
}

}  // namespace

// Schema 12 copies the events into a new table. Killed with the copy made and not committed,
// the database is schema 11, the old layout with every event.
TEST_CASE("Recovery.Sigkill.Issue19.WhileTheEventsAreMigrated") {
  Run r;
  kill_while_migrating_from(r, 11);
  const auto events = count_rows(r.db, "events");
  CHECK(events > 0);
  {
    SQLite::Database db(r.db, SQLite::OPEN_READONLY);
    CHECK(db.execAndGet("SELECT sql FROM sqlite_schema WHERE name = 'events'")
              .getString()
              .find("WITHOUT ROWID") != std::string::npos);
  }
  migrate_and_finish(r);
  CHECK(count_rows(r.db, "events") > events);
}

// Schema 13 moves the contexts out of the instances' rows. Killed with the move made and not
// committed, the database is schema 12 with every context in its row; the next runs migrate,
// and the instances finish with their inputs and every step's result in their contexts.
TEST_CASE("Recovery.Sigkill.Issue19.WhileTheContextsAreMoved") {
  Run r;
  kill_while_migrating_from(r, 12);
  {
    SQLite::Database db(r.db, SQLite::OPEN_READONLY);
    CHECK_FALSE(db.tableExists("instance_contexts"));
    CHECK(db.execAndGet("SELECT count(*) FROM instances WHERE json_valid(context) AND "
                        "json_type(context, '$.input') = 'object'")
              .getInt64() == count_rows(r.db, "instances"));
  }
  migrate_and_finish(r);
  CHECK(count_rows(r.db, "instance_contexts") == count_rows(r.db, "instances"));
  // Each context holds its input and the results of the steps before and after the move.
  auto store = rmaflow::open_store(r.db, read_only());
  for (const auto& instance : store->list_instances(all_instances())) {
    INFO(instance.id);
    CHECK(instance.context->at("input").at("rma_id") == instance.business_key);
    CHECK(instance.context->contains("authorization"));
    CHECK(instance.context->contains("label"));
    CHECK(instance.context->contains("memo"));
  }
}

TEST_CASE("Recovery.Sigkill.Issue19.WhileTheNextBatchIsBuiltOnPostgres") {
  Run r;
  r.db = PgCluster::shared().create_database();
  kill_then_finish([&](const std::string& kill_at) { return r.run(kill_at); },
                   {"commit.writing:3", "commit.written:2"});
  check_after_recovery(r);
}

// The same kills with the engine on PostgreSQL (a throwaway cluster): each restart takes the
// engine's lock over from the killed process's session, and finds every committed transition.
TEST_CASE("Recovery.Sigkill.Issue18.OnPostgres") {
  Run r;
  r.db = PgCluster::shared().create_database();
  kill_then_finish([&](const std::string& kill_at) { return r.run(kill_at); },
                   {"commit.after:2", "invoke.after:70", "retry.armed:5", "commit.before:2"});
  check_after_recovery(r);
}

namespace {

void check_after_recovery(Run& r) {
  auto store = rmaflow::open_store(r.db, read_only());
  // Every instance, once, completed.
  std::map<std::string, std::string> instance_of_key;
  for (const auto& instance : store->list_instances(all_instances())) {
    instance_of_key[instance.business_key] = instance.id;
    CHECK_MESSAGE(instance.status == InstanceStatus::completed, "instance ", instance.id);
  }
  CHECK(instance_of_key.size() == static_cast<std::size_t>(r.instances));

  // Histories: seq 1..n, and no transition recorded twice.
  for (const auto& [key, id] : instance_of_key) {
    std::int64_t expected_seq = 1;
    std::set<std::tuple<EventType, std::string, std::string>> seen;
    int ended = 0;
    for (const auto& event : store->history(id)) {
      CHECK(event.seq == expected_seq++);
      auto data = json::parse(event.data);
      // attempt_started/failed are unique per attempt; step events per step (one visit each here).
      std::string discriminator = data.contains("attempt") ? data["attempt"].dump() : "";
      if (event.type == EventType::step_entered || event.type == EventType::step_completed) {
        discriminator.clear();
      }
      // attempt_reinvoked repeats by design: one per restart that found the call out.
      CHECK_MESSAGE((event.type == EventType::attempt_reinvoked ||
                     seen.emplace(event.type, event.step, discriminator).second),
                    "repeated transition ", to_string(event.type), " at ", event.step, " in ", id);
      if (event.type == EventType::instance_ended) ++ended;
    }
    CHECK(ended == 1);
  }

  // The adapters' ledger: exactly the expected keys, each effect applied once.
  SQLite::Database ledger(r.dir.file("effects.db"), SQLite::OPEN_READONLY);
  std::set<std::string> expected_keys;
  for (const auto& [key, id] : instance_of_key)
    for (const auto& step : kSteps) expected_keys.insert(id + ":" + step + ":1");
  std::set<std::string> keys;
  int replayed = 0;
  SQLite::Statement effects(ledger, "SELECT key, effects, calls, operation FROM effects");
  while (effects.executeStep()) {
    auto key = effects.getColumn(0).getString();
    keys.insert(key);
    CHECK_MESSAGE(effects.getColumn(1).getInt() == 1, "effect of ", key, " applied ",
                  effects.getColumn(1).getInt(), " times");
    if (effects.getColumn(3).getString() != "create_label" && effects.getColumn(2).getInt() > 1) ++replayed;
  }
  CHECK(keys == expected_keys);
  (void)replayed;  // how many calls were repeated depends on where the kill fell
}

}  // namespace

// ---- waits, signals and compensation ---------------------------------------------------

namespace {

const char* kSagaWorkflow = R"(
workflow: crash-saga
version: 1
business_key: ${ .input.rma_id }
on_failure: compensate
defaults:
  timeout: 10s
  retry: { max_attempts: 3, interval: 20ms, backoff: 1.0 }
start: label
steps:
  label:
    action: carrier.create_label
    with: { rma: "${ .input.rma_id }" }
    result: label
    compensate: { action: carrier.void_label, with: { rma: "${ .label.rma }" } }
    next: await_receipt
  await_receipt:
    wait: { signal: warehouse.received, timeout: 1h }
    result: receipt
    on_timeout: expire
    next: restock
  restock:
    action: wms.restock
    with: { rma: "${ .input.rma_id }", qty: "${ .receipt.qty }" }
    compensate: { action: wms.reverse_restock, with: { rma: "${ .input.rma_id }" } }
    next: eligible
  eligible:
    switch:
      - if: .input.ineligible
        next: refuse
    default: credit
  refuse:
    action: erp.refuse
    next: done
  credit:
    action: erp.post_credit_memo
    with: { rma: "${ .input.rma_id }" }
    next: done
  done: { end: completed }
  expire: { end: { status: expired, compensate: true } }
)";

const char* kSagaAdapters = R"(
adapters:
  carrier: { type: builtin, ledger: effects.db, latency: 2ms }
  wms: { type: builtin, ledger: effects.db, latency: 3ms }
  erp:
    type: builtin
    ledger: effects.db
    latency: 2ms
    operations:
      refuse: { fail: NotEligible, retryable: false }
)";

constexpr int kSagaInstances = 30;
constexpr int kSignalled = 20;  // RMA-00..19 are received; the even ones are not eligible

struct SagaRun {
  TempDir dir;
  std::string db = dir.file("saga.db");
  std::string wf_dir = dir.path() + "/workflows";
  std::string adapters;
  std::string inputs;

  SagaRun() {
    dir.write("workflows/crash-saga.yaml", kSagaWorkflow);
    adapters = dir.write("adapters.yaml", kSagaAdapters);
    json rmas = json::array();
    for (int i = 0; i < kSagaInstances; ++i) {
      rmas.push_back({{"rma_id", fmt::format("RMA-{:02}", i)}, {"ineligible", i % 2 == 0}});
    }
    inputs = dir.write("rmas.json", rmas.dump());
  }

  ProcessResult run(const std::string& kill_at, bool with_inputs) {
    std::vector<std::string> argv = {rmaflow_binary(), "run", "--db", db, "--workflows", wf_dir,
                                     "--adapters", adapters};
    if (with_inputs) argv.push_back(inputs);
    std::vector<std::string> env;
    if (!kill_at.empty()) env.push_back("RMAFLOW_KILL_AT=" + kill_at);
    return run_process(argv, env);
  }

  void killed_at(const std::string& point, bool with_inputs = false) {
    auto r = run(point, with_inputs);
    INFO("kill at ", point, "\nstdout:\n", r.out, "\nstderr:\n", r.err);
    REQUIRE(r.signal == SIGKILL);
  }

  void finished(bool with_inputs = false) {
    auto r = run("", with_inputs);
    INFO("stdout:\n", r.out, "\nstderr:\n", r.err);
    REQUIRE(r.exit_code == 0);
  }

  void cli(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {rmaflow_binary()};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = run_process(argv);
    INFO("rmaflow ", args.front(), "\nstdout:\n", r.out, "\nstderr:\n", r.err);
    REQUIRE(r.exit_code == 0);
  }

  std::map<std::string, std::string> ids_by_key() {
    SQLite::Database d(db, SQLite::OPEN_READONLY);
    SQLite::Statement q(d, "SELECT business_key, id FROM instances");
    std::map<std::string, std::string> out;
    while (q.executeStep()) out[q.getColumn(0).getString()] = q.getColumn(1).getString();
    return out;
  }

  std::map<std::string, std::int64_t> wait_timers() {
    SQLite::Database d(db, SQLite::OPEN_READONLY);
    SQLite::Statement q(d, "SELECT instance_id, due FROM timers WHERE name = 'wait'");
    std::map<std::string, std::int64_t> out;
    while (q.executeStep()) out[q.getColumn(0).getString()] = q.getColumn(1).getInt64();
    return out;
  }
};

std::string rma(int i) { return fmt::format("RMA-{:02}", i); }

}  // namespace

TEST_CASE("Recovery.Sigkill.DuringWaitsAfterSignalsAndInCompensation") {
  SagaRun r;
  r.killed_at("commit.after:2", true);  // right after the labels are made and the waits set
  r.finished(true);
  auto ids = r.ids_by_key();
  REQUIRE(ids.size() == kSagaInstances);
  auto timers = r.wait_timers();
  REQUIRE(timers.size() == kSagaInstances);  // every instance waits, each with its timer

  // The warehouse scans 20 parcels; one scan is delivered twice.
  for (int i = 0; i < kSignalled; ++i) {
    r.cli({"signal", "--db", r.db, ids[rma(i)], "warehouse.received", "--data",
           fmt::format("{{\"qty\":{}}}", i + 1), "--key", "scan-" + rma(i)});
  }
  r.cli({"signal", "--db", r.db, ids[rma(3)], "warehouse.received", "--data", "{\"qty\":99}",
         "--key", "scan-" + rma(3)});

  r.killed_at("commit.after:1");   // right after the signals are accepted
  r.killed_at("invoke.after:5");   // restocks and credits under way
  r.killed_at("commit.after:2");   // compensations of the ineligible ones under way
  r.finished();

  // The unsignalled ones still wait, their timers neither lost nor fired early.
  auto after = r.wait_timers();
  for (int i = kSignalled; i < kSagaInstances; ++i) {
    CHECK(after.count(ids[rma(i)]) == 1);
    CHECK(after[ids[rma(i)]] == timers[ids[rma(i)]]);
  }
  // Nobody waits for them: cancel with compensation, killed in the middle.
  for (int i = kSignalled; i < kSagaInstances; ++i) {
    r.cli({"cancel", "--db", r.db, ids[rma(i)], "--compensate", "--reason", "parcel lost",
           "--actor", "ops"});
  }
  r.killed_at("invoke.after:3");
  r.finished();

  SQLite::Database db(r.db, SQLite::OPEN_READONLY);
  for (int i = 0; i < kSagaInstances; ++i) {
    SQLite::Statement q(db,
                        "SELECT status, context FROM instances JOIN instance_contexts ON "
                        "instance_id = id WHERE id = ?");
    q.bind(1, ids[rma(i)]);
    REQUIRE(q.executeStep());
    int expected = i >= kSignalled ? 13 /* cancelled */ : i % 2 == 0 ? 15 /* compensated */ : 10;
    CHECK_MESSAGE(q.getColumn(0).getInt() == expected, rma(i));
    if (i < kSignalled) {
      auto context = json::parse(q.getColumn(1).getString());
      CHECK(context["receipt"]["qty"] == i + 1);  // the duplicate scan was not consumed
    }
  }
  SQLite::Statement fired(db, "SELECT count(*) FROM events WHERE type = 23");
  REQUIRE(fired.executeStep());
  CHECK(fired.getColumn(0).getInt() == 0);  // no wait timed out: none fired early

  // Effects: exactly the expected keys, each applied once.
  std::set<std::string> expected;
  for (int i = 0; i < kSagaInstances; ++i) {
    const auto& id = ids[rma(i)];
    expected.insert(id + ":label:1");
    bool compensated = i >= kSignalled || i % 2 == 0;
    if (compensated) expected.insert(id + ":label:1:compensate");
    if (i < kSignalled) {
      expected.insert(id + ":restock:1");
      if (i % 2 == 0) expected.insert(id + ":restock:1:compensate");
      if (i % 2 == 1) expected.insert(id + ":credit:1");
    }
  }
  SQLite::Database ledger(r.dir.file("effects.db"), SQLite::OPEN_READONLY);
  SQLite::Statement effects(ledger, "SELECT key, effects FROM effects WHERE operation <> 'refuse'");
  std::set<std::string> keys;
  while (effects.executeStep()) {
    keys.insert(effects.getColumn(0).getString());
    CHECK_MESSAGE(effects.getColumn(1).getInt() == 1, effects.getColumn(0).getString());
  }
  CHECK(keys == expected);

  // Histories: contiguous, one end each.
  for (const auto& [key, id] : ids) {
    SQLite::Statement events(db, "SELECT seq, type FROM events WHERE instance_id = ? ORDER BY seq");
    events.bind(1, id);
    std::int64_t seq = 1;
    int ended = 0;
    while (events.executeStep()) {
      CHECK(events.getColumn(0).getInt64() == seq++);
      ended += events.getColumn(1).getInt() == 9;
    }
    CHECK_MESSAGE(ended == 1, key);
  }
}
