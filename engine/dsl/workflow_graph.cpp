#include "engine/dsl/workflow_graph.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>

namespace rmaflow::dsl {

namespace {

constexpr std::size_t kLongestLabel = 48;

std::string shorten(std::string text) {
  std::replace(text.begin(), text.end(), '\n', ' ');
  if (text.size() > kLongestLabel) {
    text.resize(kLongestLabel - 3);
    text += "...";
  }
  return text;
}

std::string detail_of(const Step& step) {
  if (const auto* task = std::get_if<TaskStep>(&step.body))
    return task->adapter + "." + task->operation + (task->pivot ? " (pivot)" : "");
  if (const auto* wait = std::get_if<WaitStep>(&step.body)) {
    if (wait->signal.empty()) return "wait " + format_duration(wait->duration.value_or(Duration{}));
    std::string out = "wait for " + wait->signal;
    if (wait->timeout) out += " (" + format_duration(*wait->timeout) + ")";
    return out;
  }
  if (const auto* set = std::get_if<SetStep>(&step.body)) {
    std::vector<std::string> keys;
    for (const auto& [key, value] : set->assignments) keys.push_back(key);
    return shorten(fmt::format("set {}", fmt::join(keys, ", ")));
  }
  if (const auto* end = std::get_if<EndStep>(&step.body))
    return fmt::format("end: {}{}", to_string(end->status), end->compensate ? ", compensates" : "");
  return "switch";
}

GraphNode::Shape shape_of(const Step& step) {
  switch (step.kind()) {
    case StepKind::task: return GraphNode::Shape::task;
    case StepKind::switch_: return GraphNode::Shape::switch_;
    case StepKind::wait: return GraphNode::Shape::wait;
    case StepKind::set: return GraphNode::Shape::set;
    case StepKind::end: return GraphNode::Shape::end;
  }
  return GraphNode::Shape::task;
}

class Builder {
 public:
  explicit Builder(const Definition& d) : d_(d) {
    g_.workflow = d.name;
    g_.version = d.version;
    add_node({GraphNode::Shape::start, "(start)", "start", "", false, false, false, false});
    for (const auto& step : d.steps) {
      GraphNode node{shape_of(step), step.name, step.name, detail_of(step)};
      if (const auto* task = step.task()) node.pivot = task->pivot;
      if (const auto* end = std::get_if<EndStep>(&step.body)) node.compensates = end->compensate;
      index_[step.name] = add_node(std::move(node));
    }
    edge(GraphEdge::Kind::start, 0, d.start, "");
    for (const auto& step : d.steps) edges_of(step);
  }

  WorkflowGraph take() { return std::move(g_); }

  void overlay(const GraphOverlay& o) {
    g_.has_overlay = true;
    g_.status = o.status;
    for (std::size_t i = 0; i < o.visited.size(); ++i) {
      auto it = index_.find(o.visited[i]);
      if (it == index_.end()) continue;  // a step of another version (after a migration)
      g_.nodes[it->second].visited = true;
      std::size_t from = 0;  // the start
      if (i > 0) {
        auto prev = index_.find(o.visited[i - 1]);
        if (prev == index_.end()) continue;
        from = prev->second;
      }
      for (auto& e : g_.edges)
        if (e.from == from && e.to == it->second && e.kind != GraphEdge::Kind::compensation)
          e.taken = true;
    }
    for (const auto& step : o.current)
      if (auto it = index_.find(step); it != index_.end()) g_.nodes[it->second].current = true;
    for (const auto& step : o.failing)
      if (auto it = index_.find(step); it != index_.end()) g_.nodes[it->second].failing = true;
    for (const auto& step : o.compensated) {
      auto undo = index_.find("undo " + step);
      if (undo == index_.end()) continue;
      g_.nodes[undo->second].visited = true;
      for (auto& e : g_.edges)
        if (e.to == undo->second) e.taken = true;
    }
  }

 private:
  std::size_t add_node(GraphNode node) {
    g_.nodes.push_back(std::move(node));
    return g_.nodes.size() - 1;
  }

  void edge(GraphEdge::Kind kind, std::size_t from, const std::string& to, std::string label) {
    auto it = index_.find(to);
    if (it == index_.end()) return;
    g_.edges.push_back({kind, from, it->second, std::move(label), false});
  }

  void edges_of(const Step& step) {
    std::size_t from = index_.at(step.name);
    if (const auto* task = step.task()) {
      edge(GraphEdge::Kind::next, from, step.next, "");
      for (const auto& c : task->catches)
        edge(GraphEdge::Kind::catch_, from, c.next, fmt::format("catch {}", fmt::join(c.errors, ", ")));
      if (task->compensate) {
        std::string name = "undo " + step.name;
        index_[name] = add_node({GraphNode::Shape::compensation, name, name,
                                 task->compensate->adapter + "." + task->compensate->operation});
        edge(GraphEdge::Kind::compensation, from, name, "compensate");
      }
    } else if (const auto* sw = std::get_if<SwitchStep>(&step.body)) {
      for (const auto& c : sw->cases)
        edge(GraphEdge::Kind::branch, from, c.next, shorten(c.condition.source()));
      edge(GraphEdge::Kind::fallback, from, sw->default_next, "default");
    } else if (const auto* wait = std::get_if<WaitStep>(&step.body)) {
      edge(GraphEdge::Kind::next, from, step.next, wait->signal.empty() ? "" : wait->signal);
      if (wait->timeout)
        edge(GraphEdge::Kind::timeout, from, wait->on_timeout,
             "timeout " + format_duration(*wait->timeout));
    } else {
      edge(GraphEdge::Kind::next, from, step.next, "");
    }
  }

  const Definition& d_;
  WorkflowGraph g_;
  std::map<std::string, std::size_t> index_;  // node name -> index
};

}  // namespace

WorkflowGraph build_graph(const Definition& definition, const GraphOverlay* overlay) {
  Builder builder(definition);
  if (overlay != nullptr) builder.overlay(*overlay);
  return builder.take();
}

}  // namespace rmaflow::dsl

namespace rmaflow {

std::string render_graph(const Definition& definition, GraphFormat format,
                         const GraphOverlay* overlay) {
  auto graph = dsl::build_graph(definition, overlay);
  return format == GraphFormat::dot ? dsl::write_dot(graph) : dsl::write_mermaid(graph);
}

}  // namespace rmaflow
