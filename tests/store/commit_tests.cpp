// commit(): round trips, upserts, timers and atomicity of a WriteBatch.
#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>

#include <filesystem>
#include <vector>

#include "tests/store/store_rows.hpp"
#include "tests/support/process.hpp"

using namespace rmaflow;
using rmaflow::testing::TempDir;

TEST_CASE("Store.Commit.RoundTripsEveryField") {
  TempDir dir;
  auto s = open_sqlite_store(dir.file("rt.db"));

  InstanceRow finished = testing::instance_row("i-1");
  finished.status = InstanceStatus::compensated;
  finished.business_key = "RMA-1";
  finished.last_seq = 42;
  finished.ended_at = from_millis(1'700'000'123'456);
  finished.deadline = std::nullopt;
  finished.context = nlohmann::json{{"note", "unicode \xC3\xA9 and quotes \" ok"}};
  finished.saga.done.push_back(SagaEntry{"label", "", 1, {{"id", "L1"}}, "", "", false});
  finished.saga.done.push_back(SagaEntry{"inspect", "lines[L2]", 3, nullptr, "no .x", "", true});
  finished.saga.pivot = true;
  finished.parent = ParentRef{"p-1", "repair", "lines[L2]"};
  finished.cursors.front().phase = Phase::ended;
  finished.cursors.front().label = "compensated";
  finished.cursors.front().output = {{"credited", 12.5}};
  Cursor branch;
  branch.branch = "lines[L2]";
  branch.index = 1;
  branch.step = "await_line";
  branch.phase = Phase::waiting;
  branch.scope = nlohmann::json{{"line", {{"id", "L2"}}}};
  branch.match = "L2";
  branch.deadline = from_millis(1'700'000'200'000);
  branch.incident = Incident{"await_line", make_failure("Timeout", "no signal"), 1,
                             from_millis(1'700'000'100'000), true, "logistics",
                             from_millis(1'700'086'500'000)};
  branch.compensation = CompensationRun{"cancelled", "an operator", "await_line"};
  branch.pivot = true;
  finished.cursors.push_back(branch);

  InstanceRow plain = testing::instance_row("i-2");  // no key, no incident, no ended_at

  EventRow event = testing::event_row("i-1", 7);
  event.type = EventType::incident_resolved;
  event.step = "refund";
  event.branch = "lines[L2]";
  event.data = R"({"actor":"ops","reason":"fixed"})";

  WriteBatch batch;
  batch.instances = {finished, plain};
  batch.events = {event};
  batch.timers_set = {testing::timer_row("i-1", "timeout", 1'700'000'999'000)};
  s->commit(batch);

  auto got = s->get_instance("i-1");
  REQUIRE(got);
  testing::check_same_instance(*got, finished);
  auto got_plain = s->get_instance("i-2");
  REQUIRE(got_plain);
  testing::check_same_instance(*got_plain, plain);

  auto history = s->history("i-1");
  REQUIRE(history.size() == 1);
  CHECK(history[0].instance_id == event.instance_id);
  CHECK(history[0].seq == event.seq);
  CHECK(history[0].type == event.type);
  CHECK(history[0].step == event.step);
  CHECK(history[0].branch == event.branch);
  CHECK(history[0].at == event.at);
  CHECK(history[0].data == event.data);

  auto timers = s->due_timers(from_millis(1'700'000'999'000), 10);
  REQUIRE(timers.size() == 1);
  CHECK(timers[0].instance_id == "i-1");
  CHECK(timers[0].name == "timeout");
  CHECK(timers[0].due == from_millis(1'700'000'999'000));

  CHECK_FALSE(s->get_instance("nope").has_value());
  CHECK(s->history("nope").empty());
}

TEST_CASE("Store.Commit.UpsertReplacesInstance") {
  TempDir dir;
  auto s = open_sqlite_store(dir.file("upsert.db"));
  s->commit(testing::start_batch("i-1"));

  InstanceRow next = testing::instance_row("i-1");
  next.status = InstanceStatus::completed;
  next.step = "done";
  next.cursors.front() = Cursor{};
  next.cursors.front().step = "done";
  next.cursors.front().phase = Phase::ended;
  next.deadline = std::nullopt;
  next.ended_at = from_millis(1'700'000'050'000);
  next.last_seq = 2;
  WriteBatch batch;
  batch.instances = {next};
  batch.events = {testing::event_row("i-1", 2)};
  s->commit(batch);

  auto got = s->get_instance("i-1");
  REQUIRE(got);
  testing::check_same_instance(*got, next);
  CHECK(s->list_instances({}).size() == 1);
  CHECK(s->history("i-1").size() == 2);
}

