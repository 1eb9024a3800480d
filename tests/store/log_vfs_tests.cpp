// The VFS that writes an engine's log a commit at a time (engine/store/log_vfs.hpp): what
// SQLite writes reaches the file in a few large writes, every commit is there for the other
// connections once it is synced, and a transaction too large for the page cache reads the pages
// it spilled to the log back as it wrote them.
#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>

#include <string>

#include "engine/store/log_vfs.hpp"
#include "tests/support/process.hpp"

using rmaflow::store::log_gathering_vfs;
using rmaflow::store::log_writes;
using rmaflow::testing::TempDir;

namespace {

struct Gathered {
  TempDir dir;
  std::string file = dir.file("gathered.db");
  SQLite::Database db{file.c_str(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE, 5000,
                      log_gathering_vfs()};
  SQLite::Database other{file, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE, 5000};

  Gathered() {
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = FULL");
    db.exec("CREATE TABLE t (n INTEGER PRIMARY KEY, pad BLOB NOT NULL)");
  }
  // One commit of `rows` rows of 1 KiB each, numbered from `first`.
  void commit(int first, int rows) {
    SQLite::Transaction tx(db);
    SQLite::Statement insert(db, "INSERT INTO t (n, pad) VALUES (?1, randomblob(1024))");
    for (int n = first; n < first + rows; ++n) {
      insert.bind(1, n);
      insert.exec();
      insert.reset();
    }
    tx.commit();
  }
  static long long count(SQLite::Database& on) {
    return on.execAndGet("SELECT count(*) FROM t").getInt64();
  }
};

}  // namespace

TEST_CASE("Store.LogVfs.Issue19.ACommitsPagesReachTheFileInOneWrite") {
  Gathered g;
  g.commit(0, 1);
  const auto before = log_writes();
  g.commit(1, 60);  // 15 pages of rows and more of their tree's: 30 and more writes asked
  const auto after = log_writes();
  CHECK(after.asked - before.asked >= 32);
  CHECK(after.made - before.made == 1);
  CHECK(Gathered::count(g.other) == 61);
}

TEST_CASE("Store.LogVfs.Issue19.EveryCommitIsThereForTheOtherConnections") {
  Gathered g;
  int next = 0;
  for (int i = 1; i <= 150; ++i) {
    const int rows = 1 + (i * 7) % 40;
    g.commit(next, rows);
    next += rows;
    REQUIRE(Gathered::count(g.other) == next);
    REQUIRE(g.other.execAndGet("SELECT max(n) FROM t").getInt() == next - 1);
  }
  CHECK(g.other.execAndGet("PRAGMA integrity_check").getString() == "ok");
  CHECK(g.db.execAndGet("PRAGMA integrity_check").getString() == "ok");
}

TEST_CASE("Store.LogVfs.Issue19.ATransactionLargerThanItsCacheReadsWhatItSpilled") {
  Gathered g;
  g.db.exec("PRAGMA cache_size = 16");  // pages: the transaction below spills to the log
  const auto before = log_writes();
  {
    SQLite::Transaction tx(g.db);
    SQLite::Statement insert(g.db, "INSERT INTO t (n, pad) VALUES (?1, printf('%01024d', ?1))");
    for (int n = 0; n < 4000; ++n) {  // about 5 MB: many gatherings
      insert.bind(1, n);
      insert.exec();
      insert.reset();
    }
    // Read back within the transaction: the pages spilled are read from the log.
    CHECK(Gathered::count(g.db) == 4000);
    CHECK(g.db.execAndGet("SELECT sum(n) FROM t").getInt64() == 3999LL * 4000 / 2);
    CHECK(g.db.execAndGet("SELECT count(*) FROM t WHERE CAST(pad AS INTEGER) = n").getInt64() ==
          4000);
    CHECK(Gathered::count(g.other) == 0);  // nothing of it published yet
    tx.commit();
  }
  CHECK(log_writes().made - before.made > 4);
  CHECK(Gathered::count(g.other) == 4000);
  CHECK(g.other.execAndGet("SELECT sum(n) FROM t").getInt64() == 3999LL * 4000 / 2);
  CHECK(g.other.execAndGet("PRAGMA integrity_check").getString() == "ok");
}

TEST_CASE("Store.LogVfs.Issue19.AClosedConnectionLeavesItsCommitsForTheNextOpen") {
  TempDir dir;
  const std::string file = dir.file("reopened.db");
  {
    SQLite::Database db(file.c_str(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE, 5000,
                        log_gathering_vfs());
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = FULL");
    db.exec("CREATE TABLE t (n INTEGER PRIMARY KEY)");
    for (int n = 0; n < 50; ++n) db.exec("INSERT INTO t (n) VALUES (" + std::to_string(n) + ")");
  }
  SQLite::Database reopened(file, SQLite::OPEN_READONLY);
  CHECK(reopened.execAndGet("SELECT count(*) FROM t").getInt() == 50);
}
