// Opening databases: creation, migration, pragmas, and refusing files that are not ours.
#include <SQLiteCpp/Database.h>
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "engine/store/schema.hpp"
#include "engine/store/sqlite_store.hpp"
#include "tests/store/store_rows.hpp"
#include "tests/support/process.hpp"

using namespace rmaflow;
using rmaflow::testing::error_from;
using rmaflow::testing::TempDir;

namespace {

store::SqliteStore& as_sqlite(Store& s) {
  return dynamic_cast<store::SqliteStore&>(s);
}

int schema_version_of(const std::string& path) {
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  return store::stored_schema_version(db);
}

}  // namespace

TEST_CASE("Store.Open.CreatesAndMigratesFreshFile") {
  TempDir dir;
  const auto path = dir.file("new.db");
  {
    auto s = open_sqlite_store(path);
    CHECK(s->list_definitions().empty());
    CHECK(s->active_instances().empty());
  }
  CHECK(schema_version_of(path) == store::latest_schema_version());
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  for (const char* table :
       {"schema_version", "definitions", "instances", "events", "timers", "signals", "commands"}) {
    CHECK_MESSAGE(db.tableExists(table), table);
  }
}

TEST_CASE("Store.Open.EmptyFileIsMigrated") {
  TempDir dir;
  const auto path = dir.write("empty.db", "");
  open_sqlite_store(path);
  CHECK(schema_version_of(path) == store::latest_schema_version());
}

TEST_CASE("Store.Open.ReopenKeepsData") {
  TempDir dir;
  const auto path = dir.file("keep.db");
  open_sqlite_store(path)->commit(testing::start_batch("i-1", 3));
  auto reopened = open_sqlite_store(path);
  REQUIRE(reopened->get_instance("i-1").has_value());
  CHECK(reopened->history("i-1").size() == 3);
  CHECK(schema_version_of(path) == store::latest_schema_version());
}

TEST_CASE("Store.Open.PragmasFollowOptions") {
  TempDir dir;
  SUBCASE("full by default") {
    auto s = open_sqlite_store(dir.file("full.db"));
    CHECK(as_sqlite(*s).pragma("journal_mode") == "wal");
    CHECK(as_sqlite(*s).pragma("synchronous") == "2");
  }
  SUBCASE("normal on request") {
    auto s = open_sqlite_store(dir.file("normal.db"), testing::sync_option(SyncMode::normal));
    CHECK(as_sqlite(*s).pragma("journal_mode") == "wal");
    CHECK(as_sqlite(*s).pragma("synchronous") == "1");
  }
}

