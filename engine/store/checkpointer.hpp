// Copies the write-ahead log back into the database file (a checkpoint) on a thread of its
// own, so that the engine's commits do not wait for it.
//
// SQLite's automatic checkpoint runs inside the commit that crosses its threshold: that commit,
// and every step waiting on it, waits for thousands of pages to be copied and synced. Here the
// writer's connection only reports its log's size after each commit (sqlite3_wal_hook, which
// replaces the automatic checkpoint). Past `Limits::pages`, a second connection copies what
// is committed (a PASSIVE checkpoint, which never blocks the writer). The log starts over from
// its beginning only once everything in it is copied, which a busy writer, adding pages all
// the while, never lets the thread finish: so once the thread has copied all but at most
// `Limits::finish`, the writer's next commit copies that little rest itself. Should the writer
// outrun the thread so far that the log reaches `Limits::inline_`, a commit checkpoints
// inline as SQLite would, which bounds the log's size. The writer's `journal_size_limit` is
// raised to twice that bound while the Checkpointer lives, so that SQLite does not cut back a
// log the thread let grow past it each time the log starts over.
//
// It also lays the log's file out, when the engine starts, to the size the log reaches
// between two checkpoints (zeros written and synced past the file's end, never over what
// SQLite wrote): each commit then writes over blocks the file already has, and its sync has no
// file size to record, which on ext4 about halves it (docs/decisions.md). SQLite reads zeros
// past the last commit as the log's end, as it reads the older commits it leaves there once
// the log starts over.
//
// The thread runs in Linux's idle scheduling class (run_this_thread_when_idle): woken on a core
// where the checkpointer copies, the engine's threads take it at once rather than wait behind
// the copy, often while the other core sat idle (docs/decisions.md).
//
// Thread-safety: the hook runs on the writer's thread; the rest is internal.
#pragma once

#include <SQLiteCpp/Database.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "engine/store/connection.hpp"

namespace rmaflow::store {

// When a Checkpointer copies, in pages of the log.
struct CheckpointLimits {
  int pages = kCheckpointPages;  // about 40 MB of 4 KiB pages
  int finish = 1000;             // what a commit copies itself after the thread's copy
  int inline_ = 4 * kCheckpointPages;
};

class Checkpointer {
 public:
  using Limits = CheckpointLimits;
  // How the checkpoints went so far (for tests and diagnostics).
  struct Counts {
    int background = 0;  // run by the thread
    int finished = 0;    // the rest copied by a commit after the thread's copy
    int inline_ = 0;     // run by a commit because the log grew too long
    long long laid_out = 0;  // bytes of zeros the log's file was extended by as it started
  };

  // `writer` is the store's writing connection to `file`; it must outlive this object.
  // Throws SQLite::Exception when the writer's `journal_size_limit` cannot be read or set.
  Checkpointer(SQLite::Database& writer, const std::string& file, Limits limits = {});
  // Stops the thread (a checkpoint under way completes first) and gives the writer's
  // connection SQLite's automatic checkpoint and its `journal_size_limit` back.
  ~Checkpointer();
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  // Lays the log's file out (the first call; later ones do nothing). Called in a write
  // transaction on the writer's connection, which keeps every other connection from adding to
  // the log meanwhile (SqliteStore::prepare_for_commits).
  void lay_out_log();

  Counts counts() const;
  // The log's length in pages after the writer's last commit (the writer's thread).
  int log_pages() const { return last_pages_; }
  // Waits until the thread has run every checkpoint asked of it so far.
  void wait_idle();

 private:
  static int on_commit(void* self, sqlite3* db, const char* schema, int pages);
  void committed(sqlite3* db, const char* schema, int pages);
  void run();

  SQLite::Database& writer_;
  SQLite::Database own_;
  const Limits limits_;
  // The writer's `journal_size_limit` before this raised it (-1: not raised).
  long long size_limit_before_ = -1;
  // The writer's thread only.
  int last_pages_ = 0;
  bool laid_out_ = false;
  // Pages of the current log the thread has copied; 0 when the log started over since.
  std::atomic<int> copied_{0};
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::condition_variable idle_;
  bool wanted_ = false;
  bool running_ = false;
  bool stopping_ = false;
  Counts counts_;
  std::thread thread_;
};

}  // namespace rmaflow::store
