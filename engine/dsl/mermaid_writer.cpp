// write_mermaid: a WorkflowGraph as a Mermaid flowchart. Only a small part of the grammar is
// used, and spelled so that no step name or condition can break it: node ids are `s_` plus the
// step name reduced to [A-Za-z0-9_] (never a Mermaid keyword such as `end`), subgraph ids `sg_`
// plus the flow's id likewise, every label is double-quoted with `"`, `<`, `>`, `&` and `#`
// written as Mermaid entity codes, edges are `-->`, `-.->` or `==>` with an optional |"label"|,
// and styling is classDef / class / linkStyle. Every node is declared inside its subgraph
// before any edge, and every edge after the last subgraph: Mermaid puts a node in the subgraph
// where it first appears.
#include <fmt/format.h>

#include <cctype>
#include <map>
#include <set>

#include "engine/dsl/workflow_graph.hpp"

namespace rmaflow::dsl {

namespace {

std::string escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '"': out += "#quot;"; break;
      case '<': out += "#lt;"; break;
      case '>': out += "#gt;"; break;
      case '&': out += "#amp;"; break;
      case '#': out += "#35;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string safe_id(const std::string& prefix, const std::string& name) {
  std::string id = prefix;
  for (char c : name) id += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return id;
}

// Ids for every node, then for every cluster: readable, unique, and safe in Mermaid.
std::vector<std::string> node_ids(const WorkflowGraph& g) {
  std::vector<std::string> ids;
  std::set<std::string> taken;
  auto add = [&](std::string id, std::size_t i) {
    if (!taken.insert(id).second) {
      id += fmt::format("_{}", i);
      taken.insert(id);
    }
    ids.push_back(std::move(id));
  };
  for (std::size_t i = 0; i < g.nodes.size(); ++i)
    add(i == 0 ? std::string("start_") : safe_id("s_", g.nodes[i].name), i);
  for (std::size_t i = 0; i < g.clusters.size(); ++i)
    add(safe_id("sg_", g.clusters[i].flow), g.nodes.size() + i);
  return ids;
}

std::string node_text(const GraphNode& n, const std::string& id) {
  std::string label = escape(n.title);
  if (!n.detail.empty()) label += "<br/>" + escape(n.detail);
  switch (n.shape) {
    case GraphNode::Shape::start: return fmt::format("{}((\"start\"))", id);
    case GraphNode::Shape::task: return fmt::format("{}[\"{}\"]", id, label);
    case GraphNode::Shape::switch_: return fmt::format("{}{{\"{}\"}}", id, label);
    case GraphNode::Shape::wait: return fmt::format("{}{{{{\"{}\"}}}}", id, label);
    case GraphNode::Shape::set: return fmt::format("{}[/\"{}\"/]", id, label);
    case GraphNode::Shape::end: return fmt::format("{}([\"{}\"])", id, label);
    case GraphNode::Shape::compensation:
    case GraphNode::Shape::call: return fmt::format("{}[[\"{}\"]]", id, label);
    case GraphNode::Shape::fan_out: return fmt::format("{}[/\"{}\"\\]", id, label);
  }
  return id;
}

std::string arrow(const GraphEdge& e) {
  switch (e.kind) {
    case GraphEdge::Kind::catch_:
    case GraphEdge::Kind::timeout:
    case GraphEdge::Kind::compensation: return "-.->";
    case GraphEdge::Kind::join: return e.taken ? "==>" : "-.->";
    default: return e.taken ? "==>" : "-->";
  }
}

std::string indices(const std::vector<std::size_t>& list) {
  return fmt::format("{}", fmt::join(list, ","));
}

// The nodes of `flow`, then its clusters, each holding its own; indented by depth.
void write_flow(const WorkflowGraph& g, const std::vector<std::string>& ids,
                const std::string& flow, int depth, std::string& out) {
  std::string indent(static_cast<std::size_t>(2 * depth), ' ');
  for (std::size_t i = 0; i < g.nodes.size(); ++i)
    if (g.nodes[i].flow == flow) out += indent + node_text(g.nodes[i], ids[i]) + "\n";
  for (std::size_t c = 0; c < g.clusters.size(); ++c) {
    if (g.clusters[c].parent != flow) continue;
    out += fmt::format("{}subgraph {} [\"{}\"]\n", indent, ids[g.nodes.size() + c],
                       escape(g.clusters[c].title));
    write_flow(g, ids, g.clusters[c].flow, depth + 1, out);
    out += indent + "end\n";
  }
}

}  // namespace

