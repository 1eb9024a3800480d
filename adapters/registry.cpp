#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "adapters/builtin/builtin_adapter.hpp"
#include "adapters/common/config_reader.hpp"
#include "adapters/sim/sim_adapter.hpp"
#include "adapters/sim/sim_set.hpp"
#include "engine/support/yaml_json.hpp"
#include "rmaflow/adapter.hpp"

namespace rmaflow {

namespace {

constexpr const char* kKnownTypes = "builtin, sim";

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

std::vector<std::shared_ptr<Adapter>> AdapterRegistry::all() const {
  std::vector<std::shared_ptr<Adapter>> out;
  for (const auto& [_, adapter] : adapters_) out.push_back(adapter);
  return out;
}

AdapterRegistry AdapterRegistry::from_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(Errc::io, fmt::format("cannot read the adapters file {}", path));
  std::stringstream text;
  text << in.rdbuf();
  auto base_dir = std::filesystem::path(path).parent_path().string();
  return from_yaml(text.str(), path, base_dir.empty() ? "." : base_dir);
}

AdapterRegistry AdapterRegistry::from_yaml(const std::string& yaml, const std::string& file,
                                           const std::string& base_dir) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::ParserException& e) {
    throw Error(Errc::adapter_config, fmt::format("{}:{}:{}: {}", file, e.mark.line + 1,
                                                  e.mark.column + 1, e.msg));
  }
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
    } else if (type == "sim") {
      registry.add(name, std::make_shared<sim::SimAdapter>(sims.add(name, config, reader)));
    } else {
      reader.fail(config["type"], fmt::format("adapter \"{}\" has unknown type \"{}\" (known: {})",
                                              name, type, kKnownTypes));
    }
  }
  sims.link();
  return registry;
}

}  // namespace rmaflow
