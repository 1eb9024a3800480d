#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>

#include "adapters/builtin/builtin_adapter.hpp"
#include "adapters/common/config_reader.hpp"
#include "adapters/http/http_adapter.hpp"
#include "adapters/sim/sim_adapter.hpp"
#include "adapters/sim/sim_set.hpp"
#include "engine/dsl/yaml_bounds.hpp"
#include "engine/support/yaml_json.hpp"
#include "rmaflow/adapter.hpp"

namespace rmaflow {

namespace {

constexpr const char* kKnownTypes = "builtin, sim, http";

CallLimit read_call_limit(const YAML::Node& node, const ConfigReader& reader,
                          const std::string& where) {
  CallLimit limit;
  if (node["in_flight"]) {
    limit.in_flight = static_cast<std::size_t>(
        reader.integer(node["in_flight"], 1, 100000, where + " in_flight"));
  }
  if (node["per_second"]) {
    limit.per_second = reader.number(node["per_second"], 0.01, 100000, where + " per_second");
  }
  return limit;
}

// An adapter's `limits: {in_flight, per_second, operations: {op: {in_flight, per_second}}}`.
AdapterLimits read_limits(const std::string& name, const Adapter& adapter, const YAML::Node& node,
                          const ConfigReader& reader) {
  auto where = fmt::format("adapter \"{}\" limits", name);
  reader.expect_map(node, where);
  reader.check_keys(node, {"in_flight", "per_second", "operations"}, where);
  AdapterLimits limits;
  limits.adapter = read_call_limit(node, reader, where);
  if (const auto& operations = node["operations"]) {
    reader.expect_map(operations, where + " operations");
    for (const auto& op : operations) {
      auto op_where = fmt::format("{} of operation {}", where, op.first.Scalar());
      // A misspelt operation would leave the real one unlimited without a word.
      if (!adapter.has_operation(op.first.Scalar())) {
        reader.fail(op.first, fmt::format("{}: adapter \"{}\" has no operation \"{}\"", where, name,
                                          op.first.Scalar()));
      }
      reader.expect_map(op.second, op_where);
      reader.check_keys(op.second, {"in_flight", "per_second"}, op_where);
      auto limit = read_call_limit(op.second, reader, op_where);
      if (!limit.any()) reader.fail(op.second, op_where + " sets neither in_flight nor per_second");
      limits.operations[op.first.Scalar()] = limit;
    }
  }
  if (!limits.adapter.any() && limits.operations.empty()) {
    reader.fail(node, where + " sets no limit (in_flight, per_second or operations)");
  }
  return limits;
}

}  // namespace

AdapterRegistry::AdapterRegistry() {
  add("builtin", std::make_shared<BuiltinAdapter>("builtin", BuiltinBehavior{},
                                                  std::map<std::string, BuiltinBehavior, std::less<>>{},
                                                  nullptr));
}
AdapterRegistry::~AdapterRegistry() = default;
AdapterRegistry::AdapterRegistry(AdapterRegistry&&) noexcept = default;
AdapterRegistry& AdapterRegistry::operator=(AdapterRegistry&&) noexcept = default;

void AdapterRegistry::add(const std::string& name, std::shared_ptr<Adapter> adapter) {
  adapters_[name] = std::move(adapter);
}

Adapter* AdapterRegistry::find(std::string_view name) const {
  auto it = adapters_.find(name);
  return it == adapters_.end() ? nullptr : it->second.get();
}

std::vector<std::string> AdapterRegistry::names() const {
  std::vector<std::string> out;
  for (const auto& [name, _] : adapters_) out.push_back(name);
  return out;
}

void AdapterRegistry::set_limits(const std::string& name, AdapterLimits limits) {
  limits_[name] = std::move(limits);
}

std::vector<std::shared_ptr<Adapter>> AdapterRegistry::all() const {
  std::vector<std::shared_ptr<Adapter>> out;
  for (const auto& [_, adapter] : adapters_) out.push_back(adapter);
  return out;
}

namespace {

constexpr auto kAdaptersFileBounds = dsl::data_file_bounds("an adapters file");

AdapterRegistry registry_of(const YAML::Node& root, const std::string& file,
                            const std::string& base_dir) {
  if (!root.IsMap() || !root["adapters"] || !root["adapters"].IsMap()) {
    throw Error(Errc::adapter_config,
                fmt::format("{}: an adapters file is a mapping with an \"adapters\" mapping of "
                            "name to configuration",
                            file));
  }
  for (const auto& kv : root) {
    if (kv.first.Scalar() != "adapters") {
      throw Error(Errc::adapter_config,
                  fmt::format("{}:{}: unknown top-level key \"{}\" (only \"adapters\")", file,
                              yaml_position(kv.first), kv.first.Scalar()));
    }
  }
  ConfigReader reader(file, base_dir);
  AdapterRegistry registry;
  sim::SimSet sims;
  for (const auto& kv : root["adapters"]) {
    auto name = kv.first.Scalar();
    const auto& config = kv.second;
    if (!config.IsMap() || !config["type"]) {
      reader.fail(kv.second, fmt::format("adapter \"{}\" needs a \"type\" ({})", name, kKnownTypes));
    }
    auto type = config["type"].Scalar();
    if (type == "builtin") {
      registry.add(name, BuiltinAdapter::from_yaml(name, config, reader));
    } else if (type == "http") {
      registry.add(name, HttpAdapter::from_yaml(name, config, reader));
    } else if (type == "sim") {
      registry.add(name, std::make_shared<sim::SimAdapter>(sims.add(name, config, reader)));
    } else {
      reader.fail(config["type"], fmt::format("adapter \"{}\" has unknown type \"{}\" (known: {})",
                                              name, type, kKnownTypes));
    }
    if (config["limits"]) {
      registry.set_limits(name, read_limits(name, *registry.find(name), config["limits"], reader));
    }
  }
  sims.link();
  return registry;
}

}  // namespace

AdapterRegistry AdapterRegistry::from_file(const std::string& path) {
  auto root = dsl::load_bounded_yaml_file(path, "the adapters file", kAdaptersFileBounds,
                                          Errc::adapter_config);
  auto base_dir = std::filesystem::path(path).parent_path().string();
  return registry_of(root, path, base_dir.empty() ? "." : base_dir);
}

AdapterRegistry AdapterRegistry::from_yaml(const std::string& yaml, const std::string& file,
                                           const std::string& base_dir) {
  return registry_of(dsl::load_bounded_yaml(yaml, file, kAdaptersFileBounds, Errc::adapter_config),
                     file, base_dir);
}

}  // namespace rmaflow
