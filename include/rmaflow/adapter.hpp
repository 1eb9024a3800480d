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
#include "rmaflow/errors.hpp"
#include "rmaflow/time.hpp"

namespace rmaflow {

// Codes every adapter may report. Transient and Timeout are retryable.
inline constexpr std::string_view kTransient = "Transient";
inline constexpr std::string_view kTimeout = "Timeout";

struct Invocation {
  std::string instance_id;
  std::string workflow;
  std::string step;
  std::string operation;
  std::string idempotency_key;  // <instance>:<step>:<visit>, stable across retries and restarts
  std::string correlation_id;
  int attempt = 1;
  bool compensation = false;    // true when undoing a completed step
  nlohmann::json input;
  TimePoint deadline;           // the attempt times out at this instant
};

struct AdapterError {
  std::string code;     // "Transient", "Timeout", or a business code such as "NotEligible"
  std::string message;
  bool retryable = false;
};

struct Outcome {
  std::optional<nlohmann::json> result;  // set on success
  AdapterError error;                    // meaningful when !ok()

  bool ok() const { return result.has_value(); }
  static Outcome success(nlohmann::json value) { return Outcome{std::move(value), {}}; }
  static Outcome failure(std::string code, std::string message, bool retryable) {
    return Outcome{std::nullopt, {std::move(code), std::move(message), retryable}};
  }
};

// Called exactly once per invocation, from any thread.
using Completion = std::function<void(Outcome)>;

// What the engine offers an adapter: its clock and timers that follow it (so a simulated
// delay takes no wall time under a manual clock).
class AdapterHost {
 public:
  virtual ~AdapterHost() = default;
  virtual const Clock& clock() const = 0;
  // Runs `fn` once the host's clock reaches `due`. Thread-safe.
  virtual void call_at(TimePoint due, std::function<void()> fn) = 0;
};

class Adapter {
 public:
  virtual ~Adapter() = default;
  // Starts the operation; reports through `done`. Must not throw for a failure of the call
  // itself: report it as an Outcome. `host` outlives the call.
  virtual void invoke(const Invocation& call, AdapterHost& host, Completion done) = 0;
  // False when the adapter knows it has no such operation (validation of actions at start).
  virtual bool has_operation(std::string_view operation) const = 0;
};

// Adapters by the name actions use. Loaded from an adapters YAML file:
//
//   adapters:
//     erp:     { type: builtin, ledger: effects.db }
//     carrier: { type: builtin, operations: { create_label: { fail: Transient, times: 2 } } }
//
// An adapter named `builtin` of type builtin is always present.
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

 private:
  std::map<std::string, std::shared_ptr<Adapter>, std::less<>> adapters_;
};

}  // namespace rmaflow
