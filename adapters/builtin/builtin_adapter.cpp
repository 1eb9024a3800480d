#include "adapters/builtin/builtin_adapter.hpp"

#include <fmt/format.h>

#include "engine/support/yaml_json.hpp"

namespace rmaflow {

namespace {

// Reads the behaviour keys present in `node` over `base`.
BuiltinBehavior read_behavior(const ConfigReader& config, const YAML::Node& node,
                              BuiltinBehavior base, const std::string& where) {
  config.expect_map(node, where);
  config.check_keys(node, {"result", "fail", "times", "retryable", "message", "delay"}, where);
  if (node["result"]) base.result = yaml_to_json(node["result"]);
  if (node["fail"]) base.fail_code = config.scalar(node["fail"], "fail");
  if (auto times = node["times"]) {
    base.fail_times = times.IsScalar() && times.Scalar() == "always"
                          ? -1
                          : static_cast<int>(config.integer(times, 0, 1'000'000,
                                                            "times (or \"always\")"));
  }
  if (auto r = node["retryable"]) base.retryable = config.boolean(r, "retryable");
  if (node["message"]) base.message = config.scalar(node["message"], "message");
  if (node["delay"]) base.delay = config.duration(node["delay"]);
  return base;
}

}  // namespace

BuiltinAdapter::BuiltinAdapter(std::string name, BuiltinBehavior defaults,
                               std::map<std::string, BuiltinBehavior, std::less<>> operations,
                               std::shared_ptr<EffectLedger> ledger)
    : name_(std::move(name)),
      defaults_(std::move(defaults)),
      operations_(std::move(operations)),
      ledger_(std::move(ledger)) {}

std::shared_ptr<BuiltinAdapter> BuiltinAdapter::from_yaml(const std::string& name,
                                                          const YAML::Node& node,
                                                          const ConfigReader& config) {
  auto where = fmt::format("adapter \"{}\"", name);
  config.check_keys(node, {"type", "ledger", "latency", "result", "operations", "limits"}, where);
  BuiltinBehavior defaults;
  if (node["latency"]) defaults.delay = config.duration(node["latency"]);
  if (node["result"]) defaults.result = yaml_to_json(node["result"]);
  std::map<std::string, BuiltinBehavior, std::less<>> operations;
  if (auto ops = node["operations"]) {
    config.expect_map(ops, where + ": operations");
    for (const auto& kv : ops) {
      auto op = kv.first.Scalar();
      operations[op] = read_behavior(config, kv.second, defaults,
                                     fmt::format("operation \"{}\" of {}", op, where));
    }
  }
  std::shared_ptr<EffectLedger> ledger;
  if (auto path = node["ledger"]) ledger = std::make_shared<EffectLedger>(config.path(path));
  return std::make_shared<BuiltinAdapter>(name, defaults, std::move(operations), std::move(ledger));
}

BuiltinBehavior BuiltinAdapter::behavior_for(const Invocation& call) const {
  if (auto it = operations_.find(call.operation); it != operations_.end()) return it->second;
  BuiltinBehavior b = defaults_;
  const auto& in = call.input;
  if (call.operation == "fail" && in.is_object()) {
    b.fail_code = in.value("code", std::string(kTransient));
    b.fail_times = in.value("times", -1);
    if (in.contains("retryable")) b.retryable = in.value("retryable", false);
    b.message = in.value("message", std::string());
    if (in.contains("result")) b.result = in["result"];
  } else if (call.operation == "delay" && in.is_object()) {
    if (auto d = parse_duration(in.value("delay", std::string()))) b.delay = *d;
  }
  return b;
}

Outcome BuiltinAdapter::execute(const Invocation& call, const BuiltinBehavior& b) {
  auto decide = [&](int calls) {
    bool fails = !b.fail_code.empty() && (b.fail_times < 0 || calls <= b.fail_times);
    if (fails) {
      return Outcome::failure(
          b.fail_code,
          b.message.empty() ? fmt::format("{}.{} failed with {} (call {})", name_, call.operation,
                                          b.fail_code, calls)
                            : b.message,
          b.retryable.value_or(retryable_by_default(b.fail_code)));
    }
    return Outcome::success(b.result.value_or(call.input));
  };
  if (ledger_) {
    return ledger_->call(call.idempotency_key, name_, call.operation, call.input,
                         [&](const EffectLedger::Call& c, SQLite::Database&) {
                           return c.applied ? Outcome::success(*c.applied) : decide(c.calls);
                         });
  }
  int calls;
  {
    std::lock_guard lock(mu_);
    calls = ++calls_[call.idempotency_key];
  }
  return decide(calls);
}

void BuiltinAdapter::invoke(const Invocation& call, AdapterHost& host, Completion done) {
  auto behavior = behavior_for(call);
  if (behavior.delay.count() == 0) {
    done(execute(call, behavior));
    return;
  }
  host.call_at(host.clock().now() + behavior.delay,
               [this, call, behavior, done = std::move(done)] { done(execute(call, behavior)); });
}

}  // namespace rmaflow
