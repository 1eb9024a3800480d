// Drawing a workflow: its steps and every way between them, as Mermaid or Graphviz DOT text,
// optionally with the path one instance took and where it stands.
//
// What is drawn: each step (its kind by shape, its action, wait or status in the label; pivots
// and ends that compensate marked), `next` and switch transitions (solid, cases labelled with
// their condition), catch routes (dashed, labelled with their error codes), wait timeouts
// (dashed, labelled with the timeout), each task's compensation as its own node reached by a
// dotted edge, and the start.
#pragma once

#include <string>
#include <vector>

#include "rmaflow/definition.hpp"
#include "rmaflow/status.hpp"
#include "rmaflow/store.hpp"

namespace rmaflow {

enum class GraphFormat { mermaid, dot };

// Where an instance has been and where it stands.
struct GraphOverlay {
  std::vector<std::string> visited;      // steps entered, in order (a loop repeats them)
  // Where it stands: one step per position it holds (an instance with branches holds one per
  // branch); its last step once finished.
  std::vector<std::string> current;
  std::vector<std::string> failing;      // steps with an open incident
  InstanceStatus status = InstanceStatus::running;
  std::vector<std::string> compensated;  // steps whose compensation ran to completion
};

// The graph as text in `format`. With an overlay, visited steps and the transitions taken
// between them are highlighted, each current step is marked with the instance's status, and
// failing steps are marked as such.
std::string render_graph(const Definition& definition, GraphFormat format,
                         const GraphOverlay* overlay = nullptr);

// The overlay of an instance, read from its row and its history.
GraphOverlay overlay_of(const InstanceRow& row, const std::vector<EventRow>& history);

}  // namespace rmaflow
