#include "engine/store/pg_store.hpp"

#include <fmt/format.h>

#include <chrono>

#include "engine/store/pg_batch_writer.hpp"
#include "engine/store/pg_pipeline.hpp"
#include "engine/store/pg_queries.hpp"
#include "engine/store/pg_rows.hpp"
#include "engine/store/pg_schema.hpp"

namespace rmaflow {

std::unique_ptr<Store> open_postgres_store(const std::string& uri, const StoreOptions& options) {
  return std::make_unique<store::PgStore>(uri, options);
}

namespace store {

namespace {

// The engine's session advisory lock, per database: "rmaflow" in ASCII.
constexpr std::int64_t kEngineLockKey = 0x726d61666c6f7700;
// How long an engine's store waits for the lock a vanished holder's session still has.
constexpr std::chrono::milliseconds kEngineLockWait{2000};

std::string pg_select_from(const char* columns, const char* table, const char* rest) {
  return fmt::format("SELECT {} FROM {} {}", columns, table, rest);
}

// For the tables whose key the database assigns, which the readers expect first.
std::string pg_select_from(const char* columns, const char* table, const char* rest,
                           const char* key) {
  return fmt::format("SELECT {}, {} FROM {} {}", key, columns, table, rest);
}

// Who holds the engine's lock, as PostgreSQL sees the session: "" when it cannot tell.
std::string lock_holder(PgConnection& connection) {
  try {
    auto holder = connection.exec(
        "SELECT a.pid, coalesce(a.application_name, ''), coalesce(host(a.client_addr), 'local')"
        " FROM pg_locks AS l JOIN pg_stat_activity AS a ON a.pid = l.pid"
        " WHERE l.locktype = 'advisory' AND l.granted AND l.database = ("
        "   SELECT oid FROM pg_database WHERE datname = current_database())"
        " AND l.classid = ($1::bigint >> 32)::oid AND l.objid = ($1::bigint & 4294967295)::oid"
        " AND l.objsubid = 1",
        PgParams().add(kEngineLockKey));
    if (holder.rows() == 0) return "";
    return fmt::format(" (server process {}, application \"{}\", client {})", holder.text(0, 0),
                       holder.text(0, 1), holder.text(0, 2));
  } catch (const PgFailure&) {
    return "";
  }
}

}  // namespace

// SyncMode is SQLite's: on PostgreSQL the server's synchronous_commit decides how durable a
// commit is (docs/postgresql.md), so options.sync is not used.
PgStore::PgStore(const std::string& uri, const StoreOptions& options)
    : options_(options),
      connection_(uri, [this](PgConnection& connection) { set_up_session(connection); }) {
  pg_prepare_schema(connection_, options_.read_only);
  if (!options_.node.empty()) {
    if (!options_.engine || options_.read_only) {
      throw Error(Errc::invalid_argument, "only an engine's store joins the nodes of a database");
    }
    register_node();
  }
}

void PgStore::set_up_session(PgConnection& connection) {
  pg_guard(connection, "open", [&] {
    if (options_.read_only) connection.exec("SET default_transaction_read_only = on");
    if (!options_.engine) return;
    // Nodes share the lock; the database's only engine holds it alone. Either kind keeps the
    // other out.
    const bool node = !options_.node.empty();
    const char* lock_kind = node ? "_shared" : "";
    auto granted = connection.exec(fmt::format("SELECT pg_try_advisory_lock{}($1)", lock_kind),
                                   PgParams().add(kEngineLockKey));
    if (granted.text(0, 0) == "t") return;
    // A killed engine's session holds the lock until the server sees its connection close,
    // which takes it a moment: its successor waits that long, and no longer.
    try {
      connection.exec(fmt::format("SET lock_timeout = '{}ms'", kEngineLockWait.count()));
      connection.exec(fmt::format("SELECT pg_advisory_lock{}($1)", lock_kind),
                      PgParams().add(kEngineLockKey));
      connection.exec("RESET lock_timeout");
    } catch (const PgFailure& e) {
      if (e.sqlstate() != "55P03") throw;  // lock_not_available: someone holds it
      connection.exec("RESET lock_timeout");
      throw Error(Errc::conflict, fmt::format("another rmaflow engine is running on {}{}{}",
                                              connection.display(), lock_holder(connection),
                                              node ? " alone (without --node): nodes cannot join it"
                                                   : ", as one of several nodes (--node)"));
    }
  });
}

void PgStore::require_writable(const char* action) const {
  if (options_.read_only) {
    throw Error(Errc::storage, fmt::format("cannot {} {}: the store was opened read-only", action,
                                           connection_.display()));
  }
}

PutResult PgStore::put_definition(const DefinitionRow& row) {
  require_writable("deploy a definition to");
  return pg_guard(connection_, "deploy a definition to", [&] {
    auto inserted = connection_.exec(
        fmt::format("INSERT INTO definitions ({}) VALUES ($1, $2, $3, $4, $5, $6, $7) "
                    "ON CONFLICT (name, version) DO NOTHING",
                    kDefinitionColumns),
        pg_definition_params(row));
    if (inserted.affected() == 1) return PutResult::inserted;
    auto existing =
        connection_.exec("SELECT content_hash FROM definitions WHERE name = $1 AND version = $2",
                         PgParams().add(row.name).add(row.version));
    if (existing.rows() == 1 && existing.text(0, 0) == row.content_hash) {
      return PutResult::unchanged;
    }
    throw Error(Errc::conflict,
                fmt::format("workflow {} version {} is already deployed with different content; "
                            "deploy the change as a new version",
                            row.name, row.version));
  });
}

std::optional<DefinitionRow> PgStore::get_definition(const std::string& name, int version) {
  return pg_guard(connection_, "read definitions from", [&] {
    auto r = connection_.query(
        pg_select_from(kDefinitionColumns, "definitions", "WHERE name = $1 AND version = $2"),
        PgParams().add(name).add(version));
    return pg_read_one(r, read_definition_columns<PgColumns>);
  });
}

std::optional<DefinitionRow> PgStore::latest_definition(const std::string& name) {
  return pg_guard(connection_, "read definitions from", [&] {
    auto r = connection_.query(pg_select_from(kDefinitionColumns, "definitions",
                                              "WHERE name = $1 ORDER BY version DESC LIMIT 1"),
                               PgParams().add(name));
    return pg_read_one(r, read_definition_columns<PgColumns>);
  });
}

std::vector<DefinitionRow> PgStore::list_definitions() {
  return pg_guard(connection_, "read definitions from", [&] {
    auto r = connection_.query(
        pg_select_from(kDefinitionColumns, "definitions", "ORDER BY name, version"));
    return pg_read_all(r, read_definition_columns<PgColumns>);
  });
}

CommitReceipt PgStore::commit(const WriteBatch& batch) {
  require_writable("commit to");
  if (batch.empty()) return {};
  if (fenced_) {
    throw LeaseLost(
        fmt::format("node {} gave its leases on {} up or lost them: it commits "
                    "nothing more",
                    options_.node, connection_.display()));
  }
  try {
    return pg_guard(connection_, "commit to", [&] {
      PgTransaction tx(connection_);
      auto receipt =
          is_node() ? pg_apply_batch(connection_, batch, [this](PgPipeline& p) { send_fence(p); })
                    : pg_apply_batch(connection_, batch);
      tx.commit();
      return receipt;
    });
  } catch (const LeaseLost&) {
    fenced_ = true;
    throw;
  }
}

std::optional<InstanceRow> PgStore::get_instance(const std::string& id) {
  return pg_guard(connection_, "read instances from", [&] {
    auto r = connection_.query(pg_select_from(kInstanceColumns, "instances", "WHERE id = $1"),
                               PgParams().add(id));
    return pg_read_one(r, read_instance_columns<PgColumns>);
  });
}

std::optional<InstanceRow> PgStore::find_by_business_key(const std::string& workflow,
                                                         const std::string& key) {
  if (key.empty()) return std::nullopt;  // an empty key means "none" and identifies nothing
  return pg_guard(connection_, "read instances from", [&] {
    // The literal `business_key <> ''` lets the planner use the partial unique index.
    auto r = connection_.query(pg_select_from(kInstanceColumns, "instances",
                                              "WHERE workflow = $1 AND business_key = $2 "
                                              "AND business_key <> ''"),
                               PgParams().add(workflow).add(key));
    return pg_read_one(r, read_instance_columns<PgColumns>);
  });
}

void PgStore::read_together(const std::function<void()>& reads) {
  if (connection_.in_transaction()) {
    reads();
    return;
  }
  std::optional<PgTransaction> tx;
  pg_guard(connection_, "read from",
           [&] { tx.emplace(connection_, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"); });
  reads();  // what it throws rolls the transaction back
  pg_guard(connection_, "read from", [&] { tx->commit(); });
}

std::vector<InstanceRow> PgStore::list_instances(const InstanceFilter& filter) {
  check_attribute_count(filter.attributes);
  return pg_guard(connection_, "read instances from", [&] {
    auto query = pg_select_instances(filter);
    // Planned for its values at each call, as every filtered list here (PgConnection::query).
    return pg_read_all(connection_.exec(query.sql, query.params), read_instance_columns<PgColumns>);
  });
}

std::map<InstanceStatus, std::int64_t> PgStore::count_by_status() {
  return pg_guard(connection_, "count instances in", [&] {
    auto r = connection_.query("SELECT status, count(*) FROM instances GROUP BY status");
    std::map<InstanceStatus, std::int64_t> counts;
    for (int i = 0; i < r.rows(); ++i) {
      PgColumns row{r, i};
      counts[static_cast<InstanceStatus>(row.integer(0))] = row.int64(1);
    }
    return counts;
  });
}

std::vector<InstanceRow> PgStore::active_instances() {
  InstanceFilter filter;
  filter.statuses = {InstanceStatus::running, InstanceStatus::compensating};
  filter.limit = std::numeric_limits<std::size_t>::max();  // all of them
  auto rows = list_instances(filter);
  if (is_node()) {
    const ShardMask held = held_.load();
    std::erase_if(rows, [held](const InstanceRow& row) { return !holds(held, row.id); });
  }
  return rows;
}

std::vector<EventRow> PgStore::history(const std::string& id) {
  return pg_guard(connection_, "read the history from", [&] {
    auto r = connection_.query(
        pg_select_from(kEventColumns, "events", "WHERE instance_id = $1 ORDER BY seq"),
        PgParams().add(id));
    return pg_read_all(r, read_event_columns<PgColumns>);
  });
}

std::vector<StepCount> PgStore::count_unfinished(const std::string& workflow) {
  return pg_guard(connection_, "count instances in", [&] {
    // Final statuses are 10 and up (status.hpp). Every cursor counts: the main line and each
    // branch stand at a step of their own. Steps sort byte by byte, as in SQLite.
    PgParams params;
    if (!workflow.empty()) params.add(workflow);
    auto r = connection_.exec(
        fmt::format("SELECT workflow, version, (c.value ->> 'step') COLLATE \"C\" AS at, status, "
                    "count(*) FROM instances, jsonb_array_elements(instances.cursors::jsonb) "
                    "AS c(value) WHERE status < 10 {} GROUP BY workflow, version, at, status "
                    "ORDER BY workflow, version, at, status",
                    workflow.empty() ? "" : "AND workflow = $1"),
        params);
    return pg_read_all(r, [](const PgColumns& row) {
      return StepCount{row.text(0), row.integer(1), row.text(2),
                       static_cast<InstanceStatus>(row.integer(3)), row.int64(4)};
    });
  });
}

std::vector<InstanceTally> PgStore::tally_instances(TimePoint since, Duration bucket) {
  if (bucket.count() <= 0)
    throw Error(Errc::invalid_argument, "a tally's interval must be positive");
  return pg_guard(connection_, "count instances in", [&] {
    auto r = connection_.exec(
        "SELECT workflow, status, "
        "CASE WHEN created_at >= $1::bigint THEN (created_at - $1::bigint) / $2::bigint "
        "ELSE -1 END, "
        "CASE WHEN ended_at >= $1::bigint THEN (ended_at - $1::bigint) / $2::bigint ELSE -1 END, "
        "count(*) FROM instances GROUP BY 1, 2, 3, 4",
        PgParams().add(since).add(static_cast<std::int64_t>(bucket.count())));
    return pg_read_all(r, [](const PgColumns& row) {
      return InstanceTally{row.text(0), static_cast<InstanceStatus>(row.integer(1)), row.integer(2),
                           row.integer(3), row.int64(4)};
    });
  });
}

std::vector<EventRow> PgStore::audit_trail(const AuditFilter& filter) {
  return pg_guard(connection_, "read the audit trail from", [&] {
    auto query = pg_select_audit_trail(filter);
    return pg_read_all(connection_.exec(query.sql, query.params), read_event_columns<PgColumns>);
  });
}

std::vector<TimerRow> PgStore::due_timers(TimePoint until, std::size_t limit) {
  return pg_guard(connection_, "read timers from", [&] {
    PgParams params;
    params.add(until);
    pg_add_limit(params, limit);
    auto r = connection_.query(
        pg_select_from(kTimerColumns, "timers",
                       fmt::format("WHERE due <= $1{} ORDER BY due, instance_id, branch, name "
                                   "LIMIT $2",
                                   held_filter("instance_id"))
                           .c_str()),
        params);
    return pg_read_all(r, read_timer_columns<PgColumns>);
  });
}

std::optional<SignalRow> PgStore::find_signal(const std::string& instance_id,
                                              const std::string& idempotency_key) {
  return pg_guard(connection_, "read signals from", [&] {
    auto r =
        connection_.query(pg_select_from(kSignalColumns, "signals",
                                         "WHERE instance_id = $1 AND idempotency_key = $2", "seq"),
                          PgParams().add(instance_id).add(idempotency_key));
    return pg_read_one(r, read_signal_columns<PgColumns>);
  });
}

std::optional<SignalRow> PgStore::oldest_pending_signal(const std::string& instance_id,
                                                        const std::string& name) {
  return pg_guard(connection_, "read signals from", [&] {
    // The literal `consumed_at IS NULL` lets the planner use the partial index signals_pending.
    auto r = connection_.query(pg_select_from(kSignalColumns, "signals",
                                              "WHERE instance_id = $1 AND name = $2 "
                                              "AND consumed_at IS NULL ORDER BY seq LIMIT 1",
                                              "seq"),
                               PgParams().add(instance_id).add(name));
    return pg_read_one(r, read_signal_columns<PgColumns>);
  });
}

std::vector<SignalRow> PgStore::signals(const std::string& instance_id) {
  return pg_guard(connection_, "read signals from", [&] {
    auto r = connection_.query(
        pg_select_from(kSignalColumns, "signals", "WHERE instance_id = $1 ORDER BY seq", "seq"),
        PgParams().add(instance_id));
    return pg_read_all(r, read_signal_columns<PgColumns>);
  });
}

nlohmann::json PgStore::attributes(const std::string& instance_id) {
  return pg_guard(connection_, "read search attributes from", [&] {
    auto r = connection_.query(
        "SELECT name, kind, number_value, text_value FROM instance_attributes "
        "WHERE instance_id = $1 ORDER BY name",
        PgParams().add(instance_id));
    nlohmann::json out = nlohmann::json::object();
    for (int i = 0; i < r.rows(); ++i) {
      PgColumns row{r, i};
      out[row.text(0)] = pg_read_attribute_value(row, 1);
    }
    return out;
  });
}

std::int64_t PgStore::add_command(const CommandRow& command) {
  require_writable("add a command to");
  return pg_guard(connection_, "add a command to", [&] {
    // One statement, its own transaction: it waits for no engine commit (rows differ).
    auto r = connection_.exec(
        fmt::format("INSERT INTO commands ({}) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                    kCommandColumns),
        pg_command_params(command));
    return r.int64(0, 0);
  });
}

std::vector<CommandRow> PgStore::pending_commands(std::size_t limit) {
  return pg_guard(connection_, "read commands from", [&] {
    PgParams params;
    pg_add_limit(params, limit);
    auto r = connection_.query(
        pg_select_from(
            kCommandColumns, "commands",
            fmt::format("WHERE outcome = ''{} ORDER BY id LIMIT $1", held_filter("instance_id"))
                .c_str(),
            "id"),
        params);
    return pg_read_all(r, read_command_columns<PgColumns>);
  });
}

std::optional<CommandRow> PgStore::get_command(std::int64_t id) {
  return pg_guard(connection_, "read commands from", [&] {
    auto r = connection_.query(pg_select_from(kCommandColumns, "commands", "WHERE id = $1", "id"),
                               PgParams().add(id));
    return pg_read_one(r, read_command_columns<PgColumns>);
  });
}

std::vector<CommandRow> PgStore::list_commands(const std::string& instance_id, bool pending_only,
                                               std::size_t limit) {
  return pg_guard(connection_, "read commands from", [&] {
    // The newest `limit`, returned oldest first; an instance's through commands_instance.
    PgParams params;
    std::string where = "WHERE true";
    if (!instance_id.empty()) {
      params.add(instance_id);
      where = "WHERE instance_id = $1";
    }
    if (pending_only) where += " AND outcome = ''";
    pg_add_limit(params, limit);
    where += fmt::format(" ORDER BY id DESC LIMIT ${}", instance_id.empty() ? 1 : 2);
    auto r = connection_.exec(
        fmt::format("SELECT * FROM ({}) AS newest ORDER BY id",
                    pg_select_from(kCommandColumns, "commands", where.c_str(), "id")),
        params);
    return pg_read_all(r, read_command_columns<PgColumns>);
  });
}

bool PgStore::withdraw_command(std::int64_t id, TimePoint at, const std::string& outcome) {
  require_writable("withdraw a command from");
  return pg_guard(connection_, "withdraw a command from", [&] {
    auto r = connection_.exec(
        "UPDATE commands SET applied_at = $1, outcome = $2 WHERE id = $3 AND outcome = ''",
        PgParams().add(at).add(outcome).add(id));
    return r.affected() == 1;
  });
}

std::optional<JobRow> PgStore::get_job(const std::string& id) {
  return pg_guard(connection_, "read jobs from", [&] {
    auto r =
        connection_.query(pg_select_from(kJobColumns, "jobs", "WHERE id = $1"), PgParams().add(id));
    return pg_read_one(r, read_job_columns<PgColumns>);
  });
}

std::vector<JobRow> PgStore::list_jobs(const std::string& before_id, std::size_t limit) {
  return pg_guard(connection_, "read jobs from", [&] {
    PgParams params;
    params.add(before_id);
    pg_add_limit(params, limit);
    auto r =
        connection_.exec(pg_select_from(kJobColumns, "jobs",
                                        "WHERE $1::text = '' OR id < $1 ORDER BY id DESC LIMIT $2"),
                         params);
    return pg_read_all(r, read_job_columns<PgColumns>);
  });
}

std::vector<JobRow> PgStore::running_jobs() {
  return pg_guard(connection_, "read jobs from", [&] {
    auto r = connection_.query(
        pg_select_from(kJobColumns, "jobs", "WHERE state = 'running' ORDER BY id"));
    return pg_read_all(r, read_job_columns<PgColumns>);
  });
}

std::vector<JobItemRow> PgStore::job_items(const std::string& job_id,
                                           const std::string& after_instance, bool refused_only,
                                           std::size_t limit) {
  return pg_guard(connection_, "read job items from", [&] {
    std::string where = std::string("WHERE job_id = $1 AND instance_id > $2") +
                        (refused_only ? " AND applied = 0" : "") + " ORDER BY instance_id LIMIT $3";
    PgParams params;
    params.add(job_id).add(after_instance);
    pg_add_limit(params, limit);
    auto r = connection_.exec(pg_select_from(kJobItemColumns, "job_items", where.c_str()), params);
    return pg_read_all(r, read_job_item_columns<PgColumns>);
  });
}

}  // namespace store

}  // namespace rmaflow
