// Adapters connect task steps to the outside world (ERP, carrier, WMS, HTTP services).
//
// An action `erp.authorize_return` names the adapter registered as "erp" and its operation
// "authorize_return". The engine invokes an adapter only after the transition that started
// the attempt is committed, and may invoke the same idempotency key more than once (retries
// after a crash): an adapter must make a repeated key have no second effect.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "rmaflow/clock.hpp"
#include "rmaflow/definition.hpp"
#include "rmaflow/errors.hpp"
#include "rmaflow/failure.hpp"
#include "rmaflow/time.hpp"

namespace rmaflow {

// Codes every adapter may report. Transient and Timeout are retryable.
inline constexpr std::string_view kTransient = failure::kTransient;
inline constexpr std::string_view kTimeout = failure::kTimeout;

struct Invocation {
  std::string instance_id;
  std::string workflow;
  std::string step;
  std::string branch;           // the branch the step runs in ("inspect_lines[L1]"); empty: none
  std::string operation;
  // <instance>:<step>[<branch key>...]:<visit>, stable across retries and restarts;
  // a compensation's ends in ":compensate"
  std::string idempotency_key;
  std::string business_key;  // the instance's; empty when it was started without one
  std::string correlation_id;
  bool trace_sampled = true;  // the instance's trace is exported (EngineOptions::trace_sample)
  int attempt = 1;
  bool compensation = false;    // true when undoing a completed step
  // A compensation: the idempotency key of the call it undoes. When that call's outcome was
  // never known (it timed out, or the instance stopped waiting for it), the compensation's
  // input may lack the call's result, and the adapter finds the effect by this key; an
  // adapter answers success when there is nothing to undo.
  std::string undoes;
  bool outcome_unknown = false;
  nlohmann::json input;
  TimePoint deadline;           // the attempt times out at this instant
};

struct Outcome {
  std::optional<nlohmann::json> result;  // set on success
  Failure error;                         // meaningful when !ok()

  bool ok() const { return result.has_value(); }
  static Outcome success(nlohmann::json value) { return Outcome{std::move(value), {}}; }
  static Outcome failure(std::string code, std::string message, bool retryable) {
    return Outcome{std::nullopt,
                   {std::move(code), std::move(message), retryable, FailureOrigin::adapter}};
  }
  // Retryable per retryable_by_default().
  static Outcome failure(std::string code, std::string message) {
    return Outcome{std::nullopt, make_failure(std::move(code), std::move(message))};
  }
};

// Called exactly once per invocation, from any thread.
using Completion = std::function<void(Outcome)>;

// A signal for one instance, named by id or by workflow + business key.
struct SignalRequest {
  std::string instance_id;
  std::string workflow;       // with business_key, when instance_id is empty
  std::string business_key;
  std::string name;
  // Reaches only a wait whose `match` renders to this value (a branch's wait for its RMA line);
  // null: no match value.
  nlohmann::json match;
  nlohmann::json payload;
  std::string idempotency_key;  // a repeat with the same key is accepted once; default: unique
};

struct SignalResult {
  std::string instance_id;
  std::string idempotency_key;
  bool duplicate = false;  // the same key was already accepted; nothing new happened
};

// What became of a signal an adapter delivered: accepted (durably stored; a repeat of an
// idempotency key accepted before is accepted again as a duplicate), or refused.
struct SignalDelivery {
  std::optional<SignalResult> accepted;
  // Why it was refused: not_found (no such instance), refused (it is finished) or
  // invalid_argument, which delivering again will not change; storage when the engine stopped
  // before the signal was committed, which it may.
  std::optional<Error> refused;
};
using SignalDone = std::function<void(SignalDelivery)>;

// What the engine offers an adapter: its clock, timers that follow it (so a simulated delay
// takes no wall time under a manual clock), and a way to send the events an outside system
// sends back (the warehouse scanned the parcel).
class AdapterHost {
 public:
  virtual ~AdapterHost() = default;
  virtual const Clock& clock() const = 0;
  // Runs `fn` on the engine's thread once the host's clock reaches `due`. Thread-safe. Timers
  // are not durable: an adapter that schedules events keeps them in its own storage and
  // re-arms them in start(). A timer no adapter call waits for does not keep
  // Engine::run_until_idle() running.
  virtual void call_at(TimePoint due, std::function<void()> fn) = 0;
  // Delivers a signal to an instance named by id, or by workflow and business key. `done`
  // runs once, on the engine's thread, after the signal is committed or refused. Deliver
  // until accepted or refused for good: the idempotency key makes a repeat harmless.
  // Thread-safe.
  virtual void deliver_signal(SignalRequest request, SignalDone done) = 0;
};

class Adapter {
 public:
  virtual ~Adapter() = default;
  // Starts the operation; reports through `done`. Must not throw for a failure of the call
  // itself: report it as an Outcome. `host` outlives the call.
  virtual void invoke(const Invocation& call, AdapterHost& host, Completion done) = 0;
  // False when the adapter knows it has no such operation (validation of actions at start).
  virtual bool has_operation(std::string_view operation) const = 0;
  // The operations it has, for messages; empty when it takes any operation.
  virtual std::vector<std::string> operations() const { return {}; }

