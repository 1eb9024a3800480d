// overlay_of (rmaflow/graph.hpp): an instance's path, read from its history, and where each of
// its cursors stands, read from its row.
#include "rmaflow/graph.hpp"

namespace rmaflow {

GraphOverlay overlay_of(const InstanceRow& row, const std::vector<EventRow>& history) {
  GraphOverlay overlay;
  overlay.status = row.status;
  for (const auto& c : row.cursors) {
    if (!c.branch.empty() && c.phase == Phase::ended) continue;  // ended, waiting to join
    overlay.current.push_back(c.step);
  }
  if (overlay.current.empty()) overlay.current.push_back(row.step);
  // An open incident names the step that failed; a failed compensation is drawn as its own
  // node, "undo <step>".
  for (const Cursor* c : row.incidents()) {
    const auto& step = c->incident->step;
    overlay.failing.push_back(c->incident->compensating ? "undo " + step : step);
  }
  for (const auto& e : history) {
    if (e.type == EventType::step_entered) {
      if (e.branch.empty()) {
        overlay.visited.push_back(e.step);
      } else {
        overlay.branches[e.branch].push_back(e.step);
      }
    }
    if (e.type == EventType::compensation_step_completed) overlay.compensated.push_back(e.step);
    if (e.type == EventType::operator_action && e.branch.empty()) {
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
