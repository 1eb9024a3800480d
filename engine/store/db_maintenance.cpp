#include "engine/store/db_maintenance.hpp"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <filesystem>

#include "engine/store/connection.hpp"
#include "engine/store/schema.hpp"
#include "engine/store/sqlite_error.hpp"
#include "engine/support/db_file.hpp"
#include "rmaflow/status.hpp"

namespace rmaflow::store {

namespace {

// rmaflow's own consistency rules, each a query yielding one description per offending row.
// The integer sets are the stored values of rmaflow/status.hpp.
// clang-format off
constexpr const char* kRules[] = {
  "SELECT 'instance ' || id || ' has the unknown status ' || status FROM instances "
  "WHERE status NOT IN (1, 2, 3, 4, 10, 11, 12, 13, 14, 15)",
  "SELECT 'instance ' || id || ' has a damaged document (context, visits, saga or cursors is "
  "not JSON, or it has no main line)' FROM instances "
  "LEFT JOIN instance_contexts x ON x.instance_id = instances.id "
  "WHERE NOT json_valid(coalesce(x.context, '{}')) OR NOT json_valid(visits) OR NOT json_valid(saga) "
  "OR NOT json_valid(cursors) OR json_type(cursors) <> 'array' OR json_array_length(cursors) = 0",
  "SELECT 'instance ' || i.id || ' has a cursor in the unknown phase ' || "
  "json_extract(c.value, '$.phase') FROM instances i, json_each(i.cursors) c "
  "WHERE json_valid(i.cursors) AND json_type(i.cursors) = 'array' "
  "AND coalesce(json_extract(c.value, '$.phase'), -1) NOT BETWEEN 0 AND 7",
  "SELECT 'instance ' || id || ' runs on workflow ' || workflow || ' version ' || version || "
  "', which is not deployed' FROM instances i WHERE NOT EXISTS "
  "(SELECT 1 FROM definitions d WHERE d.name = i.workflow AND d.version = i.version)",
  "SELECT 'instance ' || i.id || ' records ' || i.last_seq || ' events but its history holds ' || "
  "coalesce(e.n, 0) || ' numbered up to ' || coalesce(e.top, 0) FROM instances i "
  "LEFT JOIN (SELECT instance_id, count(*) AS n, max(seq) AS top, min(seq) AS low FROM events "
  "GROUP BY instance_id) e ON e.instance_id = i.id "
  "WHERE coalesce(e.n, 0) <> i.last_seq OR coalesce(e.top, 0) <> i.last_seq "
  "OR coalesce(e.low, 1) <> 1",
  "SELECT 'event ' || seq || ' of instance ' || instance_id || ' has data that is not JSON' "
  "FROM events WHERE NOT json_valid(data)",
  "SELECT 'the history of ' || instance_id || ' belongs to no instance' FROM events "
  "WHERE instance_id NOT IN (SELECT id FROM instances) AND NOT (type = 30 AND instance_id IN "
  "(SELECT id FROM pruned_instances)) GROUP BY instance_id",
  "SELECT 'instance ' || id || ' has no context' FROM instances "
  "WHERE id NOT IN (SELECT instance_id FROM instance_contexts)",
  "SELECT 'the context of ' || instance_id || ' belongs to no instance' FROM instance_contexts "
  "WHERE instance_id NOT IN (SELECT id FROM instances)",
  "SELECT 'timer ' || name || ' belongs to no instance (' || instance_id || ')' FROM timers "
  "WHERE instance_id NOT IN (SELECT id FROM instances)",
  "SELECT 'signal ' || seq || ' of ' || instance_id || ' has a payload that is not JSON' "
  "FROM signals WHERE NOT json_valid(payload)",
  "SELECT 'signal ' || seq || ' belongs to no instance (' || instance_id || ')' FROM signals "
  "WHERE instance_id NOT IN (SELECT id FROM instances)",
  "SELECT 'search attribute ' || name || ' belongs to no instance (' || instance_id || ')' "
  "FROM instance_attributes WHERE instance_id NOT IN (SELECT id FROM instances)",
  "SELECT 'workflow ' || name || ' version ' || version || ' has a damaged content hash' "
  "FROM definitions WHERE length(content_hash) <> 64 OR content_hash GLOB '*[^0-9a-f]*'",
  "SELECT 'workflow ' || name || ' version ' || version || ' has a damaged input schema' "
  "FROM definitions WHERE input_schema <> '' AND NOT json_valid(input_schema)",
  "SELECT 'command ' || id || ' has a body that is not JSON' FROM commands "
  "WHERE NOT json_valid(body)",
};
// clang-format on

// Event types are checked against the list the engine names (rmaflow/status.hpp), so that a new
// type is known here the moment it exists.
std::string unknown_event_type_rule() {
  std::vector<int> known;
  for (EventType t : all_event_types()) known.push_back(static_cast<int>(t));
  return fmt::format(
      "SELECT 'event ' || seq || ' of instance ' || instance_id || ' has the unknown type ' || "
      "type FROM events WHERE type NOT IN ({})",
      fmt::join(known, ", "));
}

}  // namespace

CheckReport check_database(const std::string& path, std::size_t max_problems) {
  // Opened bare, not through open_connection(): its quick check would refuse a damaged file
  // with one sentence, and this is where the damage is listed.
  std::string file = canonical_db_path(path);
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) {
    throw Error(Errc::not_found, fmt::format("no database at {}", path));
  }
  refuse_foreign_file(path);
  SQLite::Database db = guard(path, "open", [&] {
    return SQLite::Database(file, SQLite::OPEN_READONLY, kBusyTimeoutMs);
  });
  CheckReport report;
  auto note = [&](std::string problem) {
    if (report.problems.size() < max_problems) report.problems.push_back(std::move(problem));
  };
  guard(path, "check", [&] {
    SQLite::Statement integrity(db, fmt::format("PRAGMA integrity_check({})", max_problems));
    while (integrity.executeStep()) {
      auto line = integrity.getColumn(0).getString();
      if (line != "ok") note(fmt::format("SQLite: {}", line));
    }
    // Rules read rows: on pages SQLite found damaged they could fail half-way; what SQLite said
    // is the report then.
    if (!report.ok()) return;
    check_schema(db, path, /*read_only=*/true);  // an rmaflow database, of this version
    std::vector<std::string> rules(std::begin(kRules), std::end(kRules));
    rules.push_back(unknown_event_type_rule());
    for (const auto& rule : rules) {
      SQLite::Statement statement(db, rule);
      while (statement.executeStep() && report.problems.size() < max_problems) {
        note(statement.getColumn(0).getString());
      }
    }
    report.instances = db.execAndGet("SELECT count(*) FROM instances").getInt64();
    report.events = db.execAndGet("SELECT count(*) FROM events").getInt64();
  });
  return report;
}

void backup_database(const std::string& path, const std::string& to) {
  std::error_code ec;
  if (std::filesystem::exists(to, ec)) {
    throw Error(Errc::conflict, fmt::format("{} exists; a backup goes to a new file", to));
  }
  std::string target = canonical_db_path(to);
  SQLite::Database db = open_connection(path, StoreOptions{SyncMode::full, true});
  guard(path, "back up", [&] {
    // One read transaction: the copy is the database as of its start, whatever commits after.
    SQLite::Statement vacuum(db, "VACUUM INTO ?");
    vacuum.bind(1, target);
    vacuum.exec();
  });
  SQLite::Database copy = guard(to, "open the backup", [&] {
    return SQLite::Database(target, SQLite::OPEN_READONLY);
  });
  auto verdict = guard(to, "check the backup", [&] {
    return copy.execAndGet("PRAGMA quick_check").getString();
  });
  if (verdict != "ok") {
    throw Error(Errc::storage, fmt::format("the backup {} does not check: {}", to, verdict));
  }
}

}  // namespace rmaflow::store
