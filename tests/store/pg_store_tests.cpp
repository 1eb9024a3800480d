// What the PostgreSQL store does on its own: how it names the database in errors (never with
// the password), which databases it refuses, and its connection coming back after a loss.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <string>
#include <thread>
#include <vector>

#include "engine/store/pg_connection.hpp"
#include "engine/store/pg_schema.hpp"
#include "tests/store/store_rows.hpp"
#include "tests/support/pg_cluster.hpp"

using namespace rmaflow;
using testing::error_from;
using testing::PgCluster;

namespace {

// The database's name in its URI: postgresql://postgres@/t_3?host=... -> t_3.
std::string database_of(const std::string& uri) {
  auto start = uri.find("@/") + 2;
  return uri.substr(start, uri.find('?') - start);
}

}  // namespace

TEST_CASE("Store.Postgres.RedactsPasswords") {
  using store::redact_password;
  CHECK(redact_password("postgresql://ana:s3cret@db.example:5432/rma?sslmode=require") ==
        "postgresql://ana@db.example:5432/rma?sslmode=require");
  CHECK(redact_password("postgres://ana@db/rma?password=s3cret&sslmode=require") ==
        "postgres://ana@db/rma?sslmode=require");
  CHECK(redact_password("postgresql:///rma?password=s3cret") == "postgresql:///rma");
  CHECK(redact_password("host=db password = s3cret dbname=rma") == "dbname=rma host=db");
  CHECK(redact_password("postgresql://db/rma?passwordless=1") ==
        "postgresql://db/rma?passwordless=1");
  CHECK(redact_password("postgresql://db/rma") == "postgresql://db/rma");
}

TEST_CASE("Store.Postgres.ErrorsNameTheDatabaseWithoutItsPassword") {
  auto& cluster = PgCluster::shared();
  auto name = database_of(cluster.create_database());
  SUBCASE("a database that does not exist") {
    auto e = error_from([&] { open_store(cluster.uri_with_password("no_such_db", "s3cret")); });
    CHECK(e.code() == Errc::storage);
    CHECK(std::string(e.what()).find("no_such_db") != std::string::npos);
    CHECK(std::string(e.what()).find("s3cret") == std::string::npos);
    CHECK(std::string(e.what()).find('\n') == std::string::npos);
  }
  SUBCASE("a server that is not there") {
    auto e = error_from([] {
      open_store("postgresql://ana:s3cret@/rma?host=/nonexistent-rmaflow-dir&connect_timeout=2");
    });
    CHECK(e.code() == Errc::storage);
    CHECK(std::string(e.what()).find("postgresql://ana@/rma") != std::string::npos);
    CHECK(std::string(e.what()).find("s3cret") == std::string::npos);
  }
  SUBCASE("a malformed URI") {
    auto e = error_from([] { open_store("postgresql://ana:s3cret@/rma?nonsense=1"); });
    CHECK(e.code() == Errc::invalid_argument);
    CHECK(std::string(e.what()).find("s3cret") == std::string::npos);
  }
  SUBCASE("a failed commit") {
    auto s = open_store(cluster.uri_with_password(name, "s3cret"));
    auto batch = testing::start_batch("i-1");
    batch.events.push_back(testing::event_row("i-1", 1));  // twice
    auto e = error_from([&] { s->commit(batch); });
    CHECK(e.code() == Errc::storage);
    CHECK(std::string(e.what()).find("cannot commit to postgresql://postgres@/" + name) !=
          std::string::npos);
    CHECK(std::string(e.what()).find("s3cret") == std::string::npos);
  }
}

TEST_CASE("Store.Postgres.RefusesForeignAndNewerDatabases") {
  auto& cluster = PgCluster::shared();
  auto uri = cluster.create_database();
  auto name = database_of(uri);
  SUBCASE("tables but no schema_version") {
    cluster.exec(name, "CREATE TABLE customers (id integer)");
    auto e = error_from([&] { open_store(uri); });
    CHECK(e.code() == Errc::storage);
    CHECK(std::string(e.what()).find("not an rmaflow database") != std::string::npos);
  }
  SUBCASE("a schema newer than this binary") {
    open_store(uri);
    cluster.exec(name, "INSERT INTO schema_version VALUES (" +
                           std::to_string(store::pg_latest_schema_version() + 1) + ", 0)");
    auto e = error_from([&] { open_store(uri); });
    CHECK(e.code() == Errc::storage);
    CHECK(std::string(e.what()).find("newer than this rmaflow supports") != std::string::npos);
  }
}

TEST_CASE("Store.Postgres.NodesStartingTogetherMigrateOnce") {
  auto& cluster = PgCluster::shared();
  auto uri = cluster.create_database();
  // Four nodes open the new database at once: each waits for the one migrating, none applies
  // a migration twice (which would fail: the tables exist).
  std::vector<std::string> failures(4);
  std::vector<std::thread> nodes;
  for (auto& failure : failures) {
    nodes.emplace_back([&uri, &failure] {
      try {
        open_store(uri)->list_definitions();
      } catch (const Error& e) {
        failure = e.what();
      }
    });
  }
  for (auto& node : nodes) node.join();
  for (const auto& failure : failures) CHECK_MESSAGE(failure.empty(), failure);
  auto s = open_store(uri);
  CHECK(s->list_definitions().empty());
  cluster.exec(database_of(uri),
               "DO $$ BEGIN IF (SELECT count(*) FROM schema_version) <> " +
                   std::to_string(store::pg_latest_schema_version()) +
                   " THEN RAISE 'a migration was recorded twice'; END IF; END $$");
}

