// The checkpoint thread (engine/store/checkpointer.hpp): the writer's commits past the
// threshold have the log copied back on another connection, the rest is copied by the next
// commit, and the log starts over; a writer that outruns the thread is bounded by a commit's
// own checkpoint. Each commit here adds a page or more to the log.
#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>
#include <linux/ioprio.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>

#include "engine/store/checkpointer.hpp"
#include "tests/support/process.hpp"

using rmaflow::store::Checkpointer;
using rmaflow::testing::TempDir;

namespace {

struct Database {
  TempDir dir;
  std::string file = dir.file("ckpt.db");
  SQLite::Database db{file, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE};

  Database() {
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("CREATE TABLE t (n INTEGER PRIMARY KEY, pad BLOB NOT NULL)");
  }
  // One commit that writes a new 4 KiB row: at least one page more in the log.
  void commit(int n) {
    SQLite::Transaction tx(db);
    SQLite::Statement insert(db, "INSERT INTO t (n, pad) VALUES (?1, zeroblob(4096))");
    insert.bind(1, n);
    insert.exec();
    tx.commit();
  }
  // Commits numbered from n + 1 until the log holds `pages`; the last one's number.
  int commit_until(const Checkpointer& checkpointer, int pages, int n = 0) {
    while (checkpointer.log_pages() < pages) commit(++n);
    return n;
  }
  int rows() { return db.execAndGet("SELECT count(*) FROM t").getInt(); }
  std::string log() const { return read_bytes(file + "-wal"); }

  static std::string read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
};

// The id of this process's thread named `name` (0: none).
pid_t thread_named(const std::string& name) {
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::string comm = Database::read_bytes(task.path() / "comm");
    if (!comm.empty() && comm.back() == '\n') comm.pop_back();
    if (comm == name) return static_cast<pid_t>(std::stoi(task.path().filename().string()));
  }
  return 0;
}

// The thread copies past 40 pages, a commit finishes past 20 left; no commit copies on its own.
constexpr rmaflow::store::CheckpointLimits kThread{.pages = 40, .finish = 20, .inline_ = 100000};

// A log of 40 + 20 pages of 4 KiB: SQLite's header, then each page behind its frame's header.
constexpr long long kLaidOut = 32 + 60 * (24 + 4096);

}  // namespace

TEST_CASE("Store.Checkpoint.Issue19.TheThreadCopiesTheLogAndItStartsOver") {
  Database d;
  Checkpointer checkpointer(d.db, d.file, kThread);
  int n = d.commit_until(checkpointer, 40);
  checkpointer.wait_idle();
  CHECK(checkpointer.counts().background >= 1);
  const int before = checkpointer.log_pages();

  d.commit(++n);  // all of it copied: the log starts over from its beginning
  CHECK(checkpointer.log_pages() < before);
  CHECK(checkpointer.counts().finished == 0);
  CHECK(checkpointer.counts().inline_ == 0);
  CHECK(d.rows() == n);
}

TEST_CASE("Store.Checkpoint.Issue19.TheThreadGivesWayToEveryOtherThreadButNotOnTheDisk") {
  Database d;
  Checkpointer checkpointer(d.db, d.file, kThread);
  d.commit_until(checkpointer, 40);
  checkpointer.wait_idle();
  REQUIRE(checkpointer.counts().background >= 1);  // the thread has run: it set itself up

  const pid_t thread = thread_named("rmaflow-checkpt");
  REQUIRE(thread != 0);
  CHECK(sched_getscheduler(thread) == SCHED_IDLE);
  // Its disk requests keep the usual class: the idle one would wait for the disk to be free.
  CHECK(syscall(SYS_ioprio_get, IOPRIO_WHO_PROCESS, thread) ==
        IOPRIO_PRIO_VALUE(IOPRIO_CLASS_BE, IOPRIO_NORM));
  CHECK(sched_getscheduler(0) == SCHED_OTHER);  // the writer's thread, this one, is untouched
}

TEST_CASE("Store.Checkpoint.Issue19.WhatTheThreadLeftTheNextCommitCopies") {
  Database d;
  Checkpointer checkpointer(d.db, d.file, kThread);
  int n = d.commit_until(checkpointer, 30);
  // A reader at this point keeps the thread from copying the commits after it, as commits
  // made while the thread copies are left over.
  SQLite::Database reader(d.file, SQLite::OPEN_READONLY);
  std::optional<SQLite::Transaction> reading(std::in_place, reader);
  CHECK(reader.execAndGet("SELECT count(*) FROM t").getInt() == n);
  n = d.commit_until(checkpointer, 40, n);
  checkpointer.wait_idle();
  CHECK(checkpointer.counts().background >= 1);
  reading.reset();  // rolled back: the reader is gone

  const int before = checkpointer.log_pages();
  d.commit(++n);  // copies the few pages the thread left
  CHECK(checkpointer.counts().finished == 1);
  d.commit(++n);  // the log starts over from its beginning
  CHECK(checkpointer.log_pages() < before);
  CHECK(checkpointer.counts().inline_ == 0);
  CHECK(d.rows() == n);
}

