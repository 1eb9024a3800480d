#include "adapters/sim/call_profile.hpp"

#include <fmt/format.h>

#include "adapters/sim/seeded_draw.hpp"

namespace rmaflow::sim {

namespace {

// "150ms" or a range "50ms..400ms".
void read_latency(const ConfigReader& config, const YAML::Node& node, CallProfile& p) {
  auto text = config.scalar(node, "latency");
  auto dots = text.find("..");
  if (dots == std::string::npos) {
    p.latency_min = p.latency_max = config.duration(node);
    return;
  }
  auto lo = parse_duration(text.substr(0, dots));
  auto hi = parse_duration(text.substr(dots + 2));
  if (!lo || !hi || *hi < *lo) {
    config.fail(node, fmt::format("latency \"{}\" must be a duration (150ms) or a range of two "
                                  "(50ms..400ms), the shorter first",
                                  text));
  }
  p.latency_min = *lo;
  p.latency_max = *hi;
}

CallProfile read_profile(const ConfigReader& config, const YAML::Node& node, CallProfile p,
                         const std::string& where) {
  config.expect_map(node, where);
  config.check_keys(node,
                    {"latency", "fail_first", "fail_rate", "fail_code", "timeout_first",
                     "timeout_rate"},
                    where);
  if (node["latency"]) read_latency(config, node["latency"], p);
  if (node["fail_first"]) {
    p.fail_first = static_cast<int>(config.integer(node["fail_first"], 0, 1000, "fail_first"));
  }
  if (node["fail_rate"]) p.fail_rate = config.number(node["fail_rate"], 0, 1, "fail_rate");
  if (node["fail_code"]) p.fail_code = config.scalar(node["fail_code"], "fail_code");
  if (node["timeout_first"]) {
    p.timeout_first =
        static_cast<int>(config.integer(node["timeout_first"], 0, 1000, "timeout_first"));
  }
  if (node["timeout_rate"]) {
    p.timeout_rate = config.number(node["timeout_rate"], 0, 1, "timeout_rate");
  }
  return p;
}

}  // namespace

CallProfiles CallProfiles::from_yaml(const YAML::Node& adapter, const ConfigReader& config,
                                     const std::string& where,
                                     const std::function<bool(std::string_view)>& known) {
  CallProfile defaults;
  if (adapter["latency"]) read_latency(config, adapter["latency"], defaults);
  std::uint64_t seed = 1;
  if (adapter["seed"]) {
    seed = static_cast<std::uint64_t>(config.integer(adapter["seed"], 0, 1'000'000'000, "seed"));
  }
  std::map<std::string, CallProfile, std::less<>> operations;
  if (auto ops = adapter["operations"]) {
    config.expect_map(ops, where + ": operations");
    for (const auto& kv : ops) {
      auto op = kv.first.Scalar();
      if (!known(op)) config.fail(kv.first, fmt::format("{} has no operation \"{}\"", where, op));
      operations[op] =
          read_profile(config, kv.second, defaults, fmt::format("operation \"{}\" of {}", op, where));
    }
  }
  return CallProfiles(seed, defaults, std::move(operations));
}

const CallProfile& CallProfiles::profile(std::string_view operation) const {
  auto it = operations_.find(operation);
  return it == operations_.end() ? defaults_ : it->second;
}

double CallProfiles::draw(std::string_view operation, std::string_view key, int calls,
                          std::string_view purpose) const {
  return seeded_draw(seed_, {operation, key, std::to_string(calls), purpose});
}

CallPlan CallProfiles::plan(std::string_view operation, std::string_view key, int calls) const {
  const auto& p = profile(operation);
  CallPlan plan;
  auto span = p.latency_max - p.latency_min;
  plan.latency = p.latency_min + Duration(static_cast<Duration::rep>(
                                     draw(operation, key, calls, "latency") *
                                     static_cast<double>(span.count() + 1)));
  if (plan.latency > p.latency_max) plan.latency = p.latency_max;
  if (calls <= p.fail_first ||
      (p.fail_rate > 0 && draw(operation, key, calls, "fail") < p.fail_rate)) {
    plan.fault = Fault::fail;
  } else if (calls <= p.timeout_first ||
             (p.timeout_rate > 0 && draw(operation, key, calls, "late") < p.timeout_rate)) {
    plan.fault = Fault::late;
  }
  return plan;
}

}  // namespace rmaflow::sim
