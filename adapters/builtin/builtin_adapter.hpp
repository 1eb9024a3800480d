// The builtin adapter: configurable stand-in operations for tests, demos and the benchmark.
//
// Every operation succeeds with a configured result (or echoes its input), after an optional
// delay, unless configured to fail: with a given code, for the first N calls of each
// idempotency key (or always). Three operation names read their behaviour from the step
// input instead: `noop` (echo), `fail` ({code, times, retryable, message}) and `delay`
// ({delay: "50ms"}). With a ledger file, calls and effects are recorded per idempotency key
// (see EffectLedger) and failure counts survive restarts.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <yaml-cpp/yaml.h>

#include "adapters/common/config_reader.hpp"
#include "adapters/common/effect_ledger.hpp"
#include "rmaflow/adapter.hpp"

namespace rmaflow {

struct BuiltinBehavior {
  std::optional<nlohmann::json> result;  // default: echo the input
  std::string fail_code;                 // empty: never fails
  int fail_times = -1;                   // calls per key that fail; -1 = every call
  std::optional<bool> retryable;         // default: true for Transient and Timeout
  std::string message;
  Duration delay{0};
};

class BuiltinAdapter final : public Adapter {
 public:
  BuiltinAdapter(std::string name, BuiltinBehavior defaults,
                 std::map<std::string, BuiltinBehavior, std::less<>> operations,
                 std::shared_ptr<EffectLedger> ledger);

  // Reads an adapter's entry of the adapters file. Throws Error(adapter_config) naming the
  // file, the position and the key at fault.
  static std::shared_ptr<BuiltinAdapter> from_yaml(const std::string& name, const YAML::Node& node,
                                                   const ConfigReader& config);

  void invoke(const Invocation& call, AdapterHost& host, Completion done) override;
  bool has_operation(std::string_view) const override { return true; }

 private:
  BuiltinBehavior behavior_for(const Invocation& call) const;
  Outcome execute(const Invocation& call, const BuiltinBehavior& behavior);

  std::string name_;
  BuiltinBehavior defaults_;
  std::map<std::string, BuiltinBehavior, std::less<>> operations_;
  std::shared_ptr<EffectLedger> ledger_;
  std::mutex mu_;
  std::map<std::string, int> calls_;  // per key, when there is no ledger
};

}  // namespace rmaflow
