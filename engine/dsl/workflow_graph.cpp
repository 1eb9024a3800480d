#include "engine/dsl/workflow_graph.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>

#include "engine/dsl/flow_map.hpp"

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

// A foreach's items as written: the jq program, or how many literal items.
std::string items_of(const ForeachStep& f) {
  std::string program;
  const auto& raw = f.items.raw();
  if (raw.is_string() && Template::is_expression(raw.get<std::string>(), &program)) return program;
  return fmt::format("{} items", raw.size());
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
    return fmt::format("end: {}{}", end->label, end->compensate ? ", compensates" : "");
  if (const auto* foreach = std::get_if<ForeachStep>(&step.body)) {
    std::string limit =
        foreach->concurrency > 0 ? fmt::format(", {} at a time", foreach->concurrency) : "";
    return shorten(fmt::format("foreach {}{}", items_of(*foreach), limit));
  }
  if (const auto* parallel = std::get_if<ParallelStep>(&step.body)) {
    std::vector<std::string> names;
    for (const auto& [name, flow] : parallel->branches) names.push_back(name);
    return shorten(fmt::format("parallel: {}", fmt::join(names, ", ")));
  }
  if (const auto* call = std::get_if<CallStep>(&step.body))
    return fmt::format("call {}{}", call->workflow,
                       call->version ? fmt::format(" v{}", *call->version) : "");
  return "switch";
}

GraphNode::Shape shape_of(const Step& step) {
  switch (step.kind()) {
    case StepKind::task: return GraphNode::Shape::task;
    case StepKind::switch_: return GraphNode::Shape::switch_;
    case StepKind::wait: return GraphNode::Shape::wait;
    case StepKind::set: return GraphNode::Shape::set;
    case StepKind::end: return GraphNode::Shape::end;
    case StepKind::foreach:
    case StepKind::parallel: return GraphNode::Shape::fan_out;
    case StepKind::call: return GraphNode::Shape::call;
  }
  return GraphNode::Shape::task;
}

class Builder {
 public:
  explicit Builder(const Definition& d) : d_(d), flows_(d) {
    g_.workflow = d.name;
    g_.version = d.version;
    add_node({GraphNode::Shape::start, "(start)", "start", "", "", false, false, false, 0});
    for (const auto& step : d.steps) {
      GraphNode node{shape_of(step), step.name, step.name, detail_of(step), step.flow};
      if (const auto* task = step.task()) node.pivot = task->pivot;
      if (const auto* end = std::get_if<EndStep>(&step.body)) node.compensates = end->compensate;
      index_[step.name] = add_node(std::move(node));
      clusters_of(step);
    }
    edge(GraphEdge::Kind::start, 0, d.start, "");
    for (const auto& step : d.steps) edges_of(step);
  }

  WorkflowGraph take() { return std::move(g_); }

  void overlay(const GraphOverlay& o) {
    g_.has_overlay = true;
    g_.status = o.status;
    path(o.visited);
    for (const auto& [branch, steps] : o.branches) path(steps);
    for (const auto& step : o.current)
      if (auto it = index_.find(step); it != index_.end()) ++g_.nodes[it->second].current;
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

  void clusters_of(const Step& step) {
    if (const auto* foreach = std::get_if<ForeachStep>(&step.body))
      g_.clusters.push_back(
          {step.name, step.flow, fmt::format("{}: each .{}", step.name, foreach->as)});
    if (const auto* parallel = std::get_if<ParallelStep>(&step.body))
      for (const auto& [branch, flow] : parallel->branches)
        g_.clusters.push_back(
            {step.name + "." + branch, step.flow, fmt::format("{}: {}", step.name, branch)});
  }

  // The node of the fan-out step whose branches run the step; none at the top level.
  std::optional<std::size_t> owner_of(const Step& step) const {
    const Step* owner = flows_.owner(step.flow);
    if (owner == nullptr) return std::nullopt;
    return index_.at(owner->name);
  }

  void edges_of(const Step& step) {
    std::size_t from = index_.at(step.name);
    auto catches = [&] {
      for (const auto& c : step.catches())
        edge(GraphEdge::Kind::catch_, from, c.next,
             fmt::format("catch {}", fmt::join(c.errors, ", ")));
    };
    if (const auto* task = step.task()) {
      edge(GraphEdge::Kind::next, from, step.next, "");
      catches();
      if (task->compensate) {
        std::string name = "undo " + step.name;
        index_[name] = add_node({GraphNode::Shape::compensation, name, name,
                                 task->compensate->adapter + "." + task->compensate->operation,
                                 step.flow});
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
    } else if (const auto* end = std::get_if<EndStep>(&step.body)) {
      if (auto owner = owner_of(step))
        g_.edges.push_back({GraphEdge::Kind::join, from, *owner, end->label, false});
    } else {
      edge(GraphEdge::Kind::next, from, step.next, "");
      catches();
    }
    if (const auto* foreach = std::get_if<ForeachStep>(&step.body))
      edge(GraphEdge::Kind::fan_out, from, foreach->flow.start, "each ." + foreach->as);
    if (const auto* parallel = std::get_if<ParallelStep>(&step.body))
      for (const auto& [branch, flow] : parallel->branches)
        edge(GraphEdge::Kind::fan_out, from, flow.start, branch);
  }

  // Marks one line of steps (the main line's or a branch's) and the transitions it took: from
  // the start, or from its fan-out step, along each pair of steps, and back to the fan-out step
  // from the end it reached.
  void path(const std::vector<std::string>& steps) {
    std::optional<std::size_t> previous;
    for (const auto& name : steps) {
      auto it = index_.find(name);
      if (it == index_.end()) {  // a step of another version (after a migration)
        previous.reset();
        continue;
      }
      const Step* step = d_.find(name);
      g_.nodes[it->second].visited = true;
      std::optional<std::size_t> from = previous;
      if (&name == &steps.front())
        from = step->flow.empty() ? std::optional<std::size_t>(0) : owner_of(*step);
      if (from) mark(*from, it->second, GraphEdge::Kind::compensation);
      previous = it->second;
      if (&name == &steps.back() && step->kind() == StepKind::end)
        if (auto owner = owner_of(*step)) mark(it->second, *owner, GraphEdge::Kind::compensation);
    }
  }

  void mark(std::size_t from, std::size_t to, GraphEdge::Kind except) {
    for (auto& e : g_.edges)
      if (e.from == from && e.to == to && e.kind != except) e.taken = true;
  }

  const Definition& d_;
  FlowMap flows_;
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