// An instance row written over the stored one: through a step, a pause, a resume and an end,
// every column reads back as written, and the queries that go through the indexed columns
// (status, paused_at, the business key) find the row under its new values only.
TEST_CASE("Store.Commit.RowsWrittenOverKeepTheirIndexesTrue") {
  TempDir dir;
  auto s = open_sqlite_store(dir.file("rows.db"));
  InstanceRow row = testing::instance_row("i-1");
  row.business_key = "RMA-1";
  WriteBatch first;
  first.instances = {row};
  s->commit(first);
  auto write = [&](const InstanceRow& next) {
    WriteBatch batch;
    batch.instances = {next};
    s->commit(batch);
    auto got = s->get_instance(next.id);
    REQUIRE(got);
    testing::check_same_instance(*got, next);
  };
  auto found = [&](InstanceFilter filter) { return s->list_instances(filter).size(); };
  InstanceFilter running, completed, paused, unpaused, by_key;
  running.statuses = {InstanceStatus::running};
  completed.statuses = {InstanceStatus::completed};
  paused.paused = true;
  unpaused.paused = false;
  by_key.workflow = row.workflow;
  by_key.business_key = "RMA-1";

  row.step = "inspect";  // no indexed column
  row.last_seq = 5;
  row.updated_at = from_millis(1'700'000'010'000);
  row.cursors.front().step = "inspect";
  write(row);
  CHECK(found(running) == 1);
  CHECK(found(by_key) == 1);

  row.paused_at = from_millis(1'700'000'020'000);
  write(row);
  CHECK(found(paused) == 1);
  CHECK(found(unpaused) == 0);

  row.paused_at.reset();
  row.last_seq = 6;
  write(row);
  CHECK(found(paused) == 0);
  CHECK(found(unpaused) == 1);

  row.status = InstanceStatus::completed;
  row.ended_at = from_millis(1'700'000'030'000);
  row.cursors.front().phase = Phase::ended;
  write(row);
  CHECK(found(running) == 0);
  CHECK(found(completed) == 1);
  CHECK(s->count_by_status()[InstanceStatus::completed] == 1);
  CHECK(s->count_by_status()[InstanceStatus::running] == 0);
  CHECK(found(by_key) == 1);
}

TEST_CASE("Store.Commit.TimersSetClearAndDueOrder") {
  TempDir dir;
  auto s = open_sqlite_store(dir.file("timers.db"));
  WriteBatch batch;
  batch.timers_set = {testing::timer_row("b", "wait", 300), testing::timer_row("a", "retry", 100),
                      testing::timer_row("c", "timeout", 200),
                      testing::timer_row("a", "timeout", 900)};
  s->commit(batch);

  auto due = s->due_timers(from_millis(300), 10);
  REQUIRE(due.size() == 3);
  CHECK(due[0].instance_id == "a");
  CHECK(due[1].instance_id == "c");
  CHECK(due[2].instance_id == "b");
  CHECK(s->due_timers(from_millis(99), 10).empty());
  CHECK(s->due_timers(from_millis(1000), 2).size() == 2);

  SUBCASE("set again replaces the due time") {
    WriteBatch later;
    later.timers_set = {testing::timer_row("a", "retry", 500)};
    s->commit(later);
    auto now = s->due_timers(from_millis(500), 10);
    REQUIRE(now.size() == 3);
    CHECK(now[0].instance_id == "c");
    CHECK(now[1].instance_id == "b");
    CHECK(now[2].instance_id == "a");
    CHECK(now[2].due == from_millis(500));
  }
  SUBCASE("clear removes only the named timer") {
    WriteBatch clear;
    clear.timers_cleared = {TimerRow{"a", "", "retry", {}}, TimerRow{"nobody", "", "wait", {}}};
    s->commit(clear);
    auto all = s->due_timers(from_millis(1000), 10);
    REQUIRE(all.size() == 3);
    CHECK(all[0].instance_id == "c");
    CHECK(all[2].instance_id == "a");
    CHECK(all[2].name == "timeout");
  }
  SUBCASE("clear and set of one timer in a batch leaves it set") {
    WriteBatch both;
    both.timers_cleared = {TimerRow{"a", "", "retry", {}}};
    both.timers_set = {testing::timer_row("a", "retry", 150)};
    s->commit(both);
    auto all = s->due_timers(from_millis(150), 10);
    REQUIRE(all.size() == 1);
    CHECK(all[0].due == from_millis(150));
  }
}

