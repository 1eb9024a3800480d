// overlay_of (rmaflow/graph.hpp): an instance's path, read from its history.
#include "rmaflow/graph.hpp"

namespace rmaflow {

GraphOverlay overlay_of(const InstanceRow& row, const std::vector<EventRow>& history) {
  GraphOverlay overlay;
  overlay.current = {row.step};
  overlay.status = row.status;
  // An open incident names the step that failed; a failed compensation is drawn as its own
  // node, "undo <step>".
  auto incident = nlohmann::json::parse(row.incident.empty() ? "null" : row.incident, nullptr, false);
  if (incident.is_object()) {
    auto step = incident.value("step", row.step);
    overlay.failing = {incident.value("compensating", false) ? "undo " + step : step};
  }
  for (const auto& e : history) {
    if (e.type == EventType::step_entered) overlay.visited.push_back(e.step);
    if (e.type == EventType::compensation_step_completed) overlay.compensated.push_back(e.step);
    if (e.type == EventType::operator_action) {
      // A migration moved the instance to the new version's step: the path reads as if it had
      // entered that one.
      auto data = nlohmann::json::parse(e.data, nullptr, false);
      if (data.is_object() && data.value("action", "") == "migrate" && !overlay.visited.empty())
        overlay.visited.back() = data["after"].value("step", overlay.visited.back());
    }
  }
  return overlay;
}

}  // namespace rmaflow
