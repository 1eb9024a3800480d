#include "engine/api/definition_cache.hpp"

#include "engine/api/graph_svg.hpp"
#include "rmaflow/versions.hpp"

namespace rmaflow::api {

DefinitionCache::Entry& DefinitionCache::entry(const DefinitionRow& row) {
  auto& found = entries_[{row.name, row.version, row.content_hash}];
  if (!found.definition) found.definition = load_deployed(row);
  return found;
}

std::shared_ptr<const Definition> DefinitionCache::get(const DefinitionRow& row) {
  std::lock_guard lock(mu_);
  return entry(row).definition;
}

std::string DefinitionCache::svg(const DefinitionRow& row) {
  std::lock_guard lock(mu_);
  auto& found = entry(row);
  if (found.svg.empty()) found.svg = graph_svg(*found.definition);
  return found.svg;
}

void DefinitionCache::add(std::shared_ptr<const Definition> definition) {
  std::lock_guard lock(mu_);
  auto& found = entries_[{definition->name, definition->version, definition->content_hash}];
  if (!found.definition) found.definition = std::move(definition);
}

}  // namespace rmaflow::api
