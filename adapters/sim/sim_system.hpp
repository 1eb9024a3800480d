// SimSystem: a simulated external system (ERP, carrier, warehouse) that behaves towards rmaflow
// as its real counterpart would:
//   - named operations, idempotent per key: a repeated key returns the first result and has
//     no second effect; business refusals are named, non-retryable errors;
//   - its state in its own SQLite file (SimStore);
//   - calls that take time and sometimes fail or answer too late (CallProfiles);
//   - events it sends back by itself, such as the warehouse's receipt scan: durable jobs,
//     run on the attached host's clock and delivered as signals to the instance.
//
// Transports call execute(): the in-process SimAdapter and the mock HTTP service reach the same
// systems, so there is one implementation of each operation.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <cmath>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/sim/call_profile.hpp"
#include "adapters/sim/sim_clock.hpp"
#include "adapters/sim/sim_store.hpp"
#include "rmaflow/adapter.hpp"

namespace rmaflow::sim {

// A business refusal (NotEligible, CustomerOnHold, ...): an operation throws it, the caller
// gets a non-retryable failure with this code.
class Refusal : public std::runtime_error {
 public:
  Refusal(std::string code, const std::string& message)
      : std::runtime_error(message), code_(std::move(code)) {}
  const std::string& code() const { return code_; }

 private:
  std::string code_;
};

// The route the mock HTTP service serves an operation on; `{name}` segments of the path are
// fields of the operation's input.
struct Route {
  std::string method;  // GET, POST, DELETE
  std::string path;    // "/labels/{label_id}", relative to the system's base path
};

struct OperationInfo {
  std::string name;
  Route route;
  bool read_only = false;  // no effect: needs no idempotency key, is not recorded
};

class SimSystem {
 public:
  struct Response {
    Outcome outcome;
    Duration latency{0};  // how long the answer takes to come back
    bool late = false;    // processed, but answered only after the caller's deadline
  };

  virtual ~SimSystem() = default;
  SimSystem(const SimSystem&) = delete;
  SimSystem& operator=(const SimSystem&) = delete;

  const std::string& kind() const { return kind_; }  // "erp", "carrier", "wms"
  const std::string& name() const { return name_; }  // the adapter name it is configured as

  // Runs `operation` with `input` as the real system would on a request with this idempotency
  // key. Never throws: an unknown operation, a malformed input or a database failure is a
  // failed Outcome (the last one retryable).
  //
  // `undoes`: the request undoes the call made under that key, whose outcome its caller never
  // learnt. The input may then lack what that call answered (a label id): the answer the system
  // recorded fills the input's missing or null fields; when nothing was done under that key,
  // there is nothing to undo and the request succeeds with {"undone": false}.
  //
  // `draws`: what the call's latency and faults are drawn from, in place of the key (see
  // draw_identity); empty: the key.
  Response execute(const std::string& operation, const std::string& key,
                   const nlohmann::json& input, const std::string& undoes = "",
                   std::string_view draws = {});

  bool has_operation(std::string_view operation) const;
  const std::vector<OperationInfo>& operations() const { return infos_; }
  const CallProfiles& profiles() const { return profiles_; }
  void set_profiles(CallProfiles profiles) { profiles_ = std::move(profiles); }

  // Attaches the host that runs this system's jobs on its clock and takes its signals (an
  // engine, or the mock service), and arms every pending job. Throws Error(storage).
  void attach(AdapterHost& host);
  // No host call is made after this returns; pending jobs stay stored for the next attach.
  void detach();

  // Runs the system on `clock` instead of its host's (see SimClock); before attach().
  void use_clock(std::shared_ptr<SimClock> clock) { clock_ = std::move(clock); }

  // The state file is shared with other processes (nodes of one database on one machine):
  // every `every` on the host's clock, the pending jobs they scheduled, or left behind when
  // they died, are armed here too. A job runs once whoever fires it first (its transaction
  // finds it pending); a signal may reach the engine twice, which takes its idempotency key
  // once. Before attach().
  void share_jobs(Duration every) { share_every_ = every; }

  // The system's time: its SimClock's, else the attached host's clock (the system clock when
  // detached).
  TimePoint now() const;
  SimStore& store() { return *store_; }

 protected:
  SimSystem(std::string kind, std::string name, std::shared_ptr<SimStore> store);

  // An operation's work, inside the call's transaction: returns the result, or throws
  // Refusal. Reading a malformed input throws a BadRequest refusal (see field()).
  using Handler = std::function<nlohmann::json(SimTx& tx, const nlohmann::json& input)>;
  void add(std::string name, Route route, Handler handler, bool read_only = false);

  // Runs a pending job of a kind the system schedules itself ("deliver"), inside a
  // transaction that marks it done. "signal" jobs are delivered by the base.
  virtual void run_job(SimTx& tx, const SimJob& job);

  // Schedules a signal to the instance `notify` names ({workflow, business_key}); nothing
  // when `notify` is null (the caller asked for no events). A `match` value (an RMA line id)
  // makes it reach only the wait of the branch that waits with that value.
  static void emit(SimTx& tx, TimePoint due, const nlohmann::json& notify, std::string name,
                   nlohmann::json payload, std::string idempotency_key,
                   nlohmann::json match = nullptr);

  // Arms jobs committed outside execute() (a system that hands work to another).
  void arm(const std::vector<SimJob>& jobs);

 private:
  // Runs job `job_id` once the system's time reaches `due` (on the host's timers).
  void schedule(AdapterHost& host, std::int64_t job_id, TimePoint due);
  void fire(std::int64_t job_id, TimePoint due);
  void deliver(const SimJob& job);
  // The job is no longer armed here: run, dropped, or to be armed again by a rescan.
  void disarm(std::int64_t job_id);
  // Arms the pending jobs not armed here (share_jobs), then again after share_every_.
  void rescan(std::uint64_t attachment);
  AdapterHost* host() const;

  std::string kind_;
  std::string name_;
  std::shared_ptr<SimStore> store_;
  CallProfiles profiles_;
  std::shared_ptr<SimClock> clock_;  // null: the host's clock
  std::vector<OperationInfo> infos_;
  struct Operation {
    Handler handler;
    bool read_only = false;
  };
  std::map<std::string, Operation, std::less<>> handlers_;
  Duration share_every_{0};  // 0: the state file is this process's alone
  mutable std::mutex host_mu_;
  AdapterHost* host_ = nullptr;
  std::uint64_t attachment_ = 0;  // counts attach(); a rescan of an earlier one stops
  std::set<std::int64_t> armed_;  // the jobs armed on host_'s timers
};

// Input fields, or a BadRequest refusal naming the missing or mistyped one.
const nlohmann::json& field(const nlohmann::json& input, const char* name);
std::string text_field(const nlohmann::json& input, const char* name);
// An amount, rounded to cents as the systems book it: positive, or zero or more when
// `allow_zero`.
double amount_field(const nlohmann::json& input, const char* name, bool allow_zero = false);

inline double round_cents(double amount) { return std::round(amount * 100) / 100; }

}  // namespace rmaflow::sim
