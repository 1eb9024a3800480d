#include "engine/store/retention.hpp"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <limits>
#include <optional>

#include <nlohmann/json.hpp>

#include "engine/store/connection.hpp"
#include "engine/store/sqlite_error.hpp"
#include "engine/support/db_file.hpp"
#include "engine/support/fault_points.hpp"
#include "rmaflow/status.hpp"

namespace rmaflow::store {

namespace {

// Finished instances that ended before ?1, oldest end first, at most ?2; not a child whose
// parent is unfinished (the parent may still ask it to compensate).
constexpr const char* kPick =
    "SELECT id FROM instances i WHERE ended_at < ?1 AND status >= 10 AND NOT (parent_id <> '' "
    "AND EXISTS (SELECT 1 FROM instances p WHERE p.id = i.parent_id AND p.status < 10)) "
    "ORDER BY ended_at LIMIT ?2";
constexpr const char* kInBatch = "IN (SELECT id FROM temp.prune_batch)";
const int kOperatorAction = static_cast<int>(EventType::operator_action);

std::vector<std::string> pick(SQLite::Database& db, TimePoint before, std::int64_t limit) {
  SQLite::Statement q(db, kPick);
  q.bind(1, static_cast<std::int64_t>(to_millis(before)));
  q.bind(2, limit);
  std::vector<std::string> ids;
  while (q.executeStep()) ids.push_back(q.getColumn(0).getString());
  return ids;
}

void fill_batch(SQLite::Database& db, const std::vector<std::string>& ids) {
  db.exec("CREATE TEMP TABLE IF NOT EXISTS prune_batch (id TEXT PRIMARY KEY)");
  db.exec("DELETE FROM temp.prune_batch");
  SQLite::Statement insert(db, "INSERT INTO temp.prune_batch (id) VALUES (?)");
  for (const auto& id : ids) {
    insert.bind(1, id);
    insert.exec();
    insert.reset();
  }
}

std::int64_t count(SQLite::Database& db, const std::string& sql) {
  return db.execAndGet(sql).getInt64();
}

// Copies the rows of `table` that `where` selects in the attached `live` database into the
// same table of the archive, by column name (the two files may have been migrated apart).
void copy_rows(SQLite::Database& archive, const std::string& table, const std::string& where,
               const char* verb = "INSERT OR REPLACE") {
  std::vector<std::string> columns;
  SQLite::Statement info(archive, fmt::format("PRAGMA main.table_info({})", table));
  while (info.executeStep()) columns.push_back(info.getColumn(1).getString());
  auto list = fmt::format("{}", fmt::join(columns, ", "));
  archive.exec(fmt::format("{0} INTO main.{1} ({2}) SELECT {2} FROM live.{1} WHERE {3}", verb,
                           table, list, where));
}

// Appends the batch's operator actions to `file` as JSON Lines, synced to disk.
std::int64_t export_audit(SQLite::Database& live, int fd, const std::string& file) {
  SQLite::Statement q(live,
                      fmt::format("SELECT e.instance_id, i.workflow, i.business_key, e.seq, e.at, "
                                  "e.step, e.branch, e.data FROM events e JOIN instances i ON "
                                  "i.id = e.instance_id WHERE e.type = {} AND e.instance_id {} "
                                  "ORDER BY e.at, e.instance_id, e.seq",
                                  kOperatorAction, kInBatch));
  std::string out;
  std::int64_t n = 0;
  while (q.executeStep()) {
    nlohmann::json line = {
        {"instance_id", q.getColumn(0).getString()},
        {"workflow", q.getColumn(1).getString()},
        {"business_key", q.getColumn(2).getString()},
        {"seq", q.getColumn(3).getInt64()},
        {"at", format_time(from_millis(q.getColumn(4).getInt64()))},
        {"step", q.getColumn(5).getString()},
        {"branch", q.getColumn(6).getString()},
        {"data", nlohmann::json::parse(q.getColumn(7).getString(), nullptr, false)}};
    out += line.dump();
    out += '\n';
    ++n;
  }
  for (std::size_t at = 0; at < out.size();) {
    auto wrote = ::write(fd, out.data() + at, out.size() - at);
    if (wrote < 0 && errno == EINTR) continue;
    if (wrote <= 0) {
      throw Error(Errc::io, fmt::format("cannot write the audit trail to {}: {}", file,
                                        std::strerror(errno)));
    }
    at += static_cast<std::size_t>(wrote);
  }
  if (::fsync(fd) != 0) {
    throw Error(Errc::io,
                fmt::format("cannot sync the audit trail to {}: {}", file, std::strerror(errno)));
  }
  return n;
}

PruneReport dry_run(SQLite::Database& live, const PruneOptions& o) {
  PruneReport report;
  auto ids = pick(live, o.ended_before, std::numeric_limits<std::int64_t>::max());
  report.instances = static_cast<std::int64_t>(ids.size());
  for (std::size_t i = 0; i < ids.size() && i < 20; ++i) report.first_ids.push_back(ids[i]);
  fill_batch(live, ids);
  report.audit_records =
      count(live, fmt::format("SELECT count(*) FROM events WHERE type = {} AND instance_id {}",
                              kOperatorAction, kInBatch));
  report.events =
      count(live, fmt::format("SELECT count(*) FROM events WHERE instance_id {}", kInBatch));
  if (o.export_audit.empty()) report.events -= report.audit_records;
  return report;
}

class AuditFile {
 public:
  explicit AuditFile(const std::string& path) : path_(path) {
    if (path.empty()) return;
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd_ < 0) {
      throw Error(Errc::io, fmt::format("cannot open {} to export the audit trail: {}", path,
                                        std::strerror(errno)));
    }
  }
  ~AuditFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  AuditFile(const AuditFile&) = delete;
  AuditFile& operator=(const AuditFile&) = delete;
  int fd() const { return fd_; }

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace

PruneReport prune_database(const PruneOptions& o) {
  std::string live_path = canonical_db_path(o.db);
  std::error_code ec;
  if (!std::filesystem::exists(live_path, ec)) {
    throw Error(Errc::not_found, fmt::format("no database at {}", o.db));
  }
  if (!o.archive.empty() && canonical_db_path(o.archive) == live_path) {
    throw Error(
        Errc::invalid_argument,
        fmt::format("the archive {} is the database itself; archive to another file", o.archive));
  }
  SQLite::Database live = open_connection(o.db, StoreOptions{SyncMode::full, o.dry_run});
  if (o.dry_run) return guard(o.db, "read", [&] { return dry_run(live, o); });

  std::optional<SQLite::Database> archive;
  if (!o.archive.empty()) {
    archive.emplace(open_connection(o.archive, StoreOptions{SyncMode::full, false}));
    guard(o.archive, "attach the database to", [&] {
      SQLite::Statement attach(*archive, "ATTACH DATABASE ? AS live");
      attach.bind(1, live_path);
      attach.exec();
    });
  }
  AuditFile audit(o.export_audit);
  bool keep_audit = o.export_audit.empty();
  auto batch = static_cast<std::int64_t>(std::max<std::size_t>(o.batch, 1));

  PruneReport report;
  for (;;) {
    bool done = guard(o.db, "prune", [&] {
      // The write lock is held from the pick to the delete: nothing the pick saw changes.
      live.exec("BEGIN IMMEDIATE");
      try {
        auto ids = pick(live, o.ended_before, batch);
        if (ids.empty()) {
          live.exec("ROLLBACK");
          return true;
        }
        fill_batch(live, ids);
        if (archive) {
          guard(o.archive, "archive to", [&] {
            fill_batch(*archive, ids);
            archive->exec("BEGIN");
            try {
              copy_rows(*archive, "definitions",
                        fmt::format("EXISTS (SELECT 1 FROM live.instances i WHERE i.id {} AND "
                                    "i.workflow = definitions.name AND i.version = "
                                    "definitions.version)",
                                    kInBatch),
                        "INSERT OR IGNORE");
              copy_rows(*archive, "instances", fmt::format("id {}", kInBatch));
              copy_rows(*archive, "instance_contexts", fmt::format("instance_id {}", kInBatch));
              copy_rows(*archive, "events", fmt::format("instance_id {}", kInBatch));
              copy_rows(*archive, "signals", fmt::format("instance_id {}", kInBatch));
              copy_rows(*archive, "instance_attributes", fmt::format("instance_id {}", kInBatch));
              archive->exec("COMMIT");
            } catch (...) {
              archive->exec("ROLLBACK");
              throw;
            }
          });
          fault_point("prune.archived");
        }
        if (keep_audit) {
          report.audit_records += count(
              live, fmt::format("SELECT count(*) FROM events WHERE type = {} AND instance_id {}",
                                kOperatorAction, kInBatch));
        } else {
          report.audit_records += export_audit(live, audit.fd(), o.export_audit);
        }
        std::string events_where = fmt::format("instance_id {}", kInBatch);
        if (keep_audit) events_where += fmt::format(" AND type <> {}", kOperatorAction);
        report.events += live.exec(fmt::format("DELETE FROM events WHERE {}", events_where));
        live.exec(fmt::format("DELETE FROM signals WHERE instance_id {}", kInBatch));
        live.exec(fmt::format("DELETE FROM timers WHERE instance_id {}", kInBatch));
        live.exec(fmt::format("DELETE FROM instance_attributes WHERE instance_id {}", kInBatch));
        SQLite::Statement tomb(
            live, fmt::format("INSERT OR REPLACE INTO pruned_instances (id, workflow, version, "
                              "business_key, status, ended_at, pruned_at, archive) SELECT id, "
                              "workflow, version, business_key, status, ended_at, ?, ? FROM "
                              "instances WHERE id {}",
                              kInBatch));
        tomb.bind(1, static_cast<std::int64_t>(to_millis(o.now)));
        tomb.bind(2, o.archive.empty() ? std::string() : canonical_db_path(o.archive));
        tomb.exec();
        live.exec(fmt::format("DELETE FROM instance_contexts WHERE instance_id {}", kInBatch));
        live.exec(fmt::format("DELETE FROM instances WHERE id {}", kInBatch));
        fault_point("prune.before_commit");
        live.exec("COMMIT");
        report.instances += static_cast<std::int64_t>(ids.size());
        return false;
      } catch (...) {
        if (sqlite3_get_autocommit(live.getHandle()) == 0) {
          try {
            live.exec("ROLLBACK");
          } catch (const SQLite::Exception&) {  // the error being thrown says what went wrong
          }
        }
        throw;
      }
    });
    if (done) break;
  }
  return report;
}

}  // namespace rmaflow::store
