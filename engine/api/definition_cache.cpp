#include "engine/api/definition_cache.hpp"

#include "rmaflow/versions.hpp"

namespace rmaflow::api {

std::shared_ptr<const Definition> DefinitionCache::get(const DefinitionRow& row) {
  std::lock_guard lock(mu_);
  auto& found = entries_[{row.name, row.version, row.content_hash}];
  if (!found) found = load_deployed(row);
  return found;
}

void DefinitionCache::add(std::shared_ptr<const Definition> definition) {
  std::lock_guard lock(mu_);
  auto& found = entries_[{definition->name, definition->version, definition->content_hash}];
  if (!found) found = std::move(definition);
}

}  // namespace rmaflow::api