TEST_CASE("Store.Open.NotADatabaseRefused") {
  TempDir dir;
  std::mt19937 random(42);
  std::string noise(4096, '\0');
  for (char& c : noise) c = static_cast<char>(random());
  const auto path = dir.write("noise.db", noise);

  const std::string not_sqlite = path + " is not an rmaflow database (it is not a SQLite file)";
  auto e = testing::error_from([&] { open_sqlite_store(path); });
  CHECK(e.code() == Errc::storage);
  CHECK(std::string(e.what()) == not_sqlite);

  auto ro = testing::error_from([&] { open_sqlite_store(path, testing::read_only_option()); });
  CHECK(ro.code() == Errc::storage);
  CHECK(std::string(ro.what()) == not_sqlite);

  // A file whose header is SQLite's but whose fixed fields are noise: refused before SQLite.
  const auto fake = dir.write("fake.db", std::string("SQLite format 3\0", 16) + noise);
  auto faked = testing::error_from([&] { open_sqlite_store(fake); });
  CHECK(std::string(faked.what()) == fake +
                                         " is not an rmaflow database (it begins as a SQLite "
                                         "file, but its header is damaged)");

  // A real database's header and noise after it: SQLite itself finds it damaged.
  const auto real = dir.file("real.db");
  {
    SQLite::Database db(real, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db.exec("CREATE TABLE t (x)");
  }
  std::ifstream in(real, std::ios::binary);
  std::string header(100, '\0');
  in.read(header.data(), 100);
  const auto damaged = dir.write("damaged.db", header + noise);
  auto broken = testing::error_from([&] { open_sqlite_store(damaged); });
  CHECK(broken.code() == Errc::storage);
  CHECK(std::string(broken.what()) ==
        damaged +
            " is corrupt and cannot be used (SQLite: database disk image is malformed); "
            "rmaflow db check names what is damaged: restore it from a backup");
}

// What plainly is no database is refused before the engine's lock file is made beside it: an
// engine pointed at the wrong path leaves nothing there (not even in /dev).
TEST_CASE("Store.Open.NoLockFileBesideWhatIsNoDatabase") {
  TempDir dir;
  const auto text = dir.write("notes.txt", "not a database\n");
  // SQLite's 16-byte string, then junk where the header's fixed fields stand.
  const auto junk =
      dir.write("junk.db", std::string("SQLite format 3\0", 16) + std::string(200, 'x'));
  const auto short_header = dir.write("short.db", std::string("SQLite format 3\0", 16));
  const auto folder = dir.file("folder");
  std::filesystem::create_directory(folder);
  const StoreOptions engine{.engine = true};
  struct Case {
    std::string path, says;
  };
  for (const auto& c : std::vector<Case>{
           {text, text + " is not an rmaflow database (it is not a SQLite file)"},
           {junk, junk + " is not an rmaflow database (it begins as a SQLite file, "
                         "but its header is damaged)"},
           {short_header, short_header + " is not an rmaflow database (it begins "
                                         "as a SQLite file, but its header is damaged)"},
           {folder, folder + " is a directory, not a database file"},
           {"/dev/null", "/dev/null is not a regular file, not a database file"}}) {
    CAPTURE(c.path);
    bool lock_there = std::filesystem::exists(c.path + ".lock");
    auto e = testing::error_from([&] { open_sqlite_store(c.path, engine); });
    CHECK(e.code() == Errc::storage);
    CHECK(std::string(e.what()) == c.says);
    CHECK(std::filesystem::exists(c.path + ".lock") == lock_there);
  }
  // An empty file is a new database, and the engine's lock is made for it.
  const auto empty = dir.write("empty.db", "");
  CHECK(open_sqlite_store(empty, engine) != nullptr);
  CHECK(std::filesystem::exists(empty + ".lock"));
}

TEST_CASE("Store.Open.ForeignSqliteRefused") {
  TempDir dir;
  const auto path = dir.file("foreign.db");
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db.exec("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)");
  }
  auto e = testing::error_from([&] { open_sqlite_store(path); });
  CHECK(e.code() == Errc::storage);
  CHECK(std::string(e.what()) == path + " is a SQLite database but not an rmaflow database");

  SQLite::Database db(path, SQLite::OPEN_READONLY);
  CHECK(db.execAndGet("PRAGMA journal_mode").getString() == "delete");  // left untouched
}

TEST_CASE("Store.Open.NewerSchemaRefused") {
  TempDir dir;
  const auto path = dir.file("future.db");
  open_sqlite_store(path);
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE);
    db.exec("INSERT INTO schema_version (version, applied_at) VALUES (999, 0)");
  }
  for (bool read_only : {false, true}) {
    CAPTURE(read_only);
    auto e = testing::error_from(
        [&] { open_sqlite_store(path, read_only ? testing::read_only_option() : StoreOptions{}); });
    CHECK(e.code() == Errc::storage);
    CHECK(std::string(e.what()).find("newer than this rmaflow") != std::string::npos);
    CHECK(std::string(e.what()).find(path) != std::string::npos);
  }
}

TEST_CASE("Store.Open.ReadOnlyMissingFileIsNotFound") {
  TempDir dir;
  const auto path = dir.file("missing.db");
  auto e = testing::error_from([&] { open_sqlite_store(path, testing::read_only_option()); });
  CHECK(e.code() == Errc::not_found);
  CHECK(std::string(e.what()) == "no database at " + path);

  const auto empty = dir.write("empty.db", "");
  auto empty_error =
      testing::error_from([&] { open_sqlite_store(empty, testing::read_only_option()); });
  CHECK(empty_error.code() == Errc::storage);
  CHECK(std::string(empty_error.what()) == empty + " is an empty database, not an rmaflow one yet");
}

