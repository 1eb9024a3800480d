#include "adapters/builtin/builtin_adapter.hpp"

#include <filesystem>
#include <set>

#include <fmt/format.h>

#include "engine/support/yaml_json.hpp"

namespace rmaflow {

namespace {

[[noreturn]] void config_error(const std::string& file, const YAML::Node& at,
                               const std::string& message) {
  throw Error(Errc::adapter_config, fmt::format("{}:{}: {}", file, yaml_position(at), message));
}

void check_keys(const std::string& file, const YAML::Node& map, const std::set<std::string>& allowed,
                const std::string& where) {
  for (const auto& kv : map) {
    auto key = kv.first.Scalar();
    if (!allowed.count(key)) {
      config_error(file, kv.first,
                   fmt::format("unknown key \"{}\" in {} (allowed: {})", key, where,
                               fmt::join(allowed, ", ")));
    }
  }
}

Duration read_duration(const std::string& file, const YAML::Node& node) {
  auto d = node.IsScalar() ? parse_duration(node.Scalar()) : std::nullopt;
  if (!d) config_error(file, node, fmt::format("\"{}\" is not a duration such as 250ms, 30s or 5m",
                                               node.IsScalar() ? node.Scalar() : "?"));
  return *d;
}

// Reads the behaviour keys present in `node` over `base`.
BuiltinBehavior read_behavior(const std::string& file, const YAML::Node& node, BuiltinBehavior base,
                              const std::string& where) {
  if (!node.IsMap()) config_error(file, node, where + " must be a mapping");
  check_keys(file, node, {"result", "fail", "times", "retryable", "message", "delay"}, where);
  if (node["result"]) base.result = yaml_to_json(node["result"]);
  if (node["fail"]) base.fail_code = node["fail"].Scalar();
  if (auto times = node["times"]) {
    if (times.Scalar() == "always") {
      base.fail_times = -1;
    } else {
      try {
        base.fail_times = times.as<int>();
      } catch (const YAML::Exception&) {
        config_error(file, times, "times must be a whole number or \"always\"");
      }
    }
  }
  if (auto r = node["retryable"]) {
    auto v = yaml_to_json(r);
    if (!v.is_boolean()) config_error(file, r, "retryable must be true or false");
    base.retryable = v.get<bool>();
  }
  if (node["message"]) base.message = node["message"].Scalar();
  if (node["delay"]) base.delay = read_duration(file, node["delay"]);
  return base;
}

bool default_retryable(const std::string& code) { return code == kTransient || code == kTimeout; }

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
                                                          const std::string& file,
                                                          const std::string& base_dir) {
  auto where = fmt::format("adapter \"{}\"", name);
  check_keys(file, node, {"type", "ledger", "latency", "result", "operations"}, where);
  BuiltinBehavior defaults;
  if (node["latency"]) defaults.delay = read_duration(file, node["latency"]);
  if (node["result"]) defaults.result = yaml_to_json(node["result"]);
  std::map<std::string, BuiltinBehavior, std::less<>> operations;
  if (auto ops = node["operations"]) {
    if (!ops.IsMap()) config_error(file, ops, where + ": operations must be a mapping");
    for (const auto& kv : ops) {
      auto op = kv.first.Scalar();
      operations[op] = read_behavior(file, kv.second, defaults,
                                     fmt::format("operation \"{}\" of {}", op, where));
    }
  }
  std::shared_ptr<EffectLedger> ledger;
  if (auto path = node["ledger"]) {
    std::filesystem::path p(path.Scalar());
    if (p.is_relative()) p = std::filesystem::path(base_dir) / p;
    ledger = std::make_shared<EffectLedger>(p.string());
  }
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
          b.retryable.value_or(default_retryable(b.fail_code)));
    }
    return Outcome::success(b.result.value_or(call.input));
  };
  if (ledger_) return ledger_->call(call.idempotency_key, name_, call.operation, call.input, decide);
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
