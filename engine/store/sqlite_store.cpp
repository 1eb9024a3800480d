#include "engine/store/sqlite_store.hpp"

#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <fmt/format.h>
#include <sqlite3.h>

#include <limits>

#include "engine/store/audit_query.hpp"
#include "engine/store/connection.hpp"
#include "engine/store/instance_query.hpp"
#include "engine/store/row_codec.hpp"
#include "engine/store/sqlite_error.hpp"

namespace rmaflow {

std::unique_ptr<Store> open_sqlite_store(const std::string& path, const StoreOptions& options) {
  return std::make_unique<store::SqliteStore>(path, options);
}

namespace store {

namespace {

// Every row a statement yields, through `read`.
template <class Read>
auto read_all(SQLite::Statement& statement, Read read) {
  std::vector<decltype(read(statement))> rows;
  while (statement.executeStep()) rows.push_back(read(statement));
  return rows;
}

// The first row a statement yields, if any.
template <class Read>
auto read_one(SQLite::Statement& statement, Read read) -> std::optional<decltype(read(statement))> {
  if (!statement.executeStep()) return std::nullopt;
  return read(statement);
}

std::string select_from(const char* columns, const char* table, const char* rest) {
  return fmt::format("SELECT {} FROM {} {}", columns, table, rest);
}

// For the tables whose key SQLite assigns, which the readers expect first.
std::string select_from(const char* columns, const char* table, const char* rest, const char* key) {
  return fmt::format("SELECT {}, {} FROM {} {}", key, columns, table, rest);
}

// A LIMIT parameter: SQLite reads a negative LIMIT as "no limit"; a limit past int64 means
// the same.
std::int64_t sql_limit(std::size_t limit) {
  constexpr auto kMax = static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
  return limit > kMax ? std::int64_t{-1} : static_cast<std::int64_t>(limit);
}

}  // namespace

namespace {

std::optional<EngineLock> engine_lock(const std::string& path, const StoreOptions& options) {
  if (!options.engine) return std::nullopt;
  if (options.read_only) {
    throw Error(Errc::invalid_argument,
                fmt::format("the engine's store on {} cannot be read-only", path));
  }
  refuse_foreign_file(path);  // before the lock file is made beside it
  return std::optional<EngineLock>(std::in_place, path);
}

}  // namespace

SqliteStore::SqliteStore(const std::string& path, const StoreOptions& options)
    : path_(path), lock_(engine_lock(path, options)), db_(open_connection(path, options)) {
  if (!options.read_only) {
    guard(path_, "prepare statements on", [&] {
      writer_.emplace(db_, path_);
      // An engine commits without pause; a store opened to write a command or a migration
      // keeps SQLite's own checkpoint rather than start a thread and a connection.
      if (options.engine) checkpointer_.emplace(db_, db_.getFilename());
    });
  }
}

void SqliteStore::require_writable(const char* action) const {
  if (!writer_) {
    throw Error(Errc::storage,
                fmt::format("cannot {} {}: the store was opened read-only", action, path_));
  }
}

PutResult SqliteStore::put_definition(const DefinitionRow& row) {
  require_writable("deploy a definition to");
  return guard(path_, "deploy a definition to", [&] {
    SQLite::Transaction tx(db_, SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement existing(
        db_, "SELECT content_hash FROM definitions WHERE name = ? AND version = ?");
    existing.bind(1, row.name);
    existing.bind(2, row.version);
    if (existing.executeStep()) {
      if (existing.getColumn(0).getString() == row.content_hash) return PutResult::unchanged;
      throw Error(Errc::conflict,
                  fmt::format("workflow {} version {} is already deployed with different content; "
                              "deploy the change as a new version",
                              row.name, row.version));
    }
    SQLite::Statement insert(
        db_, fmt::format("INSERT INTO definitions ({}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                         kDefinitionColumns));
    bind_definition(insert, row);
    insert.exec();
    tx.commit();
    return PutResult::inserted;
  });
}

std::optional<DefinitionRow> SqliteStore::get_definition(const std::string& name, int version) {
  return guard(path_, "read definitions from", [&] {
    auto use = statements_.get(
        select_from(kDefinitionColumns, "definitions", "WHERE name = ? AND version = ?"));
    auto& s = *use;
    s.bind(1, name);
    s.bind(2, version);
    return read_one(s, read_definition);
  });
}

std::optional<DefinitionRow> SqliteStore::latest_definition(const std::string& name) {
  return guard(path_, "read definitions from", [&] {
    auto use = statements_.get(select_from(kDefinitionColumns, "definitions",
                                           "WHERE name = ? ORDER BY version DESC LIMIT 1"));
    auto& s = *use;
    s.bind(1, name);
    return read_one(s, read_definition);
  });
}

std::vector<DefinitionRow> SqliteStore::list_definitions() {
  return guard(path_, "read definitions from", [&] {
    auto use =
        statements_.get(select_from(kDefinitionColumns, "definitions", "ORDER BY name, version"));
    auto& s = *use;
    return read_all(s, read_definition);
  });
}

CommitReceipt SqliteStore::commit(const WriteBatch& batch) {
  require_writable("commit to");
  if (batch.empty()) return {};
  return guard(path_, "commit to", [&] {
    SQLite::Transaction tx(db_, SQLite::TransactionBehavior::IMMEDIATE);
    auto receipt = writer_->apply(batch);
    tx.commit();
    return receipt;
  });
}

void SqliteStore::prepare_for_commits() {
  if (!checkpointer_) return;
  try {
    // An empty write transaction: no other connection adds to the log meanwhile.
    SQLite::Transaction tx(db_, SQLite::TransactionBehavior::IMMEDIATE);
    checkpointer_->lay_out_log();
    tx.commit();
  } catch (const SQLite::Exception&) {
    // The write lock not had in time (busy_timeout): the log grows as it is written.
  }
}

std::optional<InstanceRow> SqliteStore::get_instance(const std::string& id) {
  return guard(path_, "read instances from", [&] {
    auto use = statements_.get(
        select_from(sqlite_instance_columns().c_str(), "instances", "WHERE id = ?"));
    auto& s = *use;
    s.bind(1, id);
    return read_one(s, read_instance);
  });
}

std::optional<InstanceRow> SqliteStore::find_by_business_key(const std::string& workflow,
                                                             const std::string& key) {
  if (key.empty()) return std::nullopt;  // an empty key means "none" and identifies nothing
  return guard(path_, "read instances from", [&] {
    // The literal `business_key <> ''` lets SQLite use the partial unique index.
    auto use = statements_.get(select_from(sqlite_instance_columns().c_str(), "instances",
                                           "WHERE workflow = ? AND business_key = ? "
                                           "AND business_key <> ''"));
    auto& s = *use;
    s.bind(1, workflow);
    s.bind(2, key);
    return read_one(s, read_instance);
  });
}

void SqliteStore::read_together(const std::function<void()>& reads) {
  if (sqlite3_get_autocommit(db_.getHandle()) == 0) {  // inside a transaction already
    reads();
    return;
  }
  // Deferred: the read transaction begins with the first read and ends here.
  guard(path_, "read from", [&] { statements_.get("BEGIN")->exec(); });
  try {
    reads();
    guard(path_, "read from", [&] { statements_.get("COMMIT")->exec(); });
  } catch (...) {
    // Whatever failed, the reads or the COMMIT, the connection goes back to autocommit: a
    // transaction left open would show every later read of this connection an old state.
    // Cannot fail for a read transaction (and finding none open is harmless).
    sqlite3_exec(db_.getHandle(), "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

std::vector<InstanceRow> SqliteStore::list_instances(const InstanceFilter& filter) {
  return guard(path_, "read instances from", [&] {
    auto use = select_instances(statements_, filter);
    auto& s = *use;
    return read_all(s, read_instance);
  });
}

std::map<InstanceStatus, std::int64_t> SqliteStore::count_by_status() {
  return guard(path_, "count instances in", [&] {
    // Answered from the instances_status index alone.
    auto use = statements_.get("SELECT status, COUNT(*) FROM instances GROUP BY status");
    auto& s = *use;
    std::map<InstanceStatus, std::int64_t> counts;
    while (s.executeStep()) {
      counts[static_cast<InstanceStatus>(s.getColumn(0).getInt())] = s.getColumn(1).getInt64();
    }
    return counts;
  });
}

std::vector<InstanceRow> SqliteStore::active_instances() {
  InstanceFilter filter;
  filter.statuses = {InstanceStatus::running, InstanceStatus::compensating};
  filter.limit = std::numeric_limits<std::size_t>::max();  // all of them
  return list_instances(filter);
}

std::vector<EventRow> SqliteStore::history(const std::string& id) {
  return guard(path_, "read the history from", [&] {
    auto use =
        statements_.get(select_from(kEventColumns, "events", "WHERE instance_id = ? ORDER BY seq"));
    auto& s = *use;
    s.bind(1, id);
    return read_all(s, read_event);
  });
}

std::vector<StepCount> SqliteStore::count_unfinished(const std::string& workflow) {
  return guard(path_, "count instances in", [&] {
    // Final statuses are 10 and up (status.hpp); the range lets SQLite use instances_status.
    // Every cursor counts: the main line and each branch stand at a step of their own.
    auto use = statements_.get(
        fmt::format("SELECT workflow, version, json_extract(c.value, '$.step') AS at, "
                    "status, count(*) FROM instances, json_each(instances.cursors) AS c "
                    "WHERE status < 10 {} GROUP BY workflow, version, at, status "
                    "ORDER BY workflow, version, at, status",
                    workflow.empty() ? "" : "AND workflow = ?"));
    auto& s = *use;
    if (!workflow.empty()) s.bind(1, workflow);
    return read_all(s, [](const SQLite::Statement& row) {
      return StepCount{row.getColumn(0).getString(), row.getColumn(1).getInt(),
                       row.getColumn(2).getString(),
                       static_cast<InstanceStatus>(row.getColumn(3).getInt()),
                       row.getColumn(4).getInt64()};
    });
  });
}

std::vector<InstanceTally> SqliteStore::tally_instances(TimePoint since, Duration bucket) {
  if (bucket.count() <= 0) throw Error(Errc::invalid_argument, "a tally's interval must be positive");
  return guard(path_, "count instances in", [&] {
    // One pass over the instances; SQLite aggregates, so only the counts come back.
    auto use = statements_.get(
        "SELECT workflow, status, "
        "CASE WHEN created_at >= ?1 THEN (created_at - ?1) / ?2 ELSE -1 END, "
        "CASE WHEN ended_at >= ?1 THEN (ended_at - ?1) / ?2 ELSE -1 END, "
        "count(*) FROM instances GROUP BY 1, 2, 3, 4");
    auto& s = *use;
    s.bind(1, static_cast<std::int64_t>(to_millis(since)));
    s.bind(2, static_cast<std::int64_t>(bucket.count()));
    return read_all(s, [](const SQLite::Statement& row) {
      return InstanceTally{row.getColumn(0).getString(),
                           static_cast<InstanceStatus>(row.getColumn(1).getInt()),
                           row.getColumn(2).getInt(), row.getColumn(3).getInt(),
                           row.getColumn(4).getInt64()};
    });
  });
}

std::vector<EventRow> SqliteStore::audit_trail(const AuditFilter& filter) {
  return guard(path_, "read the audit trail from", [&] {
    auto use = select_audit_trail(statements_, filter);
    auto& s = *use;
    return read_all(s, read_event);
  });
}

std::vector<TimerRow> SqliteStore::due_timers(TimePoint until, std::size_t limit) {
  return guard(path_, "read timers from", [&] {
    auto use = statements_.get(select_from(
        kTimerColumns, "timers", "WHERE due <= ? ORDER BY due, instance_id, branch, name LIMIT ?"));
    auto& s = *use;
    s.bind(1, static_cast<std::int64_t>(to_millis(until)));
    s.bind(2, static_cast<std::int64_t>(limit));
    return read_all(s, read_timer);
  });
}

std::optional<SignalRow> SqliteStore::find_signal(const std::string& instance_id,
                                                  const std::string& idempotency_key) {
  return guard(path_, "read signals from", [&] {
    auto use = statements_.get(select_from(kSignalColumns, "signals",
                                           "WHERE instance_id = ? AND idempotency_key = ?", "seq"));
    auto& s = *use;
    s.bind(1, instance_id);
    s.bind(2, idempotency_key);
    return read_one(s, read_signal);
  });
}

std::optional<SignalRow> SqliteStore::oldest_pending_signal(const std::string& instance_id,
                                                            const std::string& name) {
  return guard(path_, "read signals from", [&] {
    // The literal `consumed_at IS NULL` lets SQLite use the partial index signals_pending.
    auto use = statements_.get(select_from(kSignalColumns, "signals",
                                           "WHERE instance_id = ? AND name = ? "
                                           "AND consumed_at IS NULL ORDER BY seq LIMIT 1",
                                           "seq"));
    auto& s = *use;
    s.bind(1, instance_id);
    s.bind(2, name);
    return read_one(s, read_signal);
  });
}

std::vector<SignalRow> SqliteStore::signals(const std::string& instance_id) {
  return guard(path_, "read signals from", [&] {
    auto use = statements_.get(
        select_from(kSignalColumns, "signals", "WHERE instance_id = ? ORDER BY seq", "seq"));
    auto& s = *use;
    s.bind(1, instance_id);
    return read_all(s, read_signal);
  });
}

nlohmann::json SqliteStore::attributes(const std::string& instance_id) {
  return guard(path_, "read search attributes from", [&] {
    auto use = statements_.get(
        "SELECT name, value FROM instance_attributes WHERE instance_id = ? ORDER "
        "BY name");
    auto& s = *use;
    s.bind(1, instance_id);
    nlohmann::json out = nlohmann::json::object();
    while (s.executeStep()) {
      auto value = s.getColumn(1);
      if (value.isInteger()) {
        out[s.getColumn(0).getString()] = value.getInt64();
      } else if (value.isFloat()) {
        out[s.getColumn(0).getString()] = value.getDouble();
      } else {
        out[s.getColumn(0).getString()] = value.getString();
      }
    }
    return out;
  });
}

std::int64_t SqliteStore::add_command(const CommandRow& command) {
  require_writable("add a command to");
  return guard(path_, "add a command to", [&] {
    // Its own short write transaction: it waits (busy_timeout) for an engine's commit in
    // progress instead of failing, and holds the lock only for one insert.
    SQLite::Transaction tx(db_, SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement insert(
        db_,
        fmt::format("INSERT INTO commands ({}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)", kCommandColumns));
    bind_command(insert, command);
    insert.exec();
    const std::int64_t id = db_.getLastInsertRowid();
    tx.commit();
    return id;
  });
}

std::vector<CommandRow> SqliteStore::pending_commands(std::size_t limit) {
  return guard(path_, "read commands from", [&] {
    // The literal `outcome = ''` lets SQLite use the partial index commands_pending.
    auto use = statements_.get(
        select_from(kCommandColumns, "commands", "WHERE outcome = '' ORDER BY id LIMIT ?", "id"));
    auto& s = *use;
    s.bind(1, sql_limit(limit));
    return read_all(s, read_command);
  });
}

std::optional<CommandRow> SqliteStore::get_command(std::int64_t id) {
  return guard(path_, "read commands from", [&] {
    auto use = statements_.get(select_from(kCommandColumns, "commands", "WHERE id = ?", "id"));
    auto& s = *use;
    s.bind(1, static_cast<std::int64_t>(id));
    return read_one(s, read_command);
  });
}

std::vector<CommandRow> SqliteStore::list_commands(const std::string& instance_id,
                                                   bool pending_only, std::size_t limit) {
  return guard(path_, "read commands from", [&] {
    // The newest `limit`, returned oldest first. An instance's are found through the index
    // commands_instance (`?1` left out of the text when there is no instance, not tested in it,
    // so that SQLite can use it); `?2` is the limit either way.
    std::string where = std::string(instance_id.empty() ? "WHERE 1" : "WHERE instance_id = ?1") +
                        (pending_only ? " AND outcome = ''" : "") + " ORDER BY id DESC LIMIT ?2";
    auto use =
        statements_.get(fmt::format("SELECT * FROM ({}) ORDER BY id",
                                    select_from(kCommandColumns, "commands", where.c_str(), "id")));
    auto& s = *use;
    s.bind(1, instance_id);
    s.bind(2, sql_limit(limit));
    return read_all(s, read_command);
  });
}

bool SqliteStore::withdraw_command(std::int64_t id, TimePoint at, const std::string& outcome) {
  require_writable("withdraw a command from");
  return guard(path_, "withdraw a command from", [&] {
    SQLite::Transaction tx(db_, SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement update(
        db_, "UPDATE commands SET applied_at = ?1, outcome = ?2 WHERE id = ?3 AND outcome = ''");
    update.bind(1, to_millis(at));
    update.bind(2, outcome);
    update.bind(3, id);
    bool withdrawn = update.exec() == 1;
    tx.commit();
    return withdrawn;
  });
}

std::optional<JobRow> SqliteStore::get_job(const std::string& id) {
  return guard(path_, "read jobs from", [&] {
    auto use = statements_.get(select_from(kJobColumns, "jobs", "WHERE id = ?"));
    auto& s = *use;
    s.bind(1, id);
    return read_one(s, read_job);
  });
}

std::vector<JobRow> SqliteStore::list_jobs(const std::string& before_id, std::size_t limit) {
  return guard(path_, "read jobs from", [&] {
    auto use = statements_.get(
        select_from(kJobColumns, "jobs", "WHERE ?1 = '' OR id < ?1 ORDER BY id DESC LIMIT ?2"));
    auto& s = *use;
    s.bind(1, before_id);
    s.bind(2, sql_limit(limit));
    return read_all(s, read_job);
  });
}

std::vector<JobRow> SqliteStore::running_jobs() {
  return guard(path_, "read jobs from", [&] {
    auto use =
        statements_.get(select_from(kJobColumns, "jobs", "WHERE state = 'running' ORDER BY id"));
    auto& s = *use;
    return read_all(s, read_job);
  });
}

std::vector<JobItemRow> SqliteStore::job_items(const std::string& job_id,
                                               const std::string& after_instance, bool refused_only,
                                               std::size_t limit) {
  return guard(path_, "read job items from", [&] {
    std::string where = std::string("WHERE job_id = ?1 AND instance_id > ?2") +
                        (refused_only ? " AND applied = 0" : "") + " ORDER BY instance_id LIMIT ?3";
    auto use = statements_.get(select_from(kJobItemColumns, "job_items", where.c_str()));
    auto& s = *use;
    s.bind(1, job_id);
    s.bind(2, after_instance);
    s.bind(3, sql_limit(limit));
    return read_all(s, read_job_item);
  });
}

std::string SqliteStore::pragma(const std::string& name) {
  return guard(path_, "read a pragma from",
               [&] { return db_.execAndGet(fmt::format("PRAGMA {}", name)).getString(); });
}

}  // namespace store

}  // namespace rmaflow
