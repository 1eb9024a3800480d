#include "engine/store/connection.hpp"

#include <fmt/format.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <string_view>

#include "engine/store/log_vfs.hpp"
#include "engine/store/schema.hpp"
#include "engine/store/sqlite_error.hpp"
#include "engine/support/db_file.hpp"

namespace rmaflow::store {

namespace {

// A Store is used by one thread at a time, so SQLite's per-call connection mutex is not needed.
constexpr int kThreading = SQLITE_OPEN_NOMUTEX;

// WAL lets readers (CLI, API) run beside the single writer and turns each commit into one
// sequential append. FULL syncs the WAL on every commit, so an acknowledged transition survives
// power loss; NORMAL syncs only at checkpoints (survives a crash of the process, not of the OS).
void set_pragmas(SQLite::Database& db, const std::string& path, SyncMode sync) {
  const std::string mode = db.execAndGet("PRAGMA journal_mode = WAL").getString();
  if (mode != "wal") {
    throw Error(
        Errc::storage,
        fmt::format("cannot switch {} to WAL mode (SQLite kept journal_mode={})", path, mode));
  }
  db.exec(sync == SyncMode::full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL");
  // The engine's batches touch many index pages; a larger cache (negative = KiB) avoids
  // re-reading them between commits.
  db.exec("PRAGMA cache_size = -32768");
  db.exec("PRAGMA temp_store = MEMORY");
  // Each engine commit dirties a page per instance it touches, so the same pages are rewritten
  // commit after commit; checkpointing every ~40 MB of WAL instead of SQLite's default ~4 MB
  // copies each such page back once instead of many times (about 1.6x the commit rate). The
  // WAL file is cut back to 64 MB after a checkpoint, so it does not keep its peak size (an
  // engine's writer: to twice its log's bound, store::Checkpointer).
  db.exec(fmt::format("PRAGMA wal_autocheckpoint = {}", kCheckpointPages));
  db.exec(fmt::format("PRAGMA journal_size_limit = {}", kLogSizeLimit));
}

// `file` is the path SQLite opens, `path` the one messages name.
// The quick part of checking a database as it opens: the pages of the small tables every
// command reads first (the schema version, the deployed definitions) and their indexes. The
// large tables are left to `rmaflow db check`: checking them would make every open as slow as
// the database is large. A read that meets a damaged page later is refused as corrupt too
// (sqlite_error.cpp).
void quick_check(SQLite::Database& db, const std::string& path) {
  for (const char* table : {"schema_version", "definitions"}) {
    SQLite::Statement check(db, fmt::format("PRAGMA quick_check({})", table));
    while (check.executeStep()) {
      auto line = check.getColumn(0).getString();
      if (line == "ok") continue;
      throw Error(Errc::storage,
                  fmt::format("{} is corrupt and cannot be used (SQLite: {}); rmaflow db check "
                              "names what is damaged: restore it from a backup",
                              path, line));
    }
  }
}

SQLite::Database open_writable(const std::string& file, const std::string& path,
                               const StoreOptions& options) {
  // The engine's commits write their log in one go each (log_vfs.hpp); that needs every
  // commit synced.
  const bool gather = options.engine && options.sync == SyncMode::full;
  SQLite::Database db(file.c_str(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE | kThreading,
                      kBusyTimeoutMs, gather ? log_gathering_vfs() : nullptr);
  // Check before any pragma writes to the file: someone else's database is left untouched.
  check_schema(db, path, /*read_only=*/false);
  set_pragmas(db, path, options.sync);
  migrate(db, path);
  quick_check(db, path);
  return db;
}

SQLite::Database open_read_only(const std::string& file, const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) {
    throw Error(Errc::not_found, fmt::format("no database at {}", path));
  }
  SQLite::Database db(file, SQLite::OPEN_READONLY | kThreading, kBusyTimeoutMs);
  check_schema(db, path, /*read_only=*/true);
  quick_check(db, path);
  return db;
}

}  // namespace

void refuse_foreign_file(const std::string& path) {
  std::error_code ec;
  auto status = std::filesystem::status(path, ec);
  if (ec || status.type() == std::filesystem::file_type::not_found) return;
  if (status.type() == std::filesystem::file_type::directory) {
    throw Error(Errc::storage, fmt::format("{} is a directory, not a database file", path));
  }
  if (status.type() != std::filesystem::file_type::regular) {
    throw Error(Errc::storage, fmt::format("{} is not a regular file, not a database file", path));
  }
  std::ifstream in(path, std::ios::binary);
  // Every SQLite database file begins with a 100-byte header: the file format's string, then
  // fields that take few values (SQLite's "Database File Format", section 1.3).
  static constexpr std::string_view kMagic{"SQLite format 3\0", 16};
  unsigned char head[100] = {};
  in.read(reinterpret_cast<char*>(head), sizeof head);
  auto got = static_cast<std::size_t>(in.gcount());
  if (got == 0) return;  // empty: a new database
  if (got < kMagic.size() ||
      std::string_view(reinterpret_cast<char*>(head), kMagic.size()) != kMagic) {
    throw Error(Errc::storage,
                fmt::format("{} is not an rmaflow database (it is not a SQLite file)", path));
  }
  unsigned page_size = (head[16] << 8) | head[17];  // 1 stands for 65536
  bool page_size_ok = page_size == 1 || (page_size >= 512 && page_size <= 32768 &&
                                         (page_size & (page_size - 1)) == 0);
  bool versions_ok = (head[18] == 1 || head[18] == 2) && (head[19] == 1 || head[19] == 2);
  bool fractions_ok = head[21] == 64 && head[22] == 32 && head[23] == 32;
  if (got < sizeof head || !page_size_ok || !versions_ok || !fractions_ok) {
    throw Error(Errc::storage,
                fmt::format("{} is not an rmaflow database (it begins as a SQLite file, but its "
                            "header is damaged)",
                            path));
  }
}

SQLite::Database open_connection(const std::string& path, const StoreOptions& options) {
  // Readers and writers open the file by one name, so they all use the one write-ahead log.
  refuse_foreign_file(path);
  std::string canonical = canonical_db_path(path);
  return guard(path, "open", [&] {
    return options.read_only ? open_read_only(canonical, path)
                             : open_writable(canonical, path, options);
  });
}

}  // namespace rmaflow::store
