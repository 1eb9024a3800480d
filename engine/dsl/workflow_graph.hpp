// The drawing of a workflow as nodes, edges and clusters, shared by the Mermaid and DOT writers:
// what to draw is decided here once, how to spell it is each writer's business.
#pragma once

#include <string>
#include <vector>

#include "rmaflow/graph.hpp"

namespace rmaflow::dsl {

struct GraphNode {
  enum class Shape { start, task, switch_, wait, set, end, compensation, fan_out, call };
  Shape shape = Shape::task;
  std::string name;    // the step's name (or "undo <step>", "start"), unique in the graph
  std::string title;   // first label line
  std::string detail;  // second label line, may be empty
  std::string flow;    // the cluster it is drawn in (Step::flow); "" for the top level
  bool pivot = false;
  bool compensates = false;  // an end that compensates first
  bool visited = false;
  int current = 0;       // how many of the instance's cursors stand here
  bool failing = false;  // an open incident stands here
};

struct GraphEdge {
  enum class Kind { start, next, branch, fallback, catch_, timeout, compensation, fan_out, join };
  Kind kind = Kind::next;
  std::size_t from = 0;
  std::size_t to = 0;
  std::string label;  // empty when unlabelled
  bool taken = false;
};

// The sub-flow one branch of a fan-out step runs, drawn around its steps.
struct GraphCluster {
  std::string flow;    // Step::flow of its steps: "inspect_lines", "ship_and_notify.ship"
  std::string parent;  // the flow it is drawn inside ("" for the top level)
  std::string title;
};

struct WorkflowGraph {
  std::string workflow;
  int version = 0;
  std::vector<GraphNode> nodes;  // the start, the steps in file order, then compensations
  std::vector<GraphEdge> edges;
  std::vector<GraphCluster> clusters;  // in file order: a cluster comes after its parent
  bool has_overlay = false;
  InstanceStatus status = InstanceStatus::running;  // of the overlaid instance
};

WorkflowGraph build_graph(const Definition& definition, const GraphOverlay* overlay);

std::string write_mermaid(const WorkflowGraph& graph);
std::string write_dot(const WorkflowGraph& graph);

}  // namespace rmaflow::dsl
