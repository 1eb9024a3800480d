#include "engine/store/checkpointer.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "engine/store/connection.hpp"
#include "engine/support/fault_points.hpp"
#include "engine/support/threads.hpp"

namespace rmaflow::store {

namespace {

// A PASSIVE checkpoint of `db`: copies what is committed without waiting for anyone. Returns
// the pages copied, or -1 when it could not run (another checkpoint is under way; an I/O
// error, which leaves the log as it was, to be copied by a later one).
int checkpoint(sqlite3* db, const char* schema) {
  int log = 0, copied = 0;
  int rc = sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, &log, &copied);
  return rc == SQLITE_OK ? copied : -1;
}

}  // namespace

namespace {

// A second connection to `file`, having read it: a connection finds the database's log only
// at its first statement, and a checkpoint on one that has not would find no log to copy.
SQLite::Database open_reading(const std::string& file) {
  SQLite::Database db(file, SQLite::OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, kBusyTimeoutMs);
  db.execAndGet("PRAGMA journal_mode");
  return db;
}

// The size, in bytes, of a log of `frames` pages of `writer`'s database: SQLite's 32-byte
// header, then each page behind a 24-byte frame header.
long long log_bytes(SQLite::Database& writer, int frames) {
  const long long page = writer.execAndGet("PRAGMA page_size").getInt64();
  return 32 + frames * (24 + page);
}

// The size the log's file is cut back to as the log starts over (`journal_size_limit`; -1:
// never cut back).
long long size_limit(SQLite::Database& db) {
  return db.execAndGet("PRAGMA journal_size_limit").getInt64();
}

// Writes zeros to `fd` from `from` to `to` and syncs them. False when the disk refused.
bool write_zeros(int fd, long long from, long long to) {
  const std::vector<char> zeros(1 << 20, 0);
  while (from < to) {
    const auto n = ::pwrite(fd, zeros.data(), std::min<long long>(zeros.size(), to - from), from);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    from += n;
  }
  return ::fdatasync(fd) == 0;
}

// Extends the log's file of `writer` with zeros to `bytes` and returns the bytes added. It
// writes past the file's end only. A disk that refuses (full, say) leaves the file as it was
// and the log to grow as it is written: laying out is a saving, not a need.
long long lay_out(SQLite::Database& writer, long long bytes) {
  const char* log = sqlite3_filename_wal(sqlite3_db_filename(writer.getHandle(), "main"));
  const int fd = log == nullptr ? -1 : ::open(log, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  struct stat file {};
  long long added = 0;
  if (::fstat(fd, &file) == 0 && file.st_size < bytes) {
    if (write_zeros(fd, file.st_size, bytes)) {
      added = bytes - file.st_size;
    } else if (::ftruncate(fd, file.st_size) == 0) {
      ::fdatasync(fd);
    }
  }
  ::close(fd);
  return added;
}

}  // namespace

Checkpointer::Checkpointer(SQLite::Database& writer, const std::string& file, Limits limits)
    : writer_(writer), own_(open_reading(file)), limits_(limits) {
  // SQLite cuts the log's file back as the log starts over, if it is longer than the limit:
  // one that grew to the bound is left that long rather than cut back (tens of megabytes
  // freed, in the first commit after it started over) to grow again. Commits go on past the
  // bound while the thread's copy, which may wait for a free core, keeps a commit from copying:
  // twice the bound (a return of 10,000 lines took its log to 1.4 times).
  const long long before = size_limit(writer_);
  const long long bound = log_bytes(writer_, 2 * limits_.inline_);
  if (before >= 0 && before < bound) {
    writer_.exec("PRAGMA journal_size_limit = " + std::to_string(bound));
    size_limit_before_ = before;
  }
  // Started last: nothing that can throw comes after it.
  thread_ = std::thread([this] {
    name_this_thread("rmaflow-checkpt");
    // A checkpoint is never urgent (a commit copies the log itself should it grow too long):
    // it runs when the engine's threads leave a core free.
    run_this_thread_when_idle();
    run();
  });
  sqlite3_wal_hook(writer_.getHandle(), &Checkpointer::on_commit, this);
}

Checkpointer::~Checkpointer() {
  sqlite3_wal_autocheckpoint(writer_.getHandle(), limits_.pages);
  if (size_limit_before_ >= 0) {
    const auto pragma = "PRAGMA journal_size_limit = " + std::to_string(size_limit_before_);
    sqlite3_exec(writer_.getHandle(), pragma.c_str(), nullptr, nullptr, nullptr);
  }
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void Checkpointer::lay_out_log() {
  if (laid_out_) return;
  laid_out_ = true;
  // The log reaches `pages` and `finish` more before it starts over, unless bounded sooner.
  const long long added = lay_out(
      writer_, log_bytes(writer_, std::min(limits_.pages + limits_.finish, limits_.inline_)));
  std::lock_guard lock(mu_);
  counts_.laid_out = added;
}

Checkpointer::Counts Checkpointer::counts() const {
  std::lock_guard lock(mu_);
  return counts_;
}

void Checkpointer::wait_idle() {
  std::unique_lock lock(mu_);
  idle_.wait(lock, [this] { return !wanted_ && !running_; });
}

int Checkpointer::on_commit(void* self, sqlite3* db, const char* schema, int pages) {
  static_cast<Checkpointer*>(self)->committed(db, schema, pages);
  return SQLITE_OK;
}

void Checkpointer::committed(sqlite3* db, const char* schema, int pages) {
  if (pages < last_pages_) copied_ = 0;  // the log started over: what was copied is gone
  last_pages_ = pages;
  const int copied = copied_;
  const bool finish =
      pages >= limits_.pages && copied > 0 && copied <= pages && pages - copied <= limits_.finish;
  if (finish || pages >= limits_.inline_) {
    if (checkpoint(db, schema) < 0) return;  // the thread is copying: the next commit, then
    std::lock_guard lock(mu_);
    ++(finish ? counts_.finished : counts_.inline_);
    return;
  }
  if (pages < limits_.pages) return;
  {
    std::lock_guard lock(mu_);
    wanted_ = true;
  }
  wake_.notify_one();
}

void Checkpointer::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || wanted_; });
    if (stopping_) return;
    wanted_ = false;
    running_ = true;
    lock.unlock();
    int copied = checkpoint(own_.getHandle(), nullptr);
    if (copied > 0) {
      fault_point("checkpoint.copied");
      copied_ = copied;
    }
    lock.lock();
    running_ = false;
    ++counts_.background;
    if (!wanted_) idle_.notify_all();
  }
}

}  // namespace rmaflow::store
