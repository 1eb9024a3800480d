// overlay_of (rmaflow/graph.hpp): an instance's path, read from its history.
#include "rmaflow/graph.hpp"

namespace rmaflow {

GraphOverlay overlay_of(const InstanceRow& row, const std::vector<EventRow>& history) {
  GraphOverlay overlay;
  overlay.current = row.step;
  overlay.status = row.status;
  for (const auto& e : history) {
    if (e.type == EventType::step_entered) overlay.visited.push_back(e.step);
    if (e.type == EventType::compensation_step_completed) overlay.compensated.push_back(e.step);
  }
  return overlay;
}

}  // namespace rmaflow
