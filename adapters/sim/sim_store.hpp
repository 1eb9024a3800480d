// SimStore: the database of one simulated system (ERP, carrier, warehouse), in its own SQLite
// file as the real system keeps its own: the idempotency ledger (EffectLedger), the system's
// documents (invoices, authorizations, labels, receipts, ...) and the jobs it has scheduled
// (a parcel reaching the warehouse, a signal to send back). Jobs are durable: they survive a
// crash of the process and are re-armed when the system is attached again.
//
// Thread-safety: any thread; calls are serialised on the file.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "adapters/common/effect_ledger.hpp"
#include "rmaflow/time.hpp"

namespace rmaflow::sim {

// A business document of the system, by (type, id).
struct SimDoc {
  std::string type;    // "invoice", "authorization", "label", "receipt", ...
  std::string id;
  std::string rma_id;  // the RMA it belongs to; empty for master data
  std::string status;
  nlohmann::json body = nlohmann::json::object();
  TimePoint created_at{};
  TimePoint updated_at{};
};

// Something the system will do by itself at `due`.
struct SimJob {
  std::int64_t id = 0;
  TimePoint due{};
  std::string kind;     // "signal" (send an event to the engine), or the system's own
  std::string subject;  // what it is about (a label id), so that it can be cancelled
  nlohmann::json body = nlohmann::json::object();
};

// The system's state inside one transaction.
class SimTx {
 public:
  SimTx(SQLite::Database& db, TimePoint now) : db_(db), now_(now) {}

  TimePoint now() const { return now_; }
  std::optional<SimDoc> get(std::string_view type, std::string_view id);
  std::vector<SimDoc> find(std::string_view type, std::string_view rma_id);  // oldest first
  // The documents of `type` whose body has `field` (top level) equal to `value`.
  std::vector<SimDoc> find_by(std::string_view type, std::string_view field, std::string_view value);
  // Inserts or replaces by (type, id); stamps updated_at, and created_at when new.
  void put(SimDoc doc);
  // Inserts unless a document with this (type, id) exists; true when inserted.
  bool put_new(SimDoc doc);
  // The next id of a series: "LBL-000001", "LBL-000002", ...
  std::string next_id(std::string_view prefix);

  // Schedules a job; it is armed once this transaction commits.
  void schedule(TimePoint due, std::string kind, std::string subject, nlohmann::json body);
  // Drops the pending jobs of `kind` about `subject` (the delivery of a voided label).
  void cancel_jobs(std::string_view kind, std::string_view subject);
  const std::vector<SimJob>& scheduled() const { return scheduled_; }
  // The job, while it is pending.
  std::optional<SimJob> pending_job(std::int64_t id);
  // Marks a pending job done, or dropped with the reason (`outcome` says which).
  void finish_job(std::int64_t id, std::string_view outcome);

 private:
  SQLite::Database& db_;
  TimePoint now_;
  std::vector<SimJob> scheduled_;
};

class SimStore {
 public:
  // Opens or creates the file. Throws Error(adapter_config) when it cannot.
  explicit SimStore(const std::string& path);

  // One operation call under its idempotency key (see EffectLedger): `handle` runs in the
  // call's transaction unless the key already has its effect, in which case its first result
  // is returned. Jobs the handler scheduled are appended to `armed` when they were committed.
  using Handle = std::function<Outcome(const EffectLedger::Call& call, SimTx& tx)>;
  Outcome call(const std::string& key, const std::string& system, const std::string& operation,
               const nlohmann::json& input, TimePoint now, const Handle& handle,
               std::vector<SimJob>& armed);

  // The system's own work outside calls (master data, running a job). Throws Error(storage).
  void transact(TimePoint now, const std::function<void(SimTx& tx)>& work,
                std::vector<SimJob>* armed = nullptr);

  // Every pending job, soonest first (to re-arm them). Throws Error(storage).
  std::vector<SimJob> pending_jobs();

  // The result of the effect applied under `key`, if any. Throws Error(storage).
  std::optional<nlohmann::json> applied(const std::string& key) { return ledger_.applied(key); }

  const std::string& path() const { return ledger_.path(); }

 private:
  EffectLedger ledger_;
};

}  // namespace rmaflow::sim
