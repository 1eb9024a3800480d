#include "adapters/sim/sim_store.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>

namespace rmaflow::sim {

namespace {

// The system's own tables, next to the ledger's `effects` (see docs/adapters.md).
constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS documents (
  type       TEXT NOT NULL,
  id         TEXT NOT NULL,
  rma_id     TEXT NOT NULL,
  status     TEXT NOT NULL,
  body       TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (type, id)
);
CREATE INDEX IF NOT EXISTS documents_by_rma ON documents(type, rma_id);
CREATE TABLE IF NOT EXISTS jobs (
  id      INTEGER PRIMARY KEY,
  due     INTEGER NOT NULL,
  kind    TEXT NOT NULL,
  subject TEXT NOT NULL,
  body    TEXT NOT NULL,
  outcome TEXT              -- NULL while pending; then "done", "cancelled", "dropped: ..."
);
CREATE INDEX IF NOT EXISTS jobs_pending ON jobs(due) WHERE outcome IS NULL;
CREATE TABLE IF NOT EXISTS sequences (
  prefix TEXT PRIMARY KEY,
  last   INTEGER NOT NULL
);)sql";

SimDoc read_doc(SQLite::Statement& q) {
  SimDoc d;
  d.type = q.getColumn(0).getString();
  d.id = q.getColumn(1).getString();
  d.rma_id = q.getColumn(2).getString();
  d.status = q.getColumn(3).getString();
  d.body = nlohmann::json::parse(q.getColumn(4).getString());
  d.created_at = from_millis(q.getColumn(5).getInt64());
  d.updated_at = from_millis(q.getColumn(6).getInt64());
  return d;
}

SimJob read_job(SQLite::Statement& q) {
  SimJob j;
  j.id = q.getColumn(0).getInt64();
  j.due = from_millis(q.getColumn(1).getInt64());
  j.kind = q.getColumn(2).getString();
  j.subject = q.getColumn(3).getString();
  j.body = nlohmann::json::parse(q.getColumn(4).getString());
  return j;
}

constexpr const char* kDocColumns = "type, id, rma_id, status, body, created_at, updated_at";
constexpr const char* kJobColumns = "id, due, kind, subject, body";

}  // namespace

std::optional<SimDoc> SimTx::get(std::string_view type, std::string_view id) {
  SQLite::Statement q(db_, fmt::format("SELECT {} FROM documents WHERE type = ? AND id = ?",
                                       kDocColumns));
  q.bind(1, std::string(type));
  q.bind(2, std::string(id));
  if (!q.executeStep()) return std::nullopt;
  return read_doc(q);
}

std::vector<SimDoc> SimTx::find(std::string_view type, std::string_view rma_id) {
  SQLite::Statement q(db_, fmt::format("SELECT {} FROM documents WHERE type = ? AND rma_id = ? "
                                       "ORDER BY created_at, id",
                                       kDocColumns));
  q.bind(1, std::string(type));
  q.bind(2, std::string(rma_id));
  std::vector<SimDoc> out;
  while (q.executeStep()) out.push_back(read_doc(q));
  return out;
}

std::vector<SimDoc> SimTx::find_by(std::string_view type, std::string_view field,
                                   std::string_view value) {
  SQLite::Statement q(db_, fmt::format("SELECT {} FROM documents WHERE type = ? AND "
                                       "json_extract(body, ?) = ? ORDER BY created_at, id",
                                       kDocColumns));
  q.bind(1, std::string(type));
  q.bind(2, fmt::format("$.\"{}\"", field));
  q.bind(3, std::string(value));
  std::vector<SimDoc> out;
  while (q.executeStep()) out.push_back(read_doc(q));
  return out;
}

