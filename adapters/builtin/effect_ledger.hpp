// EffectLedger: an external system's memory of what it has done, in its own SQLite file.
//
// A call is recorded under its idempotency key. The first call that succeeds applies the
// effect and stores its result; every later call with that key returns the stored result
// and applies nothing (its `effects` count stays 1). The decision and its record are one
// durable transaction, as a real system's would be: a crash after it and before the engine
// records the outcome leaves the effect applied exactly once.
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
  // Opens or creates the ledger file. Throws Error(adapter_config) when it cannot.
  explicit EffectLedger(const std::string& path);
  ~EffectLedger();

  // Counts this call under `key` and, unless the key already has its effect, asks `decide`
  // (given the number of calls so far, this one included) for the outcome. A successful
  // outcome is recorded as the key's effect.
  Outcome call(const std::string& key, const std::string& adapter, const std::string& operation,
               const nlohmann::json& input, const std::function<Outcome(int calls)>& decide);

 private:
  std::mutex mu_;
  std::unique_ptr<SQLite::Database> db_;
  std::string path_;
};

}  // namespace rmaflow
