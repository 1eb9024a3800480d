// EffectLedger: an external system's memory of what it has done, in its own SQLite file.
//
// A call is recorded under its idempotency key. The first call that succeeds applies the
// effect and stores its result; every later call with that key is told the stored result and
// applies nothing (its `effects` count stays 1). The decision and its record are one durable
// transaction, as a real system's would be: a crash after it and before the engine records
// the outcome leaves the effect applied exactly once.
//
// A system that keeps more state than the ledger (the simulated ERP's invoices, the carrier's
// labels) keeps it in the same file, written inside the same transaction (see Decide).
//
// Thread-safety: all methods may be called from any thread.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "rmaflow/adapter.hpp"

namespace SQLite {
class Database;
}

namespace rmaflow {

class EffectLedger {
 public:
  // What the ledger knows of a key as a call with it arrives.
  struct Call {
    int calls = 0;                            // calls with this key so far, this one included
    const nlohmann::json* applied = nullptr;  // the key's result, once its effect is applied
  };
  // Decides a call's outcome inside the transaction that counts it. What it writes to `db`
  // commits with the effect when it returns success for a key that had no effect yet, and is
  // rolled back otherwise (a failure, or a replay). Must not commit or roll back itself.
  using Decide = std::function<Outcome(const Call& call, SQLite::Database& db)>;

  // Opens or creates the ledger file; `extra_schema` (SQL, idempotent) adds the owner's own
  // tables. Throws Error(adapter_config) when it cannot.
  explicit EffectLedger(const std::string& path, const std::string& extra_schema = "");
  ~EffectLedger();

  // Counts this call under `key` and asks `decide` for the outcome. A successful outcome for
  // a key without an effect is recorded as the key's effect. When the database fails, the
  // outcome is a retryable Transient failure: the system is unavailable.
  Outcome call(const std::string& key, const std::string& adapter, const std::string& operation,
               const nlohmann::json& input, const Decide& decide);

  // The result of the effect applied under `key`; nullopt when nothing was applied under it.
  // Throws Error(storage) when the database fails.
  std::optional<nlohmann::json> applied(const std::string& key);

  // Runs `work` in one transaction on the ledger's database, for the owner's bookkeeping
  // outside calls. Throws Error(storage) when the database fails (nothing is written then).
  void transact(const std::function<void(SQLite::Database& db)>& work);

  const std::string& path() const { return path_; }

 private:
  std::mutex mu_;
  std::unique_ptr<SQLite::Database> db_;
  std::string path_;
};

}  // namespace rmaflow
