// The drawing of a workflow as nodes and edges, shared by the Mermaid and DOT writers: what to
// draw is decided here once, how to spell it is each writer's business.
#pragma once

#include <string>
#include <vector>

#include "rmaflow/graph.hpp"

namespace rmaflow::dsl {

struct GraphNode {
  enum class Shape { start, task, switch_, wait, set, end, compensation };
  Shape shape = Shape::task;
  std::string name;    // the step's name (or "undo <step>", "start"), unique in the graph
  std::string title;   // first label line
  std::string detail;  // second label line, may be empty
  bool pivot = false;
  bool compensates = false;  // an end that compensates first
  bool visited = false;
  bool current = false;
  bool failing = false;  // an open incident stands here
};

struct GraphEdge {
  enum class Kind { start, next, branch, fallback, catch_, timeout, compensation };
  Kind kind = Kind::next;
  std::size_t from = 0;
  std::size_t to = 0;
  std::string label;  // empty when unlabelled
  bool taken = false;
};

struct WorkflowGraph {
  std::string workflow;
  int version = 0;
  std::vector<GraphNode> nodes;  // the start, the steps in file order, then compensations
  std::vector<GraphEdge> edges;
  bool has_overlay = false;
  InstanceStatus status = InstanceStatus::running;  // of the overlaid instance
};

WorkflowGraph build_graph(const Definition& definition, const GraphOverlay* overlay);

std::string write_mermaid(const WorkflowGraph& graph);
std::string write_dot(const WorkflowGraph& graph);

}  // namespace rmaflow::dsl