TEST_CASE("Store.Checkpoint.Issue19.ALogTheThreadDoesNotKeepUpWithIsBoundedByTheCommits") {
  Database d;
  // The thread is never asked (its threshold is beyond the bound), as if it never kept up: a
  // commit past 60 pages copies the log itself, and it starts over.
  Checkpointer checkpointer(d.db, d.file, {.pages = 100000, .finish = 0, .inline_ = 60});
  int peak = 0, restarts = 0, last = 0;
  for (int n = 1; n <= 400; ++n) {
    d.commit(n);
    if (checkpointer.log_pages() < last) ++restarts;
    last = checkpointer.log_pages();
    peak = std::max(peak, last);
  }
  CHECK(restarts >= 5);
  CHECK(peak < 60 + 10);  // a commit's pages past the bound at most
  CHECK(checkpointer.counts().inline_ >= 5);
  CHECK(checkpointer.counts().background == 0);
  CHECK(d.rows() == 400);
}

TEST_CASE("Store.Checkpoint.Issue19.ALogThatGrewToItsBoundIsNotCutBackAsItStartsOver") {
  Database d;
  // Below the bound, as the store's 64 MB is below the engine's: SQLite would cut the log's
  // file back to 4 pages in the first commit after each start over.
  constexpr long long kSmallLimit = 32 + 4 * (24 + 4096);
  d.db.exec("PRAGMA journal_size_limit = " + std::to_string(kSmallLimit));
  {
    Checkpointer checkpointer(d.db, d.file, {.pages = 100000, .finish = 0, .inline_ = 60});
    // Twice the bound.
    CHECK(d.db.execAndGet("PRAGMA journal_size_limit").getInt64() == 32 + 120 * (24 + 4096));
    int restarts = 0, last = 0;
    for (int n = 1; n <= 300; ++n) {
      d.commit(n);
      if (checkpointer.log_pages() < last) {
        ++restarts;
        // This commit started the log over: the file keeps the length it grew to.
        CHECK(std::filesystem::file_size(d.file + "-wal") >= 32 + 60 * (24 + 4096));
      }
      last = checkpointer.log_pages();
    }
    CHECK(restarts >= 3);
    CHECK(checkpointer.counts().inline_ >= 3);
    CHECK(d.rows() == 300);
  }
  // Gone, it gives the writer its limit back.
  CHECK(d.db.execAndGet("PRAGMA journal_size_limit").getInt64() == kSmallLimit);
}

TEST_CASE("Store.Checkpoint.Issue19.OnceItIsGoneSQLitesOwnCheckpointIsBack") {
  Database d;
  { Checkpointer checkpointer(d.db, d.file, kThread); }
  for (int n = 1; n <= 200; ++n) d.commit(n);
  // Checkpointed every 40 pages, the log file never grew much past them; without a
  // checkpoint it would hold 200 pages and more.
  CHECK(std::filesystem::file_size(d.file + "-wal") < 80 * 4120);
  CHECK(d.rows() == 200);
}

TEST_CASE("Store.Checkpoint.Issue19.TheLogIsLaidOutPastItsEndOnly") {
  Database d;
  for (int n = 1; n <= 5; ++n) d.commit(n);
  const std::string before = d.log();
  REQUIRE(before.size() > 5 * 4096);

  Checkpointer checkpointer(d.db, d.file, kThread);
  {
    SQLite::Transaction tx(d.db, SQLite::TransactionBehavior::IMMEDIATE);
    checkpointer.lay_out_log();
    checkpointer.lay_out_log();  // once only
    tx.commit();
  }
  const std::string after = d.log();
  CHECK(after.size() == kLaidOut);
  CHECK(checkpointer.counts().laid_out == kLaidOut - static_cast<long long>(before.size()));
  // What SQLite wrote is untouched; behind it, zeros.
  CHECK(after.compare(0, before.size(), before) == 0);
  CHECK(after.find_first_not_of('\0', before.size()) == std::string::npos);
  CHECK(d.rows() == 5);

  // The commits write over the zeros, the log starts over within the file as laid out, and
  // every row is there.
  for (int n = 6; n <= 120; ++n) d.commit(n);
  checkpointer.wait_idle();
  CHECK(d.rows() == 120);
  CHECK(d.db.execAndGet("PRAGMA integrity_check").getString() == "ok");
}

TEST_CASE("Store.Checkpoint.Issue19.ALogLaidOutBeyondItsLastCommitIsReadToThatCommit") {
  Database d;
  Checkpointer checkpointer(d.db, d.file, {.pages = 1000, .finish = 20, .inline_ = 100000});
  {
    SQLite::Transaction tx(d.db, SQLite::TransactionBehavior::IMMEDIATE);
    checkpointer.lay_out_log();
    tx.commit();
  }
  for (int n = 1; n <= 30; ++n) d.commit(n);
  REQUIRE(checkpointer.counts().background == 0);  // every commit still only in the log

  // The files as a process killed now leaves them (no shared index; the log with its zeros),
  // opened afresh: SQLite rebuilds the index from the log, reading to the last commit.
  TempDir copy;
  const std::string file = copy.file("copied.db");
  std::filesystem::copy_file(d.file, file);
  std::filesystem::copy_file(d.file + "-wal", file + "-wal");
  REQUIRE(std::filesystem::file_size(file + "-wal") == 32 + 1020 * (24 + 4096));
  SQLite::Database reopened(file, SQLite::OPEN_READWRITE);
  CHECK(reopened.execAndGet("SELECT count(*) FROM t").getInt() == 30);
  CHECK(reopened.execAndGet("SELECT max(n) FROM t").getInt() == 30);
  CHECK(reopened.execAndGet("PRAGMA integrity_check").getString() == "ok");
}
