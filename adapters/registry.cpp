#include "rmaflow/adapter.hpp"

namespace rmaflow {

AdapterRegistry::AdapterRegistry() = default;
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

}  // namespace rmaflow
