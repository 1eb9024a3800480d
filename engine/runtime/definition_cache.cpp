#include "engine/runtime/definition_cache.hpp"

#include <fmt/format.h>

#include "rmaflow/versions.hpp"

namespace rmaflow {

DefinitionCache::DefinitionCache(Store& store, StoreGate& store_mu)
    : store_(store), store_mu_(store_mu) {
  std::lock_guard lock(store_mu_);
  for (const auto& row : store_.list_definitions()) {
    auto& v = latest_[row.name];
    v = std::max(v, row.version);
  }
}

bool DefinitionCache::deploy(std::shared_ptr<const Definition> def, TimePoint now) {
  bool created;
  {
    std::lock_guard lock(store_mu_);
    created = store_definition(store_, *def, now) == PutResult::inserted;
  }
  std::lock_guard lock(mu_);
  auto& v = latest_[def->name];
  v = std::max(v, def->version);
  definitions_.try_emplace({def->name, def->version}, std::move(def));
  return created;
}

std::optional<int> DefinitionCache::latest(const std::string& workflow) {
  std::lock_guard lock(mu_);
  auto it = latest_.find(workflow);
  if (it == latest_.end()) return std::nullopt;
  return it->second;
}

std::shared_ptr<const Definition> DefinitionCache::get(const std::string& workflow, int version) {
  {
    std::lock_guard lock(mu_);
    auto it = definitions_.find({workflow, version});
    if (it != definitions_.end()) return it->second;
  }
  std::optional<DefinitionRow> row;
  {
    std::lock_guard lock(store_mu_);
    row = store_.get_definition(workflow, version);
  }
  if (!row) return nullptr;
  auto loaded = load_deployed(*row);
  std::lock_guard lock(mu_);
  return definitions_.emplace(std::pair{workflow, version}, loaded).first->second;
}

void DefinitionCache::check_input(const Definition& def, const nlohmann::json& input) {
  if (!def.input_schema) return;
  std::shared_ptr<const InputSchema> schema;
  {
    std::lock_guard lock(mu_);
    auto& slot = schemas_[&def];
    if (!slot) slot = std::make_shared<const InputSchema>(*def.input_schema);
    schema = slot;
  }
  auto violations = schema->check(input);
  if (!violations.empty()) throw schema_violations(def.name, std::move(violations));
}

}  // namespace rmaflow