TEST_CASE("Store.Open.OneEngineStorePerDatabase") {
  TempDir dir;
  const auto path = dir.file("engine.db");
  const StoreOptions engine{.engine = true};
  auto first = open_store(path, engine);
  first->commit(testing::start_batch("i-1"));

  // A second engine store is refused, under the file's name or another spelling of it.
  std::filesystem::create_symlink(path, dir.file("link.db"));
  for (const auto& name : {path, dir.file("link.db")}) {
    CAPTURE(name);
    auto e = testing::error_from([&] { open_store(name, engine); });
    CHECK(e.code() == Errc::conflict);
    CHECK(std::string(e.what()).find("another rmaflow engine (pid ") == 0);
  }
  // Clients and readers open beside it and see its commits.
  CHECK(open_store(path)->get_instance("i-1").has_value());
  CHECK(open_store(path, testing::read_only_option())->get_instance("i-1").has_value());

  // Closed, it lets the next engine in, which finds everything kept.
  first.reset();
  auto second = open_store(path, engine);
  CHECK(second->get_instance("i-1").has_value());

  auto e = testing::error_from(
      [&] { open_store(path, StoreOptions{.read_only = true, .engine = true}); });
  CHECK(e.code() == Errc::invalid_argument);
}

TEST_CASE("Store.ReadOnly.SeesCommitsOfWriter") {
  TempDir dir;
  const auto path = dir.file("shared.db");
  auto writer = open_sqlite_store(path);
  auto reader = open_sqlite_store(path, testing::read_only_option());
  CHECK_FALSE(reader->get_instance("i-1").has_value());

  writer->commit(testing::start_batch("i-1", 2));
  REQUIRE(reader->get_instance("i-1").has_value());
  CHECK(reader->history("i-1").size() == 2);

  auto e = testing::error_from([&] { reader->commit(testing::start_batch("i-2")); });
  CHECK(e.code() == Errc::storage);
  CHECK(std::string(e.what()).find("read-only") != std::string::npos);
  CHECK_FALSE(writer->get_instance("i-2").has_value());
}

TEST_CASE("Store.ReadOnly.OpensAfterWriterClosed") {
  TempDir dir;
  const auto path = dir.file("closed.db");
  open_sqlite_store(path)->commit(testing::start_batch("i-1", 2));
  auto reader = open_sqlite_store(path, testing::read_only_option());
  REQUIRE(reader->get_instance("i-1").has_value());
  CHECK(reader->history("i-1").size() == 2);
}

namespace {

// Fails the nth commit (1-based) without touching the database: how engine tests inject faults.
class FailNthCommit : public StoreWrapper {
 public:
  FailNthCommit(std::unique_ptr<Store> target, int n) : StoreWrapper(std::move(target)), n_(n) {}
  CommitReceipt commit(const WriteBatch& batch) override {
    if (++commits_ == n_) throw Error(Errc::storage, "injected failure");
    return StoreWrapper::commit(batch);
  }

 private:
  int n_;
  int commits_ = 0;
};

}  // namespace

TEST_CASE("Store.Wrapper.ForwardsAndOverrides") {
  TempDir dir;
  FailNthCommit s(open_sqlite_store(dir.file("wrapped.db")), 2);
  s.commit(testing::start_batch("i-1"));
  CHECK_THROWS_AS(s.commit(testing::start_batch("i-2")), Error);
  s.commit(testing::start_batch("i-3"));

  CHECK(s.get_instance("i-1").has_value());
  CHECK_FALSE(s.get_instance("i-2").has_value());
  CHECK(s.list_instances({}).size() == 2);
  CHECK(s.active_instances().size() == 2);
  CHECK(s.history("i-3").size() == 1);
  CHECK(s.put_definition(testing::definition_row("returns", 1, "h")) == PutResult::inserted);
  CHECK(s.get_definition("returns", 1).has_value());
  CHECK(s.latest_definition("returns").has_value());
  CHECK(s.list_definitions().size() == 1);
  CHECK_FALSE(s.find_by_business_key("returns", "none").has_value());
  CHECK(s.due_timers(from_millis(0), 10).empty());
}