TEST_CASE("Store.Commit.AtomicOnDuplicateEvent") {
  TempDir dir;
  const auto path = dir.file("atomic.db");
  auto s = open_sqlite_store(path);
  s->commit(testing::start_batch("i-1", 2));

  WriteBatch bad = testing::start_batch("i-2", 1);
  bad.instances.push_back(testing::instance_row("i-1"));
  bad.instances.back().step = "changed";
  bad.events.push_back(testing::event_row("i-1", 3));
  bad.events.push_back(testing::event_row("i-1", 2));  // already stored
  bad.timers_set = {testing::timer_row("i-2", "wait", 10)};
  try {
    s->commit(bad);
    FAIL("the duplicate event was accepted");
  } catch (const Error& e) {
    CHECK(e.code() == Errc::storage);
    CHECK(std::string(e.what()).find("cannot commit to " + path) == 0);
  }

  CHECK_FALSE(s->get_instance("i-2").has_value());
  CHECK(s->get_instance("i-1")->step == "authorize");
  CHECK(s->history("i-1").size() == 2);
  CHECK(s->history("i-2").empty());
  CHECK(s->due_timers(from_millis(10), 10).empty());

  // The store stays usable, statements included.
  WriteBatch good = testing::start_batch("i-2", 1);
  good.events.push_back(testing::event_row("i-1", 3));
  good.timers_set = {testing::timer_row("i-2", "wait", 10)};
  s->commit(good);
  CHECK(s->history("i-1").size() == 3);
  CHECK(s->history("i-2").size() == 1);
  CHECK(s->due_timers(from_millis(10), 10).size() == 1);
}

// A batch's events go to SQLite several to a statement (batch_writer.cpp): 37 events of three
// instances, interleaved (two statements of 16 and five of one), come back each with its own
// fields, in the order they were recorded; a duplicate inside a statement of 16 undoes the
// whole batch, and the statements serve the next one.
TEST_CASE("Store.Commit.Issue19.ManyEventsToAStatementKeepFieldsAndOrder") {
  TempDir dir;
  auto s = open_sqlite_store(dir.file("many.db"));
  const std::vector<std::string> ids = {"i-a", "i-b", "i-c"};
  WriteBatch batch;
  for (const auto& id : ids) batch.instances.push_back(testing::instance_row(id));
  for (int n = 0; n < 37; ++n) {
    EventRow e = testing::event_row(ids[n % 3], n / 3 + 1);
    e.type = n % 2 == 0 ? EventType::attempt_started : EventType::step_completed;
    e.step = "step" + std::to_string(n);
    e.branch = n % 5 == 0 ? "lines[L" + std::to_string(n) + "]" : "";
    e.at = from_millis(1'700'000'000'000 + n);
    e.data = nlohmann::json{{"n", n}}.dump();
    batch.events.push_back(e);
  }
  s->commit(batch);
  std::size_t read = 0;
  for (const auto& id : ids) {
    auto history = s->history(id);
    std::int64_t seq = 0;
    for (const auto& e : history) {
      CHECK(e.seq == ++seq);
      const int n = nlohmann::json::parse(e.data)["n"].get<int>();
      INFO(id, " event ", n);
      const auto& recorded = batch.events[static_cast<std::size_t>(n)];
      CHECK(e.instance_id == recorded.instance_id);
      CHECK(e.seq == recorded.seq);
      CHECK(e.type == recorded.type);
      CHECK(e.step == recorded.step);
      CHECK(e.branch == recorded.branch);
      CHECK(e.at == recorded.at);
    }
    read += history.size();
  }
  CHECK(read == batch.events.size());

  WriteBatch bad;
  for (int n = 0; n < 20; ++n) bad.events.push_back(testing::event_row("i-d", n + 1));
  bad.events[9] = testing::event_row("i-a", 4);  // already stored, inside the first 16
  CHECK_THROWS_AS(s->commit(bad), Error);
  CHECK(s->history("i-d").empty());
  bad.events[9] = testing::event_row("i-d", 10);
  s->commit(bad);
  CHECK(s->history("i-d").size() == 20);
}