  // An engine opened with this adapter: called once it has recovered its instances and before
  // it runs anything. `host` stays valid until stop(); an adapter that sends events re-arms
  // the ones it has stored here. An adapter serves one engine at a time.
  virtual void start(AdapterHost& host) { (void)host; }
  // The engine is closing: no host call may be made after this returns.
  virtual void stop() {}
};

// Adapters by the name actions use. Loaded from an adapters YAML file:
//
//   adapters:
//     erp:     { type: builtin, ledger: effects.db }
//     carrier: { type: builtin, operations: { create_label: { fail: Transient, times: 2 } } }
//
// An adapter named `builtin` of type builtin is always present.
// How many calls an adapter (or one of its operations) takes: at most `in_flight` unanswered at
// once and at most `per_second` started a second (0: no such limit). Calls over a limit wait
// their turn in the engine, in the order they were made.
struct CallLimit {
  std::size_t in_flight = 0;
  double per_second = 0;
  bool any() const { return in_flight > 0 || per_second > 0; }
};

// An adapter's limits (the adapters file's `limits:`): for the whole adapter and per operation.
struct AdapterLimits {
  CallLimit adapter;
  std::map<std::string, CallLimit, std::less<>> operations;
};

class AdapterRegistry {
 public:
  AdapterRegistry();
  ~AdapterRegistry();
  AdapterRegistry(AdapterRegistry&&) noexcept;
  AdapterRegistry& operator=(AdapterRegistry&&) noexcept;

  // Throws Error(adapter_config) naming the file, adapter and key at fault.
  static AdapterRegistry from_file(const std::string& path);
  static AdapterRegistry from_yaml(const std::string& yaml, const std::string& file,
                                   const std::string& base_dir);

  void add(const std::string& name, std::shared_ptr<Adapter> adapter);
  Adapter* find(std::string_view name) const;
  std::vector<std::string> names() const;
  // Every adapter, in name order; shared, so that an engine keeps those it started.
  std::vector<std::shared_ptr<Adapter>> all() const;
  void set_limits(const std::string& name, AdapterLimits limits);
  // Every adapter's limits, by adapter name (only those that have some).
  const std::map<std::string, AdapterLimits, std::less<>>& limits() const { return limits_; }

 private:
  std::map<std::string, std::shared_ptr<Adapter>, std::less<>> adapters_;
  std::map<std::string, AdapterLimits, std::less<>> limits_;
};

// Every action and compensation of `definition` that `adapters` cannot run: an adapter that is
// not configured, or one that knows it has no such operation. Each is an error (code
// "unknown-action") at the step, naming the adapters (or the adapter's operations) there are.
// Deploying, `rmaflow run`, `serve` and `validate --adapters` all check with this.
std::vector<Diagnostic> check_actions(const Definition& definition, const AdapterRegistry& adapters);

}  // namespace rmaflow
