// One page of an instance list, as GET /v1/instances answers it and `rmaflow list --db` prints
// it: {items, next_cursor}.
#pragma once

#include <cstddef>
#include <optional>

#include <nlohmann/json.hpp>

#include "engine/api/stuck.hpp"
#include "rmaflow/store.hpp"

namespace rmaflow::api {

class DefinitionCache;

// The largest page a list answers, through the API and `rmaflow list` alike.
inline constexpr std::size_t kMaxPage = 1000;

// At most `limit` instances matching `filter` after filter.after_id (its limit is ignored),
// each as instance_json() without context; with `stuck`, only those find_stuck() reports as of
// `now` (and it selects), each with every reason it is stuck for (add_stuck_fields());
// `definitions` as for find_stuck(). next_cursor is the last id when more follow, else null.
nlohmann::json instance_page(Store& store, InstanceFilter filter, std::size_t limit,
                             const std::optional<StuckFilter>& stuck, TimePoint now,
                             DefinitionCache* definitions = nullptr);

}  // namespace rmaflow::api