// Version 10 rebuilds instance_attributes without affinity: what version 9 stored is kept as
// stored, and from then on text that reads as a number stays text.
TEST_CASE("Store.Open.Issue18.AttributeTextStaysTextFromVersion10") {
  TempDir dir;
  const auto path = dir.file("v9.db");
  testing::old_sqlite_database(path, 9, R"sql(
      INSERT INTO instance_attributes (instance_id, name, value) VALUES
        ('i-1', 'customer', 'C-105'), ('i-1', 'value', 512.5), ('i-2', 'zip', '00123');
    )sql");
  // What version 9 did to text that reads as a number.
  CHECK(SQLite::Database(path)
            .execAndGet("SELECT typeof(value) FROM instance_attributes WHERE name = 'zip'")
            .getString() == "integer");
  auto s = open_store(path);
  CHECK(schema_version_of(path) == store::latest_schema_version());
  CHECK(s->attributes("i-1") == nlohmann::json{{"customer", "C-105"}, {"value", 512.5}});
  CHECK(s->attributes("i-2") == nlohmann::json{{"zip", 123}});  // kept as version 9 stored it

  s->commit(testing::start_batch("i-3"));
  WriteBatch batch;
  batch.attributes.push_back({"i-3", {{"zip", "00123"}}});
  s->commit(batch);
  CHECK(s->attributes("i-3") == nlohmann::json{{"zip", "00123"}});
  InstanceFilter text;
  text.attributes.push_back(parse_attribute_condition("zip=\"00123\""));
  auto found = s->list_instances(text);
  REQUIRE(found.size() == 1);
  CHECK(found[0].id == "i-3");
}

TEST_CASE("Store.Open.Issue18.AJobFromVersion10HasDealtWithWhatItsItemsCount") {
  TempDir dir;
  const auto path = dir.file("v10.db");
  testing::old_sqlite_database(path, 10, R"sql(
      INSERT INTO jobs VALUES ('job-1', 'retry', '{}', '{}', 'ops', 'ERP back', 10, 'running',
                               1000, 2000, NULL, 'i-2', 1, 1, '', '');
      INSERT INTO job_items VALUES ('job-1', 'i-1', 1, 'retried', 1500),
                                   ('job-1', 'i-2', 0, 'not suspended', 1600);
    )sql");
  auto s = open_store(path);
  auto job = s->get_job("job-1");
  REQUIRE(job.has_value());
  CHECK(job->dealt == 2);
  CHECK(job->applied == 1);
  CHECK(job->refused == 1);
  CHECK(job->cursor == "i-2");
  // Its next item counts into the tallies it had.
  WriteBatch batch;
  batch.job_items.push_back(JobItemRow{"job-1", "i-3", true, "retried", from_millis(1700)});
  s->commit(batch);
  CHECK(s->get_job("job-1")->applied == 2);
}

// Version 12 turns `events` into a rowid table keyed by a unique index: the history, its
// order, its uniqueness and the audit trail come through, and appends go on.
TEST_CASE("Store.Open.Issue19.EventsFromVersion11KeepTheirHistoryAndOrder") {
  TempDir dir;
  const auto path = dir.file("v11.db");
  const std::string large(5000, 'x');
  testing::old_sqlite_database(path, 11,
                               fmt::format(R"sql(
      INSERT INTO events (instance_id, seq, type, step, at, data, branch) VALUES
        ('i-2', 1, 30, 'inspect', 3000, '{{"actor":"ops","action":"retry"}}', ''),
        ('i-1', 2, 4, 'label', 1500, '{{"result":{{"id":"L1"}}}}', ''),
        ('i-1', 1, 1, '', 1000, '{{"input":"{}"}}', ''),
        ('i-1', 3, 30, 'label', 2000, '{{"actor":"ops","action":"skip"}}', 'lines[L1]');
    )sql",
                                           large));
  auto s = open_store(path);
  CHECK(schema_version_of(path) == store::latest_schema_version());
  {
    SQLite::Database db(path, SQLite::OPEN_READONLY);
    CHECK(db.execAndGet("SELECT sql FROM sqlite_schema WHERE name = 'events'")
              .getString()
              .find("WITHOUT ROWID") == std::string::npos);
    CHECK(db.execAndGet("SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = "
                        "'events_operator_actions'")
              .getInt() == 1);
  }

  auto history = s->history("i-1");
  REQUIRE(history.size() == 3);
  CHECK(history[0].seq == 1);
  CHECK(history[0].data == fmt::format(R"({{"input":"{}"}})", large));
  CHECK(history[1].seq == 2);
  CHECK(history[2].seq == 3);
  CHECK(history[2].branch == "lines[L1]");
  CHECK(history[2].type == EventType::operator_action);

  auto trail = s->audit_trail(AuditFilter{});
  REQUIRE(trail.size() == 2);
  CHECK(trail[0].instance_id == "i-2");  // newest first
  CHECK(trail[1].instance_id == "i-1");

  WriteBatch next;
  next.events = {testing::event_row("i-1", 4)};
  s->commit(next);
  CHECK(s->history("i-1").size() == 4);
  WriteBatch again;
  again.events = {testing::event_row("i-1", 4)};
  CHECK(error_from([&] { s->commit(again); }).code() == Errc::storage);
  CHECK(s->history("i-1").size() == 4);
}