std::string write_mermaid(const WorkflowGraph& g) {
  auto ids = node_ids(g);
  std::string out =
      fmt::format("flowchart TD\n  %% workflow {} version {}\n", g.workflow, g.version);
  write_flow(g, ids, "", 1, out);
  std::vector<std::size_t> catches, timeouts, compensations, branches, taken;
  for (std::size_t i = 0; i < g.edges.size(); ++i) {
    const auto& e = g.edges[i];
    std::string label = e.label.empty() ? "" : fmt::format("|\"{}\"|", escape(e.label));
    out += fmt::format("  {} {}{} {}\n", ids[e.from], arrow(e), label, ids[e.to]);
    if (e.kind == GraphEdge::Kind::catch_) catches.push_back(i);
    if (e.kind == GraphEdge::Kind::timeout) timeouts.push_back(i);
    if (e.kind == GraphEdge::Kind::compensation) compensations.push_back(i);
    if (e.kind == GraphEdge::Kind::fan_out || e.kind == GraphEdge::Kind::join)
      branches.push_back(i);
    if (e.taken) taken.push_back(i);
  }
  if (!catches.empty()) out += fmt::format("  linkStyle {} stroke:#c2410c\n", indices(catches));
  if (!timeouts.empty()) out += fmt::format("  linkStyle {} stroke:#a16207\n", indices(timeouts));
  if (!compensations.empty())
    out += fmt::format("  linkStyle {} stroke:#7c3aed\n", indices(compensations));
  if (!branches.empty()) out += fmt::format("  linkStyle {} stroke:#0f766e\n", indices(branches));
  if (!taken.empty())
    out += fmt::format("  linkStyle {} stroke:#2563eb,stroke-width:3px\n", indices(taken));

  std::map<std::string, std::vector<std::string>> classes;
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    const auto& n = g.nodes[i];
    if (n.shape == GraphNode::Shape::compensation) classes["compensation"].push_back(ids[i]);
    if (n.shape == GraphNode::Shape::end) classes["finish"].push_back(ids[i]);
    if (n.pivot) classes["pivot"].push_back(ids[i]);
    if (n.shape == GraphNode::Shape::call) classes["child"].push_back(ids[i]);
    if (n.visited) classes["visited"].push_back(ids[i]);
    if (n.current > 0) classes["current"].push_back(ids[i]);
    if (n.failing) classes["failing"].push_back(ids[i]);
  }
  std::string current_fill = is_final(g.status)                        ? "#bbf7d0"
                             : g.status == InstanceStatus::suspended    ? "#fecaca"
                             : g.status == InstanceStatus::compensating ? "#e9d5ff"
                                                                        : "#fef08a";
  out += "  classDef finish stroke-width:2px\n";
  out += "  classDef compensation fill:#f5f3ff,stroke:#7c3aed,stroke-dasharray:4 3\n";
  out += "  classDef pivot stroke-width:3px\n";
  out += "  classDef child fill:#f0fdfa,stroke:#0f766e\n";
  out += "  classDef visited fill:#dbeafe,stroke:#2563eb\n";
  out += fmt::format("  classDef current fill:{},stroke:#111827,stroke-width:3px\n", current_fill);
  out += "  classDef failing fill:#fecaca,stroke:#b91c1c,stroke-width:3px\n";
  // Later classes win, so the current step shows over visited, and a failing one over both.
  for (const char* name :
       {"finish", "compensation", "pivot", "child", "visited", "current", "failing"}) {
    auto it = classes.find(name);
    if (it != classes.end())
      out += fmt::format("  class {} {}\n", fmt::join(it->second, ","), name);
  }
  return out;
}

}  // namespace rmaflow::dsl