TEST_CASE("Store.Postgres.ReconnectsAfterTheConnectionIsLost") {
  auto& cluster = PgCluster::shared();
  auto uri = cluster.create_database();
  auto name = database_of(uri);
  StoreOptions engine;
  engine.engine = true;
  auto s = open_store(uri, engine);
  s->commit(testing::start_batch("i-1"));
  // The server ends every other session on the database (a restart, a failover), and this
  // waits until they have ended.
  cluster.exec(name,
               "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity "
               "WHERE datname = current_database() AND pid <> pg_backend_pid()");
  // The first statement after the loss fails or reconnects; the store works after it, and
  // holds the engine's lock again.
  try {
    s->get_instance("i-1");
  } catch (const Error& e) {
    CHECK(e.code() == Errc::storage);
  }
  REQUIRE(s->get_instance("i-1").has_value());
  s->commit(testing::start_batch("i-2"));
  CHECK(s->get_instance("i-2").has_value());
  auto e = error_from([&] { open_store(uri, engine); });
  CHECK(e.code() == Errc::conflict);
  // It names the database and the session holding the lock.
  CHECK(std::string(e.what()).find("another rmaflow engine is running on " + uri) !=
        std::string::npos);
  CHECK(std::string(e.what()).find("server process") != std::string::npos);
}

// Reads are prepared once per connection (PgConnection::query), and no more than kMaxQueries
// of them stay prepared on the server however many different ones come.
TEST_CASE("Store.Postgres.ReadsArePreparedOncePerConnection") {
  auto uri = PgCluster::shared().create_database();
  store::PgConnection connection(uri, nullptr);
  auto prepared = [&] {
    return connection
        .query("SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'rmaflow_query_%'")
        .int64(0, 0);
  };
  for (int i = 0; i < 3; ++i) {
    CHECK(connection.query("SELECT $1::int + 1", store::PgParams().add(i)).integer(0, 0) == i + 1);
  }
  CHECK(prepared() == 2);  // that one and the count itself
  for (int i = 0; i < 150; ++i) {
    auto sql = fmt::format("SELECT $1::int + {}", i);
    CHECK(connection.query(sql, store::PgParams().add(1)).integer(0, 0) == i + 1);
    CHECK(connection.query(sql, store::PgParams().add(2)).integer(0, 0) == i + 2);
  }
  auto kept = prepared();
  CHECK(kept >= 1);
  CHECK(kept <= static_cast<std::int64_t>(store::PgConnection::kMaxQueries));
  // A read that fails is an error of its own; the connection goes on.
  CHECK_THROWS_AS(connection.query("SELECT no_such_column FROM pg_class"), store::PgFailure);
  CHECK(connection.query("SELECT $1::int + 1", store::PgParams().add(41)).integer(0, 0) == 42);
}

TEST_CASE("Store.Postgres.BatchesLargerThanAPipelineChunkAreAllOrNothing") {
  auto s = open_store(PgCluster::shared().create_database());
  // The first commit on the connection fails early: the statements after the failure (and
  // their preparation) never run, and the next commit prepares them again.
  auto batch = testing::start_batch("i-1", 700);
  batch.events.push_back(testing::event_row("i-1", 1));  // a duplicate, among the first
  std::swap(batch.events[1], batch.events.back());
  batch.timers_set.push_back(testing::timer_row("i-1", "retry", 10));
  batch.signals_added.push_back(testing::signal_row("i-1", "approved", "a"));
  CHECK(error_from([&] { s->commit(batch); }).code() == Errc::storage);
  CHECK_FALSE(s->get_instance("i-1").has_value());

  // A failure found by a check in a later chunk undoes the earlier chunks too.
  auto late = testing::start_batch("i-2", 700);
  late.signals_consumed.push_back(SignalConsumed{"i-2", "key-none", from_millis(1)});
  CHECK(error_from([&] { s->commit(late); }).code() == Errc::storage);
  CHECK(s->history("i-2").empty());

  auto good = testing::start_batch("i-3", 700);
  good.timers_set.push_back(testing::timer_row("i-3", "retry", 10));
  good.signals_added.push_back(testing::signal_row("i-3", "approved", "a"));
  good.signals_consumed.push_back(SignalConsumed{"i-3", "key-a", from_millis(1)});
  s->commit(good);
  CHECK(s->history("i-3").size() == 700);
  CHECK(s->due_timers(from_millis(10), 10).size() == 1);
  CHECK(s->find_signal("i-3", "key-a")->consumed_at == from_millis(1));
}

// Not a timed test: run by hand (store_conformance -tc=Store.Bench.* --no-skip) to see the rate.
// The test cluster runs with fsync off: this is the store's own cost (statements, round trips
// over the socket, the server's work), not a durable commit's.
TEST_CASE("Store.Bench.PostgresCommitThroughput" * doctest::skip()) {
  for (int pool : {400 * 250, 1000}) {
    auto s = open_store(PgCluster::shared().create_database());
    const auto rate = static_cast<std::int64_t>(testing::commit_rate(*s, 100, pool));
    MESSAGE(
        "1000 events + 250 instance and timer upserts per commit, "
        << std::string(pool == 1000 ? "updating a pool of 1000 instances" : "new instances only")
        << ": " << rate << " events/s");
  }
}
