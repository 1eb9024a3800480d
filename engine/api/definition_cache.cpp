#include "engine/api/definition_cache.hpp"

#include "engine/api/graph_svg.hpp"
#include "rmaflow/versions.hpp"

namespace rmaflow::api {

DefinitionCache::DefinitionCache()
    : DefinitionCache([](const Definition& definition) { return graph_svg(definition); }) {}

DefinitionCache::DefinitionCache(Drawer draw) : draw_(std::move(draw)) {}

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
  std::shared_ptr<const Definition> definition;
  {
    std::lock_guard lock(mu_);
    auto& found = entry(row);
    if (!found.svg.empty()) return found.svg;
    definition = found.definition;
  }
  auto drawn = draw_(*definition);
  std::lock_guard lock(mu_);
  auto& found = entry(row);
  if (found.svg.empty()) found.svg = std::move(drawn);
  return found.svg;
}

void DefinitionCache::add(std::shared_ptr<const Definition> definition) {
  std::lock_guard lock(mu_);
  auto& found = entries_[{definition->name, definition->version, definition->content_hash}];
  if (!found.definition) found.definition = std::move(definition);
}

}  // namespace rmaflow::api
