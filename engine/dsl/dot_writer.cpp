// write_dot: a WorkflowGraph as a Graphviz digraph. Every id and label is a double-quoted
// string with `"` and `\` escaped, so no step name or condition can break the syntax, and `&`
// written as `&amp;`, since Graphviz reads entities in strings (a condition comparing with
// "&amp;" would otherwise be drawn as "&"). A branch's sub-flow is a `subgraph "cluster_<flow>"`
// holding its nodes (Graphviz draws a box around a subgraph whose name starts with cluster);
// every edge is written after the last node.
#include <fmt/format.h>

#include "engine/dsl/workflow_graph.hpp"

namespace rmaflow::dsl {

namespace {

std::string dot_string(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    if (c == '&') {
      out += "&amp;";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

// The node's classes in an SVG drawing (Graphviz copies `class` there), so that a page can find
// a step and style or pick it: "step", its kind, and visited, current, failing, pivot.
std::string classes(const GraphNode& n) {
  std::string out = "step";
  switch (n.shape) {
    case GraphNode::Shape::start: out += " start"; break;
    case GraphNode::Shape::task: out += " task"; break;
    case GraphNode::Shape::switch_: out += " switch"; break;
    case GraphNode::Shape::wait: out += " wait"; break;
    case GraphNode::Shape::set: out += " set"; break;
    case GraphNode::Shape::end: out += " end"; break;
    case GraphNode::Shape::compensation: out += " compensation"; break;
    case GraphNode::Shape::fan_out: out += " fan-out"; break;
    case GraphNode::Shape::call: out += " call"; break;
  }
  for (auto [on, name] : {std::pair{n.visited, " visited"}, std::pair{n.current > 0, " current"},
                          std::pair{n.failing, " failing"}, std::pair{n.pivot, " pivot"}}) {
    if (on) out += name;
  }
  return out;
}

std::string node_attributes(const GraphNode& n, InstanceStatus status) {
  std::string label = n.detail.empty() ? n.title : n.title + "\n" + n.detail;
  std::string shape;
  std::string style = "filled";
  std::string fill = "white";
  std::string extra;
  switch (n.shape) {
    case GraphNode::Shape::start: return "shape=point, width=0.15, class=\"step start\"";
    case GraphNode::Shape::task: shape = "box"; style += ",rounded"; break;
    case GraphNode::Shape::switch_: shape = "diamond"; break;
    case GraphNode::Shape::wait: shape = "hexagon"; break;
    case GraphNode::Shape::set: shape = "parallelogram"; break;
    case GraphNode::Shape::end: shape = "box"; style += ",rounded,bold"; break;
    case GraphNode::Shape::compensation:
      shape = "box";
      style += ",dashed";
      fill = "#f5f3ff";
      extra = ", color=\"#7c3aed\"";
      break;
    case GraphNode::Shape::fan_out: shape = "box3d"; break;
    case GraphNode::Shape::call:
      shape = "component";
      fill = "#f0fdfa";
      extra = ", color=\"#0f766e\"";
      break;
  }
  if (n.compensates) extra += ", peripheries=2";
  if (n.pivot) extra += ", penwidth=3";
  if (n.visited) fill = "#dbeafe";
  if (n.current > 0) {
    fill = is_final(status)                         ? "#bbf7d0"
           : status == InstanceStatus::suspended    ? "#fecaca"
           : status == InstanceStatus::compensating ? "#e9d5ff"
                                                    : "#fef08a";
    std::string where = std::string(to_string(status));
    if (n.current > 1) where += fmt::format(" ({} branches)", n.current);
    extra += fmt::format(", penwidth=3, xlabel={}", dot_string(where));
  }
  if (n.failing) {
    fill = "#fecaca";
    extra += ", color=\"#b91c1c\", penwidth=3";
    if (n.current == 0) extra += ", xlabel=\"failing\"";
  }
  return fmt::format("shape={}, style={}, fillcolor={}, label={}{}, class={}", shape, dot_string(style),
                     dot_string(fill), dot_string(label), extra, dot_string(classes(n)));
}

std::string edge_attributes(const GraphEdge& e) {
  std::vector<std::string> parts;
  if (!e.label.empty()) parts.push_back("label=" + dot_string(e.label));
  switch (e.kind) {
    case GraphEdge::Kind::catch_: parts.push_back("style=dashed, color=\"#c2410c\""); break;
    case GraphEdge::Kind::timeout: parts.push_back("style=dashed, color=\"#a16207\""); break;
    case GraphEdge::Kind::compensation:
      parts.push_back("style=dotted, color=\"#7c3aed\", arrowhead=empty");
      break;
    case GraphEdge::Kind::fan_out: parts.push_back("color=\"#0f766e\""); break;
    case GraphEdge::Kind::join: parts.push_back("style=dashed, color=\"#0f766e\""); break;
    default: break;
  }
  if (e.taken) parts.push_back("penwidth=3, color=\"#2563eb\", class=\"taken\"");
  return fmt::format("{}", fmt::join(parts, ", "));
}

// The nodes of `flow`, then its clusters, each holding its own; indented by depth.
void write_flow(const WorkflowGraph& g, const std::string& flow, int depth, std::string& out) {
  std::string indent(static_cast<std::size_t>(2 * depth), ' ');
  for (const auto& n : g.nodes)
    if (n.flow == flow)
      out += fmt::format("{}{} [{}];\n", indent, dot_string(n.name), node_attributes(n, g.status));
  for (const auto& c : g.clusters) {
    if (c.parent != flow) continue;
    out += fmt::format("{}subgraph {} {{\n", indent, dot_string("cluster_" + c.flow));
    out += fmt::format("{}  label={}; labeljust=l; fontname=\"Helvetica\"; fontsize=10; "
                       "style=\"rounded,dashed\"; color=\"#0f766e\";\n",
                       indent, dot_string(c.title));
    write_flow(g, c.flow, depth + 1, out);
    out += indent + "}\n";
  }
}

}  // namespace

std::string write_dot(const WorkflowGraph& g) {
  std::string out = fmt::format("digraph {} {{\n", dot_string(fmt::format("{} v{}", g.workflow, g.version)));
  out += "  rankdir=TB;\n";
  out += "  node [fontname=\"Helvetica\", fontsize=10];\n";
  out += "  edge [fontname=\"Helvetica\", fontsize=9];\n";
  write_flow(g, "", 1, out);
  for (const auto& e : g.edges) {
    auto attributes = edge_attributes(e);
    out += fmt::format("  {} -> {}{};\n", dot_string(g.nodes[e.from].name), dot_string(g.nodes[e.to].name),
                       attributes.empty() ? "" : " [" + attributes + "]");
  }
  return out + "}\n";
}

}  // namespace rmaflow::dsl
