#include "engine/store/schema.hpp"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <fmt/format.h>

#include <array>
#include <chrono>

#include "engine/support/fault_points.hpp"
#include "rmaflow/errors.hpp"

namespace rmaflow::store {

namespace {

// Times are integer milliseconds since the Unix epoch (UTC). Statuses, phases and event types
// are the integers of the enums in rmaflow/status.hpp. Text columns hold '' rather than NULL
// for "none", except the optional times, which are NULL.
// clang-format off
constexpr std::array<Migration, 14> kMigrations{{
  {1, "definitions, instances, events, timers", R"sql(
    CREATE TABLE schema_version (
      version    INTEGER PRIMARY KEY,
      applied_at INTEGER NOT NULL
    );
    CREATE TABLE definitions (
      name         TEXT    NOT NULL,
      version      INTEGER NOT NULL,
      content_hash TEXT    NOT NULL,
      source       TEXT    NOT NULL,
      input_schema TEXT    NOT NULL DEFAULT '',
      file         TEXT    NOT NULL DEFAULT '',
      deployed_at  INTEGER NOT NULL,
      PRIMARY KEY (name, version)
    );
    CREATE TABLE instances (
      id             TEXT    NOT NULL PRIMARY KEY,
      workflow       TEXT    NOT NULL,
      version        INTEGER NOT NULL,
      status         INTEGER NOT NULL,
      phase          INTEGER NOT NULL,
      step           TEXT    NOT NULL DEFAULT '',
      attempt        INTEGER NOT NULL DEFAULT 0,
      visits         TEXT    NOT NULL DEFAULT '{}',
      context        TEXT    NOT NULL DEFAULT '{}',
      step_input     TEXT    NOT NULL DEFAULT '',
      business_key   TEXT    NOT NULL DEFAULT '',
      correlation_id TEXT    NOT NULL DEFAULT '',
      input_hash     TEXT    NOT NULL DEFAULT '',
      incident       TEXT    NOT NULL DEFAULT '',
      last_seq       INTEGER NOT NULL DEFAULT 0,
      created_at     INTEGER NOT NULL,
      updated_at     INTEGER NOT NULL,
      ended_at       INTEGER,
      deadline       INTEGER
    );
    CREATE UNIQUE INDEX instances_business_key ON instances (workflow, business_key)
      WHERE business_key <> '';
    CREATE INDEX instances_status ON instances (status);
    CREATE TABLE events (
      instance_id TEXT    NOT NULL,
      seq         INTEGER NOT NULL,
      type        INTEGER NOT NULL,
      step        TEXT    NOT NULL DEFAULT '',
      at          INTEGER NOT NULL,
      data        TEXT    NOT NULL DEFAULT '{}',
      PRIMARY KEY (instance_id, seq)
    ) WITHOUT ROWID;
    CREATE TABLE timers (
      instance_id TEXT    NOT NULL,
      name        TEXT    NOT NULL,
      due         INTEGER NOT NULL,
      PRIMARY KEY (instance_id, name)
    ) WITHOUT ROWID;
    CREATE INDEX timers_due ON timers (due);
  )sql"},
  // seq and id are AUTOINCREMENT so that a number is never reused, even after the newest row
  // is deleted: seq is the arrival order across the database, id what operators quote.
  {2, "signals, commands", R"sql(
    CREATE TABLE signals (
      seq             INTEGER PRIMARY KEY AUTOINCREMENT,
      instance_id     TEXT    NOT NULL,
      name            TEXT    NOT NULL,
      idempotency_key TEXT    NOT NULL,
      payload         TEXT    NOT NULL DEFAULT 'null',
      received_at     INTEGER NOT NULL,
      consumed_at     INTEGER,
      UNIQUE (instance_id, idempotency_key)
    );
    CREATE INDEX signals_pending ON signals (instance_id, name, seq)
      WHERE consumed_at IS NULL;
    CREATE TABLE commands (
      id          INTEGER PRIMARY KEY AUTOINCREMENT,
      instance_id TEXT    NOT NULL,
      kind        TEXT    NOT NULL,
      body        TEXT    NOT NULL DEFAULT '{}',
      created_at  INTEGER NOT NULL,
      applied_at  INTEGER,
      outcome     TEXT    NOT NULL DEFAULT ''
    );
    CREATE INDEX commands_pending ON commands (id) WHERE outcome = '';
  )sql"},
  {3, "instances.saga: the compensation record", R"sql(
    ALTER TABLE instances ADD COLUMN saga TEXT NOT NULL DEFAULT '{}';
  )sql"},
  // An instance holds several cursors (its main line and the branches of fan-out steps):
  // where each stands moves from the row's columns into `cursors`, the main line first; the
  // compensation in progress moves from the saga record into the cursor running it. Events and
  // timers name their branch; signals carry a match value; a child names its parent.
  {4, "cursors: branches of fan-out steps, child workflows", R"sql(
    ALTER TABLE instances ADD COLUMN cursors TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE instances ADD COLUMN parent_id TEXT NOT NULL DEFAULT '';
    ALTER TABLE instances ADD COLUMN parent_step TEXT NOT NULL DEFAULT '';
    ALTER TABLE instances ADD COLUMN parent_branch TEXT NOT NULL DEFAULT '';
    UPDATE instances SET
      cursors = json_array(json_object(
        'step', step,
        'phase', phase,
        'attempt', attempt,
        'deadline', deadline,
        'input', CASE WHEN step_input = '' THEN NULL ELSE json(step_input) END,
        'incident', CASE WHEN incident = '' THEN NULL ELSE json(incident) END,
        'compensation', CASE WHEN json_extract(saga, '$.running') IS NULL THEN NULL
                        ELSE json_object('then', json_extract(saga, '$.running.target'),
                                         'reason', json_extract(saga, '$.running.reason'),
                                         'from_step', '') END,
        'label', CASE WHEN status >= 10 THEN
                   CASE status WHEN 10 THEN 'completed' WHEN 11 THEN 'rejected'
                               WHEN 12 THEN 'expired' WHEN 13 THEN 'cancelled'
                               WHEN 14 THEN 'failed' ELSE 'compensated' END
                 ELSE NULL END)),
      saga = json_remove(saga, '$.running');
    UPDATE instances SET cursors = json_set(cursors, '$[0].phase', 7) WHERE status >= 10;
    ALTER TABLE instances DROP COLUMN phase;
    ALTER TABLE instances DROP COLUMN attempt;
    ALTER TABLE instances DROP COLUMN step_input;
    ALTER TABLE instances DROP COLUMN incident;
    CREATE INDEX instances_parent ON instances (parent_id) WHERE parent_id <> '';
    ALTER TABLE events ADD COLUMN branch TEXT NOT NULL DEFAULT '';
    CREATE TABLE timers_v4 (
      instance_id TEXT    NOT NULL,
      branch      TEXT    NOT NULL DEFAULT '',
      name        TEXT    NOT NULL,
      due         INTEGER NOT NULL,
      PRIMARY KEY (instance_id, branch, name)
    ) WITHOUT ROWID;
    INSERT INTO timers_v4 (instance_id, branch, name, due)
      SELECT instance_id, '', name, due FROM timers;
    DROP TABLE timers;
    ALTER TABLE timers_v4 RENAME TO timers;
    CREATE INDEX timers_due ON timers (due);
    ALTER TABLE signals ADD COLUMN match TEXT NOT NULL DEFAULT '';
  )sql"},
  // The audit trail across instances reads operator actions newest first. A partial index holds
  // only them (30 is EventType::operator_action), so appending any other event costs nothing
  // more; its entries carry the key (instance_id, seq) after `at`.
  {5, "events_operator_actions: the audit trail", R"sql(
    CREATE INDEX events_operator_actions ON events (at) WHERE type = 30;
  )sql"},
  // An operator pauses an instance: no new attempt starts and no timer fires until it is
  // resumed. NULL: not paused. The few paused rows are indexed for `list --paused`.
  {6, "instances.paused_at: pause and resume", R"sql(
    ALTER TABLE instances ADD COLUMN paused_at INTEGER;
    CREATE INDEX instances_paused ON instances (paused_at) WHERE paused_at IS NOT NULL;
  )sql"},
  // Retention (`rmaflow db prune`) removes finished instances that ended before a cutoff, found
  // oldest first by their end; each leaves a line saying when it went and where it was archived.
  // An instance's operator actions may stay in `events` after it went (the audit trail).
  {7, "pruned_instances: retention", R"sql(
    CREATE INDEX instances_ended ON instances (ended_at) WHERE ended_at IS NOT NULL;
    CREATE TABLE pruned_instances (
      id           TEXT    NOT NULL PRIMARY KEY,
      workflow     TEXT    NOT NULL,
      version      INTEGER NOT NULL,
      business_key TEXT    NOT NULL DEFAULT '',
      status       INTEGER NOT NULL,
      ended_at     INTEGER,
      pruned_at    INTEGER NOT NULL,
      archive      TEXT    NOT NULL DEFAULT ''
    ) WITHOUT ROWID;
  )sql"},
  // Search attributes: each instance's business fields (Definition::attributes), one row per
  // field, the value typed as SQLite types it (TEXT, INTEGER or REAL). Lists filter through
  // the index on (name, value): equality and ranges without reading instances.
  {8, "instance_attributes: search attributes", R"sql(
    CREATE TABLE instance_attributes (
      instance_id TEXT NOT NULL,
      name        TEXT NOT NULL,
      value       ANY  NOT NULL,
      PRIMARY KEY (instance_id, name)
    ) WITHOUT ROWID;
    CREATE INDEX instance_attributes_value ON instance_attributes (name, value, instance_id);
  )sql"},
  // Bulk jobs: the job (its filter and arguments as JSON, its cursor and tallies updated with
  // each instance it deals with) and one item per instance it dealt with.
  {9, "jobs, job_items: bulk jobs", R"sql(
    CREATE TABLE jobs (
      id            TEXT    PRIMARY KEY,
      action        TEXT    NOT NULL,
      filter        TEXT    NOT NULL,
      args          TEXT    NOT NULL,
      actor         TEXT    NOT NULL,
      reason        TEXT    NOT NULL,
      per_second    REAL    NOT NULL,
      state         TEXT    NOT NULL,
      created_at    INTEGER NOT NULL,
      updated_at    INTEGER NOT NULL,
      ended_at      INTEGER,
      cursor        TEXT    NOT NULL,
      applied       INTEGER NOT NULL,
      refused       INTEGER NOT NULL,
      cancelled_by  TEXT    NOT NULL,
      cancel_reason TEXT    NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX jobs_running ON jobs (id) WHERE state = 'running';
    CREATE TABLE job_items (
      job_id      TEXT    NOT NULL,
      instance_id TEXT    NOT NULL,
      applied     INTEGER NOT NULL,
      detail      TEXT    NOT NULL,
      at          INTEGER NOT NULL,
      PRIMARY KEY (job_id, instance_id)
    ) WITHOUT ROWID;
  )sql"},
  // Version 8 declared `value ANY` in a table that is not STRICT, which SQLite reads as NUMERIC
  // affinity: text that looks like a number ("500", "00123") was stored as that number, against
  // the rule that text compares with text only. A column without a declared type has no
  // affinity and keeps each value as bound. Values already converted stay as stored until the
  // instance's next transition indexes its attributes again.
  {10, "instance_attributes: values kept as bound (no affinity)", R"sql(
    CREATE TABLE instance_attributes_kept (
      instance_id TEXT NOT NULL,
      name        TEXT NOT NULL,
      value            NOT NULL,
      PRIMARY KEY (instance_id, name)
    ) WITHOUT ROWID;
    INSERT INTO instance_attributes_kept SELECT instance_id, name, value FROM instance_attributes;
    DROP TABLE instance_attributes;
    ALTER TABLE instance_attributes_kept RENAME TO instance_attributes;
    CREATE INDEX instance_attributes_value ON instance_attributes (name, value, instance_id);
  )sql"},
  // A job driven by one node passes other nodes' instances on to them, and their items come
  // later: the job ends once its items number what it dealt with. The tallies so far are right.
  {11, "jobs.dealt: the instances a job has dealt with", R"sql(
    ALTER TABLE jobs ADD COLUMN dealt INTEGER NOT NULL DEFAULT 0;
    UPDATE jobs SET dealt = applied + refused;
  )sql"},
  // A WITHOUT ROWID table keeps whole rows in its interior pages too, and an event carries up to
  // kilobytes of data (a start's input, a step's result): each append split and rewrote pages
  // full of them. As a rowid table the events are appended at the end of the table, and the
  // unique index on (instance_id, seq) holds only the keys. The rows are copied in key order,
  // so that an instance's history stays together; the audit trail's index carries its order.
  {12, "events: a rowid table, keyed by a unique index", R"sql(
    CREATE TABLE events_v12 (
      instance_id TEXT    NOT NULL,
      seq         INTEGER NOT NULL,
      type        INTEGER NOT NULL,
      step        TEXT    NOT NULL DEFAULT '',
      at          INTEGER NOT NULL,
      data        TEXT    NOT NULL DEFAULT '{}',
      branch      TEXT    NOT NULL DEFAULT '',
      UNIQUE (instance_id, seq)
    );
    INSERT INTO events_v12 (instance_id, seq, type, step, at, data, branch)
      SELECT instance_id, seq, type, step, at, data, branch FROM events ORDER BY instance_id, seq;
    DROP TABLE events;
    ALTER TABLE events_v12 RENAME TO events;
    CREATE INDEX events_operator_actions ON events (at, instance_id, seq) WHERE type = 30;
  )sql"},
  // An instance's row is rewritten at every step; its context, kilobytes for a return's lines,
  // seldom changes. In its own table it is written only when it does, and the rows of the
  // instances running together share pages. Copied in the instances' order, then dropped from
  // their rows (which rewrites the table).
  {13, "instance_contexts: an instance's context apart from its row", R"sql(
    CREATE TABLE instance_contexts (
      instance_id TEXT NOT NULL PRIMARY KEY,
      context     TEXT NOT NULL DEFAULT '{}'
    );
    INSERT INTO instance_contexts (instance_id, context)
      SELECT id, context FROM instances ORDER BY rowid;
    ALTER TABLE instances DROP COLUMN context;
  )sql"},
  // An instance's view lists its pending commands, and `rmaflow commands --instance` all of
  // them: found by instance rather than by reading the whole queue.
  {14, "commands_instance: an instance's commands", R"sql(
    CREATE INDEX commands_instance ON commands (instance_id, id);
  )sql"},
}};
// clang-format on

std::int64_t now_millis() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

bool has_user_tables(SQLite::Database& db) {
  return db.execAndGet("SELECT count(*) FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%'")
             .getInt() > 0;
}

}  // namespace

std::span<const Migration> migrations() {
  return kMigrations;
}

int latest_schema_version() {
  return kMigrations.back().version;
}

void migrate(SQLite::Database& db, const std::string& path) {
  migrate(db, path, latest_schema_version());
}

int stored_schema_version(SQLite::Database& db) {
  if (!db.tableExists("schema_version")) return 0;
  return db.execAndGet("SELECT coalesce(max(version), 0) FROM schema_version").getInt();
}

void check_schema(SQLite::Database& db, const std::string& path, bool read_only) {
  const int stored = stored_schema_version(db);
  if (stored == 0 && has_user_tables(db)) {
    throw Error(Errc::storage,
                fmt::format("{} is a SQLite database but not an rmaflow database", path));
  }
  if (stored == 0 && read_only) {
    throw Error(Errc::storage,
                fmt::format("{} is an empty database, not an rmaflow one yet", path));
  }
  if (stored > latest_schema_version()) {
    throw Error(Errc::storage,
                fmt::format("{} has schema version {}, newer than this rmaflow supports ({}); "
                            "use a newer rmaflow",
                            path, stored, latest_schema_version()));
  }
  if (read_only && stored < latest_schema_version()) {
    throw Error(Errc::storage,
                fmt::format("{} has schema version {} and needs migrating to {}; open it once "
                            "read-write (run the engine on it) first",
                            path, stored, latest_schema_version()));
  }
}

void migrate(SQLite::Database& db, const std::string& path, int up_to) {
  for (const Migration& m : kMigrations) {
    if (m.version > up_to) break;
    if (stored_schema_version(db) >= m.version) continue;
    SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
    // Re-read under the write lock: another process may have applied it meanwhile.
    const int stored = stored_schema_version(db);
    if (stored >= m.version) continue;
    if (stored != m.version - 1) {
      throw Error(Errc::storage,
                  fmt::format("{} is at schema version {}, cannot apply migration {}", path, stored,
                              m.version));
    }
    db.exec(m.sql);
    SQLite::Statement record(db, "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)");
    record.bind(1, m.version);
    record.bind(2, static_cast<std::int64_t>(now_millis()));
    record.exec();
    fault_point("migrate.applied");
    tx.commit();
  }
}

}  // namespace rmaflow::store