// A row read back keeps its context's text (SharedJson): written again unchanged, the column
// is the text that was read, not an encoding of it; changed, it is the new value's encoding.
TEST_CASE("Store.Commit.AnUnchangedContextIsWrittenBackAsItWasRead") {
  TempDir dir;
  const std::string file = dir.file("context.db");
  auto s = open_sqlite_store(file);
  s->commit(testing::start_batch("i-1"));
  const std::string stored = R"({ "input": {"rma_id": "RMA-1"},  "note": "kept as written" })";
  const auto column = [&] {
    SQLite::Database db(file, SQLite::OPEN_READONLY);
    return db.execAndGet("SELECT context FROM instance_contexts WHERE instance_id = 'i-1'")
        .getString();
  };
  {
    SQLite::Database db(file, SQLite::OPEN_READWRITE);
    SQLite::Statement set(db,
                          "UPDATE instance_contexts SET context = ?1 WHERE instance_id = 'i-1'");
    set.bind(1, stored);
    set.exec();
  }

  auto row = s->get_instance("i-1");
  REQUIRE(row);
  CHECK(row->context.get() == nlohmann::json::parse(stored));
  // The row written again with its next event.
  const auto commit_next = [&] {
    row->last_seq += 1;
    WriteBatch next;
    next.instances = {*row};
    next.events = {testing::event_row("i-1", row->last_seq)};
    s->commit(next);
  };
  commit_next();
  CHECK(column() == stored);

  row->context.edit()["note"] = "changed";
  commit_next();
  CHECK(column() == R"({"input":{"rma_id":"RMA-1"},"note":"changed"})");
  auto again = s->get_instance("i-1");
  REQUIRE(again);
  CHECK(again->context->at("note") == "changed");

  // A row the engine marks as carrying the context an earlier commit wrote leaves the stored
  // context alone; the row's other columns are written.
  row->context.edit()["note"] = "not written";
  row->context_unchanged = true;
  commit_next();
  CHECK(column() == R"({"input":{"rma_id":"RMA-1"},"note":"changed"})");
  CHECK(s->get_instance("i-1")->last_seq == 4);
}

TEST_CASE("Store.Commit.EmptyBatchIsNoOp") {
  TempDir dir;
  auto s = open_sqlite_store(dir.file("empty.db"));
  s->commit(WriteBatch{});
  CHECK(s->list_instances({}).empty());
}

// Only an engine about to commit lays its log out (engine/store/checkpointer.hpp): a store
// opened to hold the engine's lock for a moment, or to queue a command, does not write 45 MB.
TEST_CASE("Store.Commit.Issue19.AnEngineAboutToCommitLaysItsLogOut") {
  TempDir dir;
  const std::string file = dir.file("laid.db");
  const auto log_size = [&] { return std::filesystem::file_size(file + "-wal"); };
  {
    auto queueing = open_sqlite_store(file);
    queueing->prepare_for_commits();  // not the engine's store: nothing to lay out
    auto engine = open_store(file, StoreOptions{.engine = true});
    CHECK(log_size() < (1 << 20));
    engine->prepare_for_commits();
    CHECK(log_size() >= (40 << 20));
    engine->prepare_for_commits();  // once
    CHECK(log_size() < (64 << 20));

    WriteBatch batch;
    batch.instances = {testing::instance_row("i-1")};
    batch.events = {testing::event_row("i-1", 1)};
    engine->commit(batch);
    REQUIRE(queueing->get_instance("i-1"));
  }
  auto reader = open_store(file, StoreOptions{.read_only = true});
  CHECK(reader->get_instance("i-1"));
  CHECK(reader->history("i-1").size() == 1);
}

// Not a timed test: run by hand (store_tests -tc=Store.Bench.* --no-skip) to see the rates.
TEST_CASE("Store.Bench.CommitThroughput" * doctest::skip()) {
  constexpr int kBatches = 400;
  for (SyncMode sync : {SyncMode::normal, SyncMode::full}) {
    const std::string mode = sync == SyncMode::full ? "FULL" : "NORMAL";
    for (int pool : {kBatches * 250, 1000}) {
      TempDir dir;
      auto s = open_sqlite_store(dir.file("bench.db"), testing::sync_option(sync));
      const auto rate = static_cast<std::int64_t>(testing::commit_rate(*s, kBatches, pool));
      const std::string shape =
          pool == 1000 ? "updating a pool of 1000 instances" : "new instances only";
      MESSAGE(mode << ", 1000 events + 250 instance and timer upserts per commit, " << shape << ": "
                   << rate << " events/s");
    }
  }
}