void SimTx::put(SimDoc doc) {
  SQLite::Statement q(db_, R"sql(
    INSERT INTO documents(type, id, rma_id, status, body, created_at, updated_at)
    VALUES(?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT(type, id) DO UPDATE SET rma_id = excluded.rma_id, status = excluded.status,
      body = excluded.body, updated_at = excluded.updated_at)sql");
  q.bind(1, doc.type);
  q.bind(2, doc.id);
  q.bind(3, doc.rma_id);
  q.bind(4, doc.status);
  q.bind(5, doc.body.dump());
  q.bind(6, to_millis(now_));
  q.bind(7, to_millis(now_));
  q.exec();
}

bool SimTx::put_new(SimDoc doc) {
  if (get(doc.type, doc.id)) return false;
  put(std::move(doc));
  return true;
}

std::string SimTx::next_id(std::string_view prefix) {
  SQLite::Statement q(db_, R"sql(
    INSERT INTO sequences(prefix, last) VALUES(?, 1)
    ON CONFLICT(prefix) DO UPDATE SET last = last + 1
    RETURNING last)sql");
  q.bind(1, std::string(prefix));
  q.executeStep();
  return fmt::format("{}-{:06}", prefix, q.getColumn(0).getInt64());
}

void SimTx::schedule(TimePoint due, std::string kind, std::string subject, nlohmann::json body) {
  SQLite::Statement q(db_, "INSERT INTO jobs(due, kind, subject, body) VALUES(?, ?, ?, ?)");
  q.bind(1, to_millis(due));
  q.bind(2, kind);
  q.bind(3, subject);
  q.bind(4, body.dump());
  q.exec();
  scheduled_.push_back(
      SimJob{db_.getLastInsertRowid(), due, std::move(kind), std::move(subject), std::move(body)});
}

void SimTx::cancel_jobs(std::string_view kind, std::string_view subject) {
  SQLite::Statement q(db_, "UPDATE jobs SET outcome = 'cancelled' "
                           "WHERE kind = ? AND subject = ? AND outcome IS NULL");
  q.bind(1, std::string(kind));
  q.bind(2, std::string(subject));
  q.exec();
}

std::optional<SimJob> SimTx::pending_job(std::int64_t id) {
  SQLite::Statement q(db_, fmt::format("SELECT {} FROM jobs WHERE id = ? AND outcome IS NULL",
                                       kJobColumns));
  q.bind(1, id);
  if (!q.executeStep()) return std::nullopt;
  return read_job(q);
}

void SimTx::finish_job(std::int64_t id, std::string_view outcome) {
  SQLite::Statement q(db_, "UPDATE jobs SET outcome = ? WHERE id = ? AND outcome IS NULL");
  q.bind(1, std::string(outcome));
  q.bind(2, id);
  q.exec();
}

SimStore::SimStore(const std::string& path) : ledger_(path, kSchema) {}

Outcome SimStore::call(const std::string& key, const std::string& system,
                       const std::string& operation, const nlohmann::json& input, TimePoint now,
                       const Handle& handle, std::vector<SimJob>& armed) {
  std::vector<SimJob> scheduled;
  bool applied_now = false;
  auto outcome = ledger_.call(key, system, operation, input,
                              [&](const EffectLedger::Call& c, SQLite::Database& db) {
                                SimTx tx(db, now);
                                auto out = handle(c, tx);
                                applied_now = c.applied == nullptr && out.ok();
                                scheduled = tx.scheduled();
                                return out;
                              });
  // Jobs of a failed or replayed call were rolled back with it; those of a failed commit too.
  if (applied_now && outcome.ok()) armed.insert(armed.end(), scheduled.begin(), scheduled.end());
  return outcome;
}

void SimStore::transact(TimePoint now, const std::function<void(SimTx& tx)>& work,
                        std::vector<SimJob>* armed) {
  std::vector<SimJob> scheduled;
  ledger_.transact([&](SQLite::Database& db) {
    SimTx tx(db, now);
    work(tx);
    scheduled = tx.scheduled();
  });
  if (armed) armed->insert(armed->end(), scheduled.begin(), scheduled.end());
}

std::vector<SimJob> SimStore::pending_jobs() {
  std::vector<SimJob> out;
  ledger_.transact([&](SQLite::Database& db) {
    SQLite::Statement q(db, fmt::format("SELECT {} FROM jobs WHERE outcome IS NULL ORDER BY due, id",
                                        kJobColumns));
    while (q.executeStep()) out.push_back(read_job(q));
  });
  return out;
}

}  // namespace rmaflow::sim
