// Drawing a workflow: its steps and every way between them, as Mermaid or Graphviz DOT text,
// optionally with the path one instance took and where it stands.
//
// What is drawn: each step (its kind by shape, its action, wait, fan-out, child workflow or
// status in the label; pivots and ends that compensate marked), `next` and switch transitions
// (solid, cases labelled with their condition), catch routes (dashed, labelled with their error
// codes), wait timeouts (dashed, labelled with the timeout), each task's compensation as its own
// node reached by a dotted edge, and the start. The sub-flow each branch of a foreach or parallel
// step runs is drawn as a subgraph (Mermaid `subgraph`, DOT `subgraph cluster_...`), entered by
// an edge from the fan-out step and joined back to it by an edge from each of its end steps.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "rmaflow/definition.hpp"
#include "rmaflow/status.hpp"
#include "rmaflow/store.hpp"

namespace rmaflow {

enum class GraphFormat { mermaid, dot };

// Where an instance has been and where it stands.
struct GraphOverlay {
  std::vector<std::string> visited;  // main-line steps entered, in order (a loop repeats them)
  // The steps each branch entered, in order, by branch path ("inspect_lines[L1]", nested
  // "inspect_lines[L1]/check[P2]"): what EventRow::branch says.
  std::map<std::string, std::vector<std::string>> branches;
  // Where it stands: one step per cursor (the main line's, or one per branch in flight), the
  // last step once finished. A step may appear more than once (several branches stand there).
  std::vector<std::string> current;
  std::vector<std::string> failing;  // steps with an open incident ("undo <step>" while undoing)
  InstanceStatus status = InstanceStatus::running;
  std::vector<std::string> compensated;  // steps whose compensation ran to completion
};

// The graph as text in `format`. With an overlay, visited steps and the transitions taken
// between them (per branch) are highlighted, each current step is marked with the instance's
// status, and failing steps are marked as such.
std::string render_graph(const Definition& definition, GraphFormat format,
                         const GraphOverlay* overlay = nullptr);

// The overlay of an instance, read from its row and its history.
GraphOverlay overlay_of(const InstanceRow& row, const std::vector<EventRow>& history);

}  // namespace rmaflow
