#include "engine/api/instance_page.hpp"

#include "engine/api/stuck.hpp"
#include "engine/api/views.hpp"

namespace rmaflow::api {

nlohmann::json instance_page(Store& store, InstanceFilter filter, std::size_t limit,
                             const std::optional<StuckFilter>& stuck, TimePoint now,
                             DefinitionCache* definitions) {
  filter.limit = limit + 1;  // one more than answered tells whether a next page exists
  auto items = nlohmann::json::array();
  if (stuck) {
    for (auto& found : find_stuck(store, std::move(filter), now, definitions, *stuck)) {
      auto item = instance_json(found.row, false);
      add_stuck_fields(item, found);
      items.push_back(std::move(item));
    }
  } else {
    items = instances_json(store.list_instances(filter));
  }
  nlohmann::json next;
  if (items.size() > limit) {
    items.erase(items.begin() + static_cast<std::ptrdiff_t>(limit), items.end());
    next = items.back()["id"];
  }
  return {{"items", std::move(items)}, {"next_cursor", std::move(next)}};
}

}  // namespace rmaflow::api
