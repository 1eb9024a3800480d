// The PostgreSQL schema and its migrations: the SQLite schema's tables and indexes in
// PostgreSQL's types, versioned by its own `schema_version` table and migration list
// (docs/postgresql.md). Rule as for SQLite: a released migration is never edited or
// renumbered; changes are new migrations.
#pragma once

#include <span>

#include "engine/store/schema.hpp"

namespace rmaflow::store {

class PgConnection;

// Every PostgreSQL migration this binary knows, oldest first (1, 2, ... without gaps).
std::span<const Migration> pg_migrations();

// The schema version this binary writes.
int pg_latest_schema_version();

// The version the database (its current schema) is at: 0 when it has no `schema_version`.
int pg_stored_schema_version(PgConnection& connection);

// Makes the database ready for this binary, or refuses it with Error(storage) naming it:
// tables but no `schema_version` (someone else's database), a version newer than this binary,
// and, for a read-only caller, a version older than this binary (it cannot migrate). A
// writable caller applies the missing migrations, each in its own transaction. The checks and
// each migration run under an advisory lock, so that nodes starting at once apply each
// migration once and none judges the database while another is migrating it.
void pg_prepare_schema(PgConnection& connection, bool read_only);

}  // namespace rmaflow::store
