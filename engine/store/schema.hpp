// The database schema and its migrations.
//
// The schema is versioned: `schema_version` holds one row per applied migration, and the
// database's version is the highest of them. Migrations are applied in order, each in its own
// transaction, so that a crash leaves the database at some version, never between two.
// Rule: a released migration is never edited or renumbered; changes are new migrations.
#pragma once

#include <span>
#include <string>

namespace SQLite {
class Database;
}

namespace rmaflow::store {

struct Migration {
  int version;              // 1, 2, 3, ... without gaps
  const char* description;  // for docs/storage.md and error messages
  const char* sql;          // one or more statements
};

// Every migration this binary knows, oldest first.
std::span<const Migration> migrations();

// The schema version this binary writes: the last migration's.
int latest_schema_version();

// The version the database is at: 0 when it has no `schema_version` table.
int stored_schema_version(SQLite::Database& db);

// Refuses, with Error(storage) naming `path`, a database this binary must not use: one that
// holds tables but no `schema_version` (someone else's SQLite file), or one newer than this
// binary. A read-only caller also refuses a database older than this binary, since it cannot
// migrate it.
void check_schema(SQLite::Database& db, const std::string& path, bool read_only);

// Brings a writable database up to latest_schema_version(). Safe when another process
// migrates at the same time: each step re-reads the version inside its write transaction.
void migrate(SQLite::Database& db, const std::string& path);

// Brings a database up to version `up_to` and no further: how tests build a database as an
// older rmaflow left it. Does nothing to a database already at or past `up_to`.
void migrate(SQLite::Database& db, const std::string& path, int up_to);

}  // namespace rmaflow::store
