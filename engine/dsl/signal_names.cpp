#include "engine/dsl/signal_names.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "engine/dsl/map_reader.hpp"

namespace rmaflow::dsl {

std::vector<std::string> consumable_signals(const Definition& definition) {
  std::vector<std::string> names;
  for (const auto& step : definition.steps) {
    const auto* wait = std::get_if<WaitStep>(&step.body);
    if (wait != nullptr && !wait->signal.empty()) names.push_back(wait->signal);
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

std::string signal_refusal(const Definition& definition, std::string_view name) {
  auto names = consumable_signals(definition);
  if (std::find(names.begin(), names.end(), name) != names.end()) return {};
  std::string owner = fmt::format("workflow {} version {}", definition.name, definition.version);
  if (names.empty()) {
    return fmt::format("{} waits for no signal, so it cannot take signal {}", owner, name);
  }
  std::vector<std::string_view> views(names.begin(), names.end());
  std::string near = closest_match(name, views);
  return fmt::format("{} never waits for signal {}{}; it waits for: {}", owner, name,
                     near.empty() ? "" : fmt::format(" (did you mean {}?)", near),
                     fmt::join(names, ", "));
}

}  // namespace rmaflow::dsl
