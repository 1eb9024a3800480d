// Opening a SQLite connection the way the store needs it.
#pragma once

#include <SQLiteCpp/Database.h>

#include <string>

#include "rmaflow/store.hpp"

namespace rmaflow::store {

// How long a connection waits for another's lock before failing with "database is locked".
inline constexpr int kBusyTimeoutMs = 5000;
// How long SQLite's write-ahead log grows, in pages, before it is copied back to the database
// file (a checkpoint): `wal_autocheckpoint`, and the engine's checkpoint thread's threshold.
inline constexpr int kCheckpointPages = 10000;
// What a checkpoint that starts the log over cuts its file back to (`journal_size_limit`). An
// engine's writer has it raised to twice the bound its Checkpointer keeps the log to, so that
// its log keeps the size it is laid out to and grows to.
inline constexpr long long kLogSizeLimit = 64LL << 20;

// Opens `path` and makes it ready for use:
// - writable: creates the file if missing, refuses foreign or newer databases, switches it to
//   WAL, sets `synchronous` from options.sync and migrates the schema to this binary's version;
// - read-only: the file must exist (Error(not_found) "no database at PATH") and be at this
//   binary's schema version; nothing is written.
// Throws rmaflow::Error; never SQLite::Exception.
SQLite::Database open_connection(const std::string& path, const StoreOptions& options);

// Refuses what plainly is no SQLite database, before anything is made beside it (the engine's
// lock file): a directory, a device or other special file, a file that does not begin as a
// SQLite file does or whose header's fixed fields are wrong. A missing or empty file passes:
// it is a new database. Throws
// Error(storage) naming the path.
void refuse_foreign_file(const std::string& path);

}  // namespace rmaflow::store