// Schema 13 keeps an instance's context in a table of its own. Contexts written by version 12,
// kilobytes included, are read back as they were, and the instances' other columns with them;
// the row no longer has the column.
TEST_CASE("Store.Open.Issue19.ContextsFromVersion12MoveToTheirOwnTable") {
  TempDir dir;
  const auto path = dir.file("v12.db");
  const std::string lines(4000, 'l');
  testing::old_sqlite_database(path, 12,
                               fmt::format(R"sql(
      INSERT INTO instances (id, workflow, version, status, step, visits, context, business_key,
                             correlation_id, input_hash, last_seq, created_at, updated_at,
                             ended_at, deadline, saga, cursors)
      VALUES
        ('i-1', 'returns', 1, 1, 'label', '{{"label":1}}',
         '{{ "input": {{"rma_id": "RMA-1", "lines": "{}"}} }}', 'RMA-1', 'c-1', 'h', 3,
         1000, 1001, NULL, NULL, '{{}}', '[{{"step":"label","phase":1,"attempt":1}}]'),
        ('i-2', 'returns', 1, 10, 'done', '{{"done":1}}', '{{"input":{{}},"label":{{"id":"L-2"}}}}',
         'RMA-2', 'c-2', 'h', 5, 1000, 2000, 2000, NULL, '{{}}',
         '[{{"step":"done","phase":7,"label":"completed"}}]');
    )sql",
                                           lines));
  auto s = open_store(path);
  CHECK(schema_version_of(path) == store::latest_schema_version());
  {
    SQLite::Database db(path, SQLite::OPEN_READONLY);
    CHECK(db.execAndGet("SELECT count(*) FROM pragma_table_info('instances') WHERE name = "
                        "'context'")
              .getInt() == 0);
    CHECK(db.execAndGet("SELECT count(*) FROM instance_contexts").getInt() == 2);
  }

  auto one = s->get_instance("i-1");
  REQUIRE(one);
  CHECK(one->context->at("input").at("lines") == lines);
  CHECK(one->business_key == "RMA-1");
  CHECK(one->main().step == "label");
  CHECK(one->last_seq == 3);
  auto two = s->find_by_business_key("returns", "RMA-2");
  REQUIRE(two);
  CHECK(two->context->at("label").at("id") == "L-2");
  CHECK(two->status == InstanceStatus::completed);

  // Listed, the context comes along; written back changed, it is the new value.
  InstanceFilter all;
  all.limit = 10;
  auto listed = s->list_instances(all);
  REQUIRE(listed.size() == 2);
  CHECK(listed[0].context->at("input").at("rma_id") == "RMA-1");
  one->context.edit()["label"] = {{"id", "L-1"}};
  one->last_seq = 4;
  WriteBatch next;
  next.instances = {*one};
  next.events = {testing::event_row("i-1", 4)};
  s->commit(next);
  CHECK(s->get_instance("i-1")->context->at("label").at("id") == "L-1");
}
