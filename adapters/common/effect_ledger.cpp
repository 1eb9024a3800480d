#include "adapters/common/effect_ledger.hpp"

#include <chrono>
#include <optional>

#include <SQLiteCpp/SQLiteCpp.h>
#include <SQLiteCpp/Savepoint.h>

namespace rmaflow {

namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS effects (
  key       TEXT PRIMARY KEY,
  adapter   TEXT NOT NULL,
  operation TEXT NOT NULL,
  input     TEXT NOT NULL,
  calls     INTEGER NOT NULL,  -- every call made with this key
  effects   INTEGER NOT NULL,  -- times the effect was applied: 0 or 1, never more
  result    TEXT,              -- the first successful result, replayed for later calls
  first_at  INTEGER NOT NULL,
  last_at   INTEGER NOT NULL
))sql";

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

EffectLedger::EffectLedger(const std::string& path, const std::string& extra_schema)
    : path_(path) {
  try {
    db_ = std::make_unique<SQLite::Database>(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db_->exec("PRAGMA journal_mode=WAL");
    db_->exec("PRAGMA synchronous=FULL");
    db_->exec("PRAGMA busy_timeout=5000");
    db_->exec(kSchema);
    if (!extra_schema.empty()) db_->exec(extra_schema);
  } catch (const SQLite::Exception& e) {
    throw Error(Errc::adapter_config,
                "cannot open the effect ledger " + path + " (SQLite: " + e.what() + ")");
  }
}

EffectLedger::~EffectLedger() = default;

Outcome EffectLedger::call(const std::string& key, const std::string& adapter,
                           const std::string& operation, const nlohmann::json& input,
                           const Decide& decide) {
  std::lock_guard lock(mu_);
  try {
    SQLite::Transaction tx(*db_, SQLite::TransactionBehavior::IMMEDIATE);
    auto now = now_ms();
    SQLite::Statement upsert(*db_, R"sql(
      INSERT INTO effects(key, adapter, operation, input, calls, effects, first_at, last_at)
      VALUES(?, ?, ?, ?, 1, 0, ?, ?)
      ON CONFLICT(key) DO UPDATE SET calls = calls + 1, last_at = excluded.last_at
      RETURNING calls, effects, result)sql");
    upsert.bind(1, key);
    upsert.bind(2, adapter);
    upsert.bind(3, operation);
    upsert.bind(4, input.dump());
    upsert.bind(5, now);
    upsert.bind(6, now);
    upsert.executeStep();
    int calls = upsert.getColumn(0).getInt();
    std::optional<nlohmann::json> applied;
    if (upsert.getColumn(1).getInt() > 0) {
      applied = nlohmann::json::parse(upsert.getColumn(2).getString());
    }
    upsert.reset();

    SQLite::Savepoint owner_writes(*db_, "decide");
    Outcome outcome = decide(Call{calls, applied ? &*applied : nullptr}, *db_);
    if (!applied && outcome.ok()) {
      SQLite::Statement apply(*db_,
                              "UPDATE effects SET effects = effects + 1, result = ? WHERE key = ?");
      apply.bind(1, outcome.result->dump());
      apply.bind(2, key);
      apply.exec();
      owner_writes.release();
    } else {
      owner_writes.rollback();  // the call stays counted
    }
    tx.commit();
    return outcome;
  } catch (const SQLite::Exception& e) {
    // The external system is unavailable: the caller may retry.
    return Outcome::failure(std::string(kTransient),
                            "effect ledger " + path_ + " failed: " + e.what(), true);
  }
}

std::optional<nlohmann::json> EffectLedger::applied(const std::string& key) {
  std::lock_guard lock(mu_);
  try {
    SQLite::Statement select(*db_, "SELECT result FROM effects WHERE key = ? AND effects > 0");
    select.bind(1, key);
    if (!select.executeStep()) return std::nullopt;
    return nlohmann::json::parse(select.getColumn(0).getString(), nullptr, false);
  } catch (const SQLite::Exception& e) {
    throw Error(Errc::storage, "effect ledger " + path_ + " failed: " + e.what());
  }
}

void EffectLedger::transact(const std::function<void(SQLite::Database& db)>& work) {
  std::lock_guard lock(mu_);
  try {
    SQLite::Transaction tx(*db_, SQLite::TransactionBehavior::IMMEDIATE);
    work(*db_);
    tx.commit();
  } catch (const SQLite::Exception& e) {
    throw Error(Errc::storage, "effect ledger " + path_ + " failed: " + e.what());
  }
}

}  // namespace rmaflow
