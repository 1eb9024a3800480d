// Signals and operator commands: batch writes, queries, a second writer, and the migration
// that added their tables.
#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "engine/store/schema.hpp"
#include "tests/store/store_rows.hpp"
#include "tests/support/process.hpp"

using namespace rmaflow;
using rmaflow::testing::error_from;
using rmaflow::testing::TempDir;

namespace {

void check_same(const SignalRow& a, const SignalRow& b) {
  CHECK(a.seq == b.seq);
  CHECK(a.instance_id == b.instance_id);
  CHECK(a.name == b.name);
  CHECK(a.idempotency_key == b.idempotency_key);
  CHECK(a.payload == b.payload);
  CHECK(a.received_at == b.received_at);
  CHECK(a.consumed_at == b.consumed_at);
}

void check_same(const CommandRow& a, const CommandRow& b) {
  CHECK(a.id == b.id);
  CHECK(a.instance_id == b.instance_id);
  CHECK(a.kind == b.kind);
  CHECK(a.body == b.body);
  CHECK(a.created_at == b.created_at);
  CHECK(a.applied_at == b.applied_at);
  CHECK(a.outcome == b.outcome);
}

std::vector<std::string> keys_of(const std::vector<SignalRow>& rows) {
  std::vector<std::string> keys;
  for (const auto& row : rows) keys.push_back(row.idempotency_key);
  return keys;
}

std::vector<std::int64_t> ids_of(const std::vector<CommandRow>& rows) {
  std::vector<std::int64_t> ids;
  for (const auto& row : rows) ids.push_back(row.id);
  return ids;
}

WriteBatch signals_batch(std::vector<SignalRow> rows) {
  WriteBatch batch;
  batch.signals_added = std::move(rows);
  return batch;
}

WriteBatch consume_batch(const std::string& instance_id, const std::string& key,
                         std::int64_t ms = 1'700'000'100'000) {
  WriteBatch batch;
  batch.signals_consumed.push_back({instance_id, "key-" + key, from_millis(ms)});
  return batch;
}

WriteBatch done_batch(std::int64_t id, const std::string& outcome,
                      std::int64_t ms = 1'700'000'200'000) {
  WriteBatch batch;
  batch.commands_done.push_back({id, from_millis(ms), outcome});
  return batch;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("Store.Signal.RoundTripsEveryField") {
  TempDir dir;
  const auto path = dir.file("signals.db");
  auto s = open_sqlite_store(path);

  SignalRow pending = testing::signal_row("i-1", "approved", "a", 1'700'000'000'001);
  pending.payload = "{\"note\":\"unicode \xC3\xA9 and quotes \\\" ok\",\"n\":[1,2]}";
  SignalRow consumed = testing::signal_row("i-1", "photos", "b", 1'700'000'000'002);
  consumed.payload = "null";
  consumed.consumed_at = from_millis(1'700'000'000'003);
  SignalRow other = testing::signal_row("i-2", "approved", "a");  // same key, other instance
  s->commit(signals_batch({pending, consumed, other}));

  const auto found_pending = s->find_signal("i-1", "key-a");
  const auto found_consumed = s->find_signal("i-1", "key-b");
  REQUIRE(found_pending.has_value());
  REQUIRE(found_consumed.has_value());
  CHECK(found_pending->seq > 0);
  CHECK(found_consumed->seq > found_pending->seq);  // arrival order
  pending.seq = found_pending->seq;
  consumed.seq = found_consumed->seq;
  check_same(*found_pending, pending);
  check_same(*found_consumed, consumed);
  CHECK(s->find_signal("i-2", "key-a")->instance_id == "i-2");

  CHECK_FALSE(s->find_signal("i-1", "key-zzz").has_value());
  CHECK_FALSE(s->find_signal("i-3", "key-a").has_value());
  CHECK(s->signals("i-3").empty());
  CHECK(s->signals("i-1").size() == 2);

  // The same rows through a read-only store and after reopening.
  auto reader = open_sqlite_store(path, testing::read_only_option());
  const auto listed = reader->signals("i-1");
  REQUIRE(listed.size() == 2);
  check_same(listed[0], pending);
  check_same(listed[1], consumed);
  s.reset();
  check_same(*open_sqlite_store(path)->find_signal("i-1", "key-a"), pending);
}

TEST_CASE("Store.Signal.SeqIsArrivalOrderAcrossInstances") {
  TempDir dir;
  auto s = open_sqlite_store(dir.file("seq.db"));
  s->commit(signals_batch({testing::signal_row("i-2", "approved", "1")}));
  s->commit(signals_batch(
      {testing::signal_row("i-1", "approved", "2"), testing::signal_row("i-2", "approved", "3")}));
  const auto first = s->find_signal("i-2", "key-1")->seq;
  const auto second = s->find_signal("i-1", "key-2")->seq;
  const auto third = s->find_signal("i-2", "key-3")->seq;
  CHECK(first < second);
  CHECK(second < third);
  CHECK(keys_of(s->signals("i-2")) == std::vector<std::string>{"key-1", "key-3"});
}

TEST_CASE("Store.Signal.AtomicOnDuplicateKey") {
  TempDir dir;
  const auto path = dir.file("dup.db");
  auto s = open_sqlite_store(path);
  s->commit(signals_batch({testing::signal_row("i-1", "approved", "a")}));

  SUBCASE("key already stored") {
    WriteBatch batch = testing::start_batch("i-2", 2);
    batch.timers_set.push_back(testing::timer_row("i-2", "wait", 5));
    batch.signals_added.push_back(testing::signal_row("i-1", "approved", "fresh"));
    batch.signals_added.push_back(testing::signal_row("i-1", "rejected", "a"));  // duplicate
    const auto e = testing::error_from([&] { s->commit(batch); });
    CHECK(e.code() == Errc::storage);
    CHECK(contains(e.what(), path));
  }
  SUBCASE("key twice in one batch") {
    WriteBatch batch = testing::start_batch("i-2", 2);
    batch.timers_set.push_back(testing::timer_row("i-2", "wait", 5));
    batch.signals_added.push_back(testing::signal_row("i-1", "approved", "fresh"));
    batch.signals_added.push_back(testing::signal_row("i-1", "approved", "fresh"));
    CHECK(testing::error_from([&] { s->commit(batch); }).code() == Errc::storage);
  }

  // Nothing of the failed batch is stored, and the store is still usable.
  CHECK_FALSE(s->get_instance("i-2").has_value());
  CHECK(s->history("i-2").empty());
  CHECK(s->due_timers(from_millis(10), 10).empty());
  CHECK_FALSE(s->find_signal("i-1", "key-fresh").has_value());
  REQUIRE(s->signals("i-1").size() == 1);
  CHECK(s->signals("i-1")[0].name == "approved");

  WriteBatch retry = testing::start_batch("i-2", 2);
  retry.signals_added.push_back(testing::signal_row("i-1", "approved", "fresh"));
  s->commit(retry);
  CHECK(s->get_instance("i-2").has_value());
  CHECK(s->signals("i-1").size() == 2);
}

TEST_CASE("Store.Signal.ConsumedOldestFirst") {
  TempDir dir;
  auto s = open_sqlite_store(dir.file("consume.db"));
  s->commit(signals_batch({
      testing::signal_row("i-1", "approved", "a", 1'000),
      testing::signal_row("i-1", "rejected", "r", 1'001),
      testing::signal_row("i-2", "approved", "x", 1'002),
      testing::signal_row("i-1", "approved", "b", 1'003),
  }));
  s->commit(signals_batch({testing::signal_row("i-1", "approved", "c", 900)}));  // later seq

  auto oldest = [&](const std::string& id, const std::string& name) {
    const auto row = s->oldest_pending_signal(id, name);
    return row ? row->idempotency_key : std::string("none");
  };
  CHECK(oldest("i-1", "approved") == "key-a");
  CHECK(oldest("i-1", "rejected") == "key-r");
  CHECK(oldest("i-2", "approved") == "key-x");
  CHECK(oldest("i-1", "cancelled") == "none");
  CHECK(oldest("i-9", "approved") == "none");

  s->commit(consume_batch("i-1", "a", 5'000));
  CHECK(oldest("i-1", "approved") == "key-b");
  CHECK(s->find_signal("i-1", "key-a")->consumed_at == from_millis(5'000));
  CHECK_FALSE(s->find_signal("i-1", "key-b")->consumed_at.has_value());

  s->commit(consume_batch("i-1", "c"));  // out of order: b stays the oldest pending
  CHECK(oldest("i-1", "approved") == "key-b");
  s->commit(consume_batch("i-1", "b"));
  CHECK(oldest("i-1", "approved") == "none");
  CHECK(oldest("i-1", "rejected") == "key-r");
  CHECK(oldest("i-2", "approved") == "key-x");

  // Consumed signals stay, in arrival order, as the instance's record.
  const auto all = s->signals("i-1");
  CHECK(keys_of(all) == std::vector<std::string>{"key-a", "key-r", "key-b", "key-c"});
  CHECK(all[0].consumed_at.has_value());
  CHECK_FALSE(all[1].consumed_at.has_value());

  SUBCASE("added and consumed in one batch") {
    WriteBatch batch = signals_batch({testing::signal_row("i-1", "approved", "d")});
    batch.signals_consumed.push_back({"i-1", "key-d", from_millis(7'000)});
    s->commit(batch);
    CHECK(s->find_signal("i-1", "key-d")->consumed_at == from_millis(7'000));
    CHECK(oldest("i-1", "approved") == "none");
  }
  SUBCASE("consuming a signal that is not pending fails the whole batch") {
    for (const std::string key : {"a", "unknown"}) {
      CAPTURE(key);
      WriteBatch batch = testing::start_batch("i-3");
      batch.signals_consumed.push_back({"i-1", "key-r", from_millis(8'000)});
      batch.signals_consumed.push_back({"i-1", "key-" + key, from_millis(8'000)});
      const auto e = testing::error_from([&] { s->commit(batch); });
      CHECK(e.code() == Errc::storage);
      CHECK(contains(e.what(), "no pending signal with key key-" + key));
      CHECK_FALSE(s->get_instance("i-3").has_value());
      CHECK(oldest("i-1", "rejected") == "key-r");  // its consumption was rolled back
      CHECK(s->find_signal("i-1", "key-a")->consumed_at == from_millis(5'000));
    }
  }
}

TEST_CASE("Store.Command.PendingAndDone") {
  TempDir dir;
  const auto path = dir.file("commands.db");
  auto s = open_sqlite_store(path);
  CHECK(s->pending_commands(10).empty());
  CHECK_FALSE(s->get_command(1).has_value());

  CommandRow retry = testing::command_row("i-1", 1'000);
  CommandRow cancel = testing::command_row("i-2", 1'001);
  cancel.kind = "cancel";
  cancel.body = "{\"actor\":\"ops\",\"reason\":\"customer \xC3\xA9 asked\",\"compensate\":true}";
  CommandRow patch = testing::command_row("i-1", 1'002);
  patch.kind = "patch";
  patch.body = R"({"actor":"ops","reason":"typo","patch":{"input":{"sku":"B-2"}}})";

  retry.id = s->add_command(retry);
  cancel.id = s->add_command(cancel);
  patch.id = s->add_command(patch);
  CHECK(retry.id > 0);
  CHECK(cancel.id > retry.id);
  CHECK(patch.id > cancel.id);

  const auto pending = s->pending_commands(10);
  REQUIRE(pending.size() == 3);
  check_same(pending[0], retry);
  check_same(pending[1], cancel);
  check_same(pending[2], patch);
  CHECK(ids_of(s->pending_commands(2)) == std::vector<std::int64_t>{retry.id, cancel.id});
  CHECK(s->pending_commands(0).empty());
  CHECK(s->pending_commands(static_cast<std::size_t>(-1)).size() == 3);

  // Done in the same transaction as the transition that applied it.
  WriteBatch applied = testing::start_batch("i-1");
  applied.commands_done.push_back({cancel.id, from_millis(2'000), "applied"});
  applied.commands_done.push_back(
      {retry.id, from_millis(2'001), "refused: instance i-1 is not suspended"});
  s->commit(applied);
  CHECK(s->get_instance("i-1").has_value());
  CHECK(ids_of(s->pending_commands(10)) == std::vector<std::int64_t>{patch.id});

  cancel.applied_at = from_millis(2'000);
  cancel.outcome = "applied";
  retry.applied_at = from_millis(2'001);
  retry.outcome = "refused: instance i-1 is not suspended";
  check_same(*s->get_command(cancel.id), cancel);
  check_same(*s->get_command(retry.id), retry);
  check_same(*s->get_command(patch.id), patch);
  CHECK_FALSE(s->get_command(patch.id + 1).has_value());

  SUBCASE("a command that is not pending cannot be done again, atomically") {
    for (const std::int64_t id : {cancel.id, patch.id + 100}) {
      CAPTURE(id);
      WriteBatch batch = testing::start_batch("i-3");
      batch.commands_done.push_back({patch.id, from_millis(3'000), "applied"});
      batch.commands_done.push_back({id, from_millis(3'000), "applied"});
      const auto e = testing::error_from([&] { s->commit(batch); });
      CHECK(e.code() == Errc::storage);
      CHECK(contains(e.what(), fmt::format("there is no pending command {}", id)));
      CHECK_FALSE(s->get_instance("i-3").has_value());
      CHECK(ids_of(s->pending_commands(10)) == std::vector<std::int64_t>{patch.id});
      check_same(*s->get_command(cancel.id), cancel);
    }
  }
  SUBCASE("done needs an outcome") {
    const auto e = testing::error_from([&] { s->commit(done_batch(patch.id, "")); });
    CHECK(e.code() == Errc::storage);
    CHECK(s->pending_commands(10).size() == 1);
  }
  SUBCASE("ids are never reused") {
    s->commit(done_batch(patch.id, "applied"));
    CHECK(s->pending_commands(10).empty());
    s.reset();
    auto reopened = open_sqlite_store(path);
    CHECK(reopened->add_command(testing::command_row("i-4")) == patch.id + 1);
  }
}

TEST_CASE("Store.ReadOnly.ServesSignalsAndCommands") {
  TempDir dir;
  const auto path = dir.file("ro.db");
  auto writer = open_sqlite_store(path);
  auto reader = open_sqlite_store(path, testing::read_only_option());

  writer->commit(signals_batch({testing::signal_row("i-1", "approved", "a")}));
  const auto id = writer->add_command(testing::command_row("i-1"));
  CHECK(reader->find_signal("i-1", "key-a").has_value());
  CHECK(reader->oldest_pending_signal("i-1", "approved").has_value());
  CHECK(reader->signals("i-1").size() == 1);
  CHECK(ids_of(reader->pending_commands(10)) == std::vector<std::int64_t>{id});
  CHECK(reader->get_command(id).has_value());

  writer->commit(consume_batch("i-1", "a"));
  CHECK_FALSE(reader->oldest_pending_signal("i-1", "approved").has_value());

  const auto e = testing::error_from([&] { reader->add_command(testing::command_row("i-1")); });
  CHECK(e.code() == Errc::storage);
  CHECK(contains(e.what(), "read-only"));
  CHECK(writer->pending_commands(10).size() == 1);
}

TEST_CASE("Store.Command.AddedByAClientBesideTheEngine") {
  TempDir dir;
  const auto path = dir.file("two.db");
  auto engine = open_sqlite_store(path);
  auto client = open_sqlite_store(path);  // e.g. the CLI, offline, in another process

  SUBCASE("turn by turn") {
    engine->commit(testing::start_batch("i-1"));
    const auto id = client->add_command(testing::command_row("i-1"));
    const auto pending = engine->pending_commands(10);
    REQUIRE(pending.size() == 1);
    CHECK(pending[0].id == id);

    WriteBatch batch;
    batch.events.push_back(testing::event_row("i-1", 2));
    batch.commands_done.push_back({id, from_millis(5), "applied"});
    engine->commit(batch);
    CHECK(client->get_command(id)->outcome == "applied");
    CHECK(client->history("i-1").size() == 2);
  }

  SUBCASE("while the engine commits batches") {
    constexpr int kBatches = 100;
    constexpr int kCommands = 40;
    std::vector<std::int64_t> ids;
    std::thread engine_thread([&] {
      for (int i = 0; i < kBatches; ++i) {
        WriteBatch batch = testing::start_batch(fmt::format("i-{:03}", i), 3);
        batch.signals_added.push_back(testing::signal_row(batch.instances[0].id, "approved", "a"));
        engine->commit(batch);
      }
    });
    std::thread client_thread([&] {
      for (int i = 0; i < kCommands; ++i) {
        ids.push_back(client->add_command(testing::command_row(fmt::format("i-{:03}", i))));
      }
    });
    engine_thread.join();
    client_thread.join();

    CHECK(engine->list_instances({}).size() == kBatches);
    const auto pending = engine->pending_commands(1000);
    CHECK(ids_of(pending) == ids);  // every command, in the order added
    for (std::size_t i = 1; i < ids.size(); ++i) CHECK(ids[i] > ids[i - 1]);
  }

  SUBCASE("waits for a write transaction in progress") {
    SQLite::Database other(path, SQLite::OPEN_READWRITE);
    auto tx = std::make_unique<SQLite::Transaction>(other, SQLite::TransactionBehavior::IMMEDIATE);
    other.exec(
        "INSERT INTO commands (instance_id, kind, body, created_at) VALUES ('i-0', 'skip', "
        "'{}', 0)");

    std::int64_t id = 0;
    std::chrono::milliseconds waited{};
    std::thread client_thread([&] {
      const auto start = std::chrono::steady_clock::now();
      id = client->add_command(testing::command_row("i-1"));
      waited = std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::steady_clock::now() - start);
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    tx->commit();
    client_thread.join();

    CHECK(waited.count() >= 250);
    const auto pending = engine->pending_commands(10);
    REQUIRE(pending.size() == 2);
    CHECK(pending[0].kind == "skip");
    CHECK(pending[1].id == id);
  }
}

TEST_CASE("Store.Wrapper.ForwardsSignalsAndCommands") {
  TempDir dir;
  StoreWrapper s(open_sqlite_store(dir.file("wrapped.db")));
  s.commit(signals_batch({testing::signal_row("i-1", "approved", "a")}));
  CHECK(s.find_signal("i-1", "key-a").has_value());
  CHECK(s.oldest_pending_signal("i-1", "approved").has_value());
  CHECK(s.signals("i-1").size() == 1);
  const auto id = s.add_command(testing::command_row("i-1"));
  CHECK(s.pending_commands(10).size() == 1);
  CHECK(s.get_command(id).has_value());
}

TEST_CASE("Store.Open.MigratesFromVersion1") {
  TempDir dir;
  const auto path = dir.file("v1.db");
  // The database as rmaflow with schema version 1 left it, with literal version-1 rows.
  testing::old_sqlite_database(path, 1, R"sql(
      INSERT INTO definitions (name, version, content_hash, source, input_schema, file,
                               deployed_at)
        VALUES ('returns', 1, 'h1', 'workflow: returns', '', 'returns.yaml', 1000);
      INSERT INTO instances (id, workflow, version, status, phase, step, attempt, visits,
                             context, step_input, business_key, correlation_id, input_hash,
                             incident, last_seq, created_at, updated_at, ended_at, deadline)
        VALUES ('i-1', 'returns', 1, 1, 3, 'await', 1, '{"await":1}', '{"input":{"a":1}}', '',
                'RMA-1', 'c-1', 'h', '', 1, 1000, 1001, NULL, 61000);
      INSERT INTO events (instance_id, seq, type, step, at, data)
        VALUES ('i-1', 1, 1, '', 1000, '{}');
      INSERT INTO timers (instance_id, name, due) VALUES ('i-1', 'wait', 1000);
    )sql");
  REQUIRE_FALSE(SQLite::Database(path).tableExists("signals"));

  // A reader cannot migrate, so it refuses and leaves the file as it was.
  const auto e = testing::error_from([&] { open_sqlite_store(path, testing::read_only_option()); });
  CHECK(contains(e.what(), "has schema version 1 and needs migrating"));

  {
    auto s = open_sqlite_store(path);
    CHECK(s->get_definition("returns", 1)->content_hash == "h1");
    const auto kept = s->get_instance("i-1");
    REQUIRE(kept.has_value());
    CHECK(kept->status == InstanceStatus::running);
    CHECK(kept->main().phase == Phase::waiting);
    CHECK(kept->main().step == "await");
    CHECK(kept->main().deadline == from_millis(61'000));
    CHECK(kept->context == nlohmann::json::parse(R"({"input":{"a":1}})"));
    CHECK(kept->business_key == "RMA-1");
    CHECK(kept->deadline == from_millis(61'000));
    CHECK(s->find_by_business_key("returns", "RMA-1").has_value());
    CHECK(s->history("i-1").size() == 1);
    CHECK(s->due_timers(from_millis(1'000), 10).size() == 1);

    WriteBatch batch;
    batch.signals_added.push_back(testing::signal_row("i-1", "approved", "a"));
    s->commit(batch);
    CHECK(s->oldest_pending_signal("i-1", "approved").has_value());
    CHECK(s->add_command(testing::command_row("i-1")) == 1);
  }

  SQLite::Database db(path, SQLite::OPEN_READONLY);
  CHECK(store::stored_schema_version(db) == store::latest_schema_version());
  CHECK(store::latest_schema_version() >= 2);
  CHECK(db.tableExists("signals"));
  CHECK(db.tableExists("commands"));
  CHECK(db.execAndGet("SELECT count(*) FROM schema_version").getInt() ==
        store::latest_schema_version());
  CHECK(open_sqlite_store(path, testing::read_only_option())->signals("i-1").size() == 1);
}

TEST_CASE("Store.Schema.IndexesServePendingLookups") {
  TempDir dir;
  const auto path = dir.file("plan.db");
  open_sqlite_store(path);
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  auto plan = [&](const std::string& sql) {
    SQLite::Statement s(db, "EXPLAIN QUERY PLAN " + sql);
    std::string text;
    while (s.executeStep()) text += s.getColumn(3).getString() + "\n";
    return text;
  };
  // The shapes of oldest_pending_signal() and pending_commands().
  const auto signal_plan = plan(
      "SELECT * FROM signals WHERE instance_id = ? AND name = ? AND consumed_at IS NULL "
      "ORDER BY seq LIMIT 1");
  CHECK_MESSAGE(contains(signal_plan, "signals_pending"), signal_plan);
  CHECK_MESSAGE(!contains(signal_plan, "TEMP B-TREE"), signal_plan);
  const auto command_plan = plan("SELECT * FROM commands WHERE outcome = '' ORDER BY id LIMIT ?");
  CHECK_MESSAGE(contains(command_plan, "commands_pending"), command_plan);
  CHECK_MESSAGE(!contains(command_plan, "TEMP B-TREE"), command_plan);
  // list_commands() for an instance, as an instance's view asks for its pending ones.
  const auto instance_plan = plan(
      "SELECT * FROM commands WHERE instance_id = ?1 AND outcome = '' ORDER BY id DESC LIMIT ?2");
  CHECK_MESSAGE(contains(instance_plan, "commands_instance"), instance_plan);
  CHECK_MESSAGE(!contains(instance_plan, "TEMP B-TREE"), instance_plan);
}

// Schema 4 moved where an instance stands from the row's columns into its cursors: every kind
// of row schema 3 could hold keeps its meaning.
TEST_CASE("Store.Open.Issue13.MigratesSingleCursorRows") {
  TempDir dir;
  const auto path = dir.file("v3.db");
  testing::old_sqlite_database(path, 3, R"sql(
      INSERT INTO instances (id, workflow, version, status, phase, step, attempt, visits,
                             context, step_input, business_key, correlation_id, input_hash,
                             incident, last_seq, created_at, updated_at, ended_at, deadline, saga)
      VALUES
        ('invoking', 'returns', 1, 1, 1, 'label', 2, '{"label":1}', '{"input":{}}',
         '{"rma":"R-1"}', '', 'c', 'h', '', 3, 1000, 1001, NULL, 31000,
         '{"done":[{"step":"authorize","visit":1,"input":{"id":"A-1"}}]}'),
        ('suspended', 'returns', 1, 3, 0, 'refund', 5, '{"refund":1}', '{"input":{}}',
         '{"amount":5}', '', 'c', 'h',
         '{"step":"refund","error":{"code":"CustomerOnHold","message":"on hold","retryable":false},"attempts":5,"opened_at":"2026-01-02T03:04:05Z"}',
         9, 1000, 1001, NULL, NULL, '{"done":[],"pivot":true}'),
        ('compensating', 'returns', 1, 4, 2, 'label', 1, '{"label":1}', '{"input":{}}',
         '{"label_id":"L-1"}', '', 'c', 'h', '', 7, 1000, 1001, NULL, 5000,
         '{"done":[{"step":"label","visit":1,"input":{"label_id":"L-1"}}],"running":{"target":"expired","reason":"end step expired","visit":1}}'),
        ('finished', 'returns', 1, 10, 0, 'done', 0, '{"done":1}', '{"input":{}}', '', '', 'c',
         'h', '', 12, 1000, 1001, 2000, NULL, '{}');
      INSERT INTO timers (instance_id, name, due) VALUES ('compensating', 'retry', 5000);
    )sql");
  auto s = open_sqlite_store(path);

  auto invoking = s->get_instance("invoking");
  REQUIRE(invoking);
  REQUIRE(invoking->cursors.size() == 1);
  CHECK(invoking->main().step == "label");
  CHECK(invoking->main().phase == Phase::invoking);
  CHECK(invoking->main().attempt == 2);
  CHECK(invoking->main().input == nlohmann::json({{"rma", "R-1"}}));
  CHECK(invoking->main().deadline == from_millis(31'000));
  REQUIRE(invoking->saga.done.size() == 1);
  CHECK(invoking->saga.done[0].input == nlohmann::json({{"id", "A-1"}}));

  auto suspended = s->get_instance("suspended");
  REQUIRE(suspended);
  REQUIRE(suspended->main().incident.has_value());
  CHECK(suspended->main().incident->error.code == "CustomerOnHold");
  CHECK(suspended->main().incident->attempts == 5);
  CHECK(suspended->main().incident->opened_at == parse_time("2026-01-02T03:04:05Z"));
  CHECK(suspended->saga.pivot);
  CHECK(suspended->incidents().size() == 1);

  auto compensating = s->get_instance("compensating");
  REQUIRE(compensating);
  REQUIRE(compensating->main().compensation.has_value());
  CHECK(compensating->main().compensation->then == "expired");
  CHECK(compensating->main().phase == Phase::backoff);
  CHECK(compensating->saga.done.size() == 1);
  auto timers = s->due_timers(from_millis(5'000), 10);
  REQUIRE(timers.size() == 1);
  CHECK(timers[0].branch.empty());
  CHECK(timers[0].name == "retry");

  auto finished = s->get_instance("finished");
  REQUIRE(finished);
  CHECK(finished->main().phase == Phase::ended);
  CHECK(finished->main().label == "completed");
}
