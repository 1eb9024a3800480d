#include "engine/store/raw_append_bench.hpp"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <random>

#include "engine/store/sqlite_error.hpp"

namespace rmaflow {

namespace {

using Clock = std::chrono::steady_clock;

// Removes the scratch database and its WAL companions when the measurement ends.
class ScratchFile {
 public:
  explicit ScratchFile(const std::string& directory) {
    std::random_device random;
    path_ = fmt::format("{}/rmaflow-raw-append-{}-{:08x}.db", directory, ::getpid(), random());
  }
  ~ScratchFile() {
    std::error_code ignored;  // best effort: a leftover scratch file is harmless
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
      std::filesystem::remove(path_ + suffix, ignored);
    }
  }
  ScratchFile(const ScratchFile&) = delete;
  ScratchFile& operator=(const ScratchFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Appends rows shaped like the engine's events: a 26-character id, a sequence number, a type,
// a step name, a time and a small JSON document.
class Appender {
 public:
  Appender(SQLite::Database& db, std::string table)
      : table_(std::move(table)),
        insert_(db, fmt::format("INSERT INTO {} (instance_id, seq, type, step, at, data) "
                                "VALUES (?, ?, 3, 'inspect_item', ?, ?)",
                                table_)) {}

  void append() {
    ++seq_;
    insert_.reset();
    insert_.bind(1, kInstance);
    insert_.bind(2, seq_);
    insert_.bind(3, seq_);
    insert_.bind(4, kData);
    insert_.exec();
  }

 private:
  static constexpr const char* kInstance = "01JDQX3Z8M4K7V2N9P5R6T0W1Y";
  static constexpr const char* kData =
      R"({"attempt":1,"idempotency_key":"01JDQX3Z8M4K7V2N9P5R6T0W1Y:inspect_item:1"})";
  std::string table_;
  SQLite::Statement insert_;
  std::int64_t seq_ = 0;
};

void create_table(SQLite::Database& db, const std::string& table) {
  db.exec(fmt::format(
      "CREATE TABLE {} (instance_id TEXT NOT NULL, seq INTEGER NOT NULL, type INTEGER NOT NULL, "
      "step TEXT NOT NULL, at INTEGER NOT NULL, data TEXT NOT NULL, "
      "PRIMARY KEY (instance_id, seq)) WITHOUT ROWID",
      table));
}

// Commits `rows_per_commit` appends per transaction until the budget or the row cap is reached;
// returns rows per second, and adds each commit's duration in milliseconds to `took` if given.
double measure(SQLite::Database& db, const std::string& table, int rows_per_commit,
               const RawAppendOptions& options, std::vector<double>* took = nullptr) {
  create_table(db, table);
  Appender appender(db, table);
  const auto start = Clock::now();
  const auto stop = start + options.budget;
  std::int64_t rows = 0;
  auto now = start;
  while (now < stop && rows < options.max_rows) {
    const auto began = now;
    SQLite::Transaction tx(db);
    for (int i = 0; i < rows_per_commit; ++i) appender.append();
    tx.commit();
    rows += rows_per_commit;
    now = Clock::now();
    if (took != nullptr) {
      took->push_back(std::chrono::duration<double, std::milli>(now - began).count());
    }
  }
  const double seconds = std::chrono::duration<double>(now - start).count();
  return seconds > 0 ? static_cast<double>(rows) / seconds : 0;
}

}  // namespace

RawAppendRates measure_raw_append(const RawAppendOptions& options) {
  ScratchFile scratch(options.directory);
  return store::guard(scratch.path(), "measure raw appends on", [&] {
    SQLite::Database db(scratch.path(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db.exec("PRAGMA journal_mode = WAL");
    db.exec(options.sync == SyncMode::full ? "PRAGMA synchronous = FULL"
                                           : "PRAGMA synchronous = NORMAL");
    RawAppendRates rates;
    rates.single_row_commits_per_s =
        measure(db, "single_rows", 1, options, &rates.single_row_commit_ms);
    std::sort(rates.single_row_commit_ms.begin(), rates.single_row_commit_ms.end());
    rates.batched_rows_per_s =
        measure(db, "batched_rows", std::max(1, options.rows_per_commit), options);
    return rates;
  });
}

}  // namespace rmaflow
