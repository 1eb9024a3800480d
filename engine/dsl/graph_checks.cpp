#include "engine/dsl/graph_checks.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "engine/dsl/flow_map.hpp"
#include "engine/dsl/map_reader.hpp"

namespace rmaflow::dsl {

namespace {

using Graph = std::vector<std::vector<std::size_t>>;  // successors by step index

std::string quoted_list(const std::vector<std::string>& names) {
  std::vector<std::string> quoted;
  for (const auto& n : names) quoted.push_back("\"" + n + "\"");
  return fmt::format("{}", fmt::join(quoted, ", "));
}

std::string label_of(const SourceFacts& facts, const std::string& flow) {
  auto it = facts.flow_labels.find(flow);
  return it == facts.flow_labels.end() ? "the workflow" : it->second;
}

bool declared_in(const SourceFacts& facts, const std::string& step, const std::string& flow) {
  auto it = facts.declared.find(step);
  if (it == facts.declared.end()) return false;
  return std::any_of(it->second.begin(), it->second.end(),
                     [&](const DeclaredStep& s) { return s.flow == flow; });
}

// The names of the steps of `flow`, for suggestions.
std::vector<std::string_view> names_in(const Definition& d, const FlowMap& flows,
                                       const std::string& flow) {
  std::vector<std::string_view> names;
  for (const auto& entry : flows.flows())
    if (entry.id == flow)
      for (auto v : entry.steps) names.push_back(d.steps[v].name);
  return names;
}

void check_targets(const Definition& d, const FlowMap& flows, const SourceFacts& facts,
                   DiagnosticSink& sink) {
  for (const auto& t : facts.transitions) {
    if (t.to.empty() || declared_in(facts, t.to, t.flow)) continue;
    std::string what = t.from.empty() && t.context == "the workflow"
                           ? std::string("\"start\"")
                           : fmt::format("\"{}\" in {}", t.key, t.context);
    auto elsewhere = facts.declared.find(t.to);
    if (elsewhere != facts.declared.end()) {
      std::string other = label_of(facts, elsewhere->second.front().flow);
      std::string rule =
          t.flow.empty()
              ? "a transition stays in its flow: a branch is entered only through its fan-out "
                "step"
              : "a transition stays in its flow: a branch ends at an end step of its own "
                "(e.g. done: { end: done }), and its fan-out step's next goes on from there";
      sink.error(t.where, "leaves-flow",
                 fmt::format("{} names \"{}\", a step of {}; {}", what, t.to, other, rule));
      continue;
    }
    std::string near = closest_match(t.to, names_in(d, flows, t.flow));
    std::string hint = near.empty() ? "" : fmt::format("; did you mean \"{}\"?", near);
    sink.error(t.where, "unknown-target",
               fmt::format("{} names \"{}\", which is not a step{}", what, t.to, hint));
  }
}

// Tarjan's strongly connected components over the steps in `members`.
class Components {
 public:
  Components(const Graph& g, const std::vector<bool>& members) : g_(g), members_(members) {
    index_.assign(g.size(), -1);
    low_.assign(g.size(), 0);
    on_stack_.assign(g.size(), false);
    component_.assign(g.size(), -1);
    for (std::size_t v = 0; v < g.size(); ++v)
      if (members_[v] && index_[v] < 0) visit(v);
  }
  int of(std::size_t v) const { return component_[v]; }
  int count() const { return count_; }

 private:
  void visit(std::size_t v) {
    index_[v] = low_[v] = next_index_++;
    stack_.push_back(v);
    on_stack_[v] = true;
    for (auto w : g_[v]) {
      if (!members_[w]) continue;
      if (index_[w] < 0) {
        visit(w);
        low_[v] = std::min(low_[v], low_[w]);
      } else if (on_stack_[w]) {
        low_[v] = std::min(low_[v], index_[w]);
      }
    }
    if (low_[v] != index_[v]) return;
    std::size_t w;
    do {
      w = stack_.back();
      stack_.pop_back();
      on_stack_[w] = false;
      component_[w] = count_;
    } while (w != v);
    ++count_;
  }

  const Graph& g_;
  const std::vector<bool>& members_;
  std::vector<int> index_, low_, component_;
  std::vector<bool> on_stack_;
  std::vector<std::size_t> stack_;
  int next_index_ = 0;
  int count_ = 0;
};

// Steps reachable from `from` along `g` and the `extra` edges.
std::vector<bool> reachable_from(const Graph& g, std::size_t from,
                                 const std::map<std::size_t, std::vector<std::size_t>>& extra = {}) {
  std::vector<bool> seen(g.size(), false);
  std::vector<std::size_t> todo = {from};
  seen[from] = true;
  auto visit = [&](std::size_t w) {
    if (!seen[w]) todo.push_back(w), seen[w] = true;
  };
  while (!todo.empty()) {
    auto v = todo.back();
    todo.pop_back();
    for (auto w : g[v]) visit(w);
    if (auto it = extra.find(v); it != extra.end())
      for (auto w : it->second) visit(w);
  }
  return seen;
}

// Where the transitions of `flow` that name no step of it may lead: the step each most likely
// meant (a close spelling), as extra edges by step, and the steps with a transition that could
// lead anywhere (naming no step like any of the flow's, or a step of another flow). Nullopt
// when a step of the flow did not parse: any step may be its successor.
struct UnknownTargets {
  std::map<std::size_t, std::vector<std::size_t>> guesses;
  std::vector<std::size_t> anywhere;
};
std::optional<UnknownTargets> guess_unknown_targets(const Definition& d, const FlowMap& flows,
                                                    const SourceFacts& facts,
                                                    const FlowMap::Entry& flow) {
  for (const auto& [name, declarations] : facts.declared)
    for (const auto& declared : declarations)
      if (declared.flow == flow.id && flows.step_in(flow.id, name) == nullptr) return std::nullopt;
  UnknownTargets out;
  auto names = names_in(d, flows, flow.id);
  for (auto v : flow.steps) {
    for (const auto& to : d.steps[v].successors()) {
      if (flows.step_in(flow.id, to) != nullptr) continue;
      std::string near = facts.declared.count(to) > 0 ? "" : closest_match(to, names);
      if (near.empty()) {
        out.anywhere.push_back(v);
      } else {
        out.guesses[v].push_back(flows.index(*flows.step_in(flow.id, near)));
      }
    }
  }
  return out;
}

// A step no path from its flow's start reaches. A reachable transition that names no step
// (already an error) may have been meant to lead to any step: while there is one, the flow's
// other steps are not reported, which would bury that one mistake under its consequences.
void check_reachable(const Definition& d, const FlowMap& flows, const SourceFacts& facts,
                     const Graph& g, DiagnosticSink& sink) {
  for (const auto& flow : flows.flows()) {
    const Step* start = flows.step_in(flow.id, flow.start);
    if (start == nullptr) continue;  // already an error; every step would be unreachable
    auto unknown = guess_unknown_targets(d, flows, facts, flow);
    if (!unknown) continue;
    auto seen = reachable_from(g, flows.index(*start), unknown->guesses);
    if (std::any_of(unknown->anywhere.begin(), unknown->anywhere.end(),
                    [&](std::size_t v) { return seen[v]; }))
      continue;
    std::string of = flow.id.empty() ? "" : " of " + label_of(facts, flow.id);
    for (auto v : flow.steps) {
      if (!seen[v])
        sink.error(d.steps[v].where, "unreachable-step",
                   fmt::format("step \"{}\" is not reachable from the start step \"{}\"{}",
                               d.steps[v].name, flow.start, of));
    }
  }
}

void check_ends(const Definition& d, const FlowMap& flows, const Graph& g, DiagnosticSink& sink) {
  std::size_t n = d.steps.size();
  // Steps that may end: end steps, and (to avoid repeating an error already reported) steps
  // with a transition to no step of their flow or no transition at all. Then everything leading
  // to them. Flows do not share edges, so all of them are checked at once.
  std::vector<bool> may_end(n, false);
  Graph reverse(n);
  for (std::size_t v = 0; v < n; ++v) {
    const Step& s = d.steps[v];
    for (auto w : g[v]) reverse[w].push_back(v);
    auto successors = s.successors();
    bool dangling = std::any_of(successors.begin(), successors.end(), [&](const std::string& to) {
      return flows.step_in(s.flow, to) == nullptr;
    });
    may_end[v] = s.kind() == StepKind::end || successors.empty() || dangling;
  }
  std::vector<std::size_t> todo;
  for (std::size_t v = 0; v < n; ++v)
    if (may_end[v]) todo.push_back(v);
  while (!todo.empty()) {
    auto v = todo.back();
    todo.pop_back();
    for (auto w : reverse[v])
      if (!may_end[w]) may_end[w] = true, todo.push_back(w);
  }
  std::vector<bool> stuck(n);
  for (std::size_t v = 0; v < n; ++v) stuck[v] = !may_end[v];
  Components components(g, stuck);
  // A stuck component is reported when it is a sink: all its steps lead only into itself.
  std::vector<bool> sink_component(static_cast<std::size_t>(components.count()), true);
  std::map<int, std::vector<std::size_t>> members;
  for (std::size_t v = 0; v < n; ++v) {
    if (!stuck[v]) continue;
    members[components.of(v)].push_back(v);
    for (auto w : g[v])
      if (components.of(w) != components.of(v))
        sink_component[static_cast<std::size_t>(components.of(v))] = false;
  }
  for (const auto& [component, steps] : members) {
    if (!sink_component[static_cast<std::size_t>(component)]) continue;
    const Step& first = d.steps[steps.front()];  // steps are in file order
    if (steps.size() == 1) {
      sink.error(first.where, "no-path-to-end",
                 fmt::format("step \"{}\" only leads back to itself; no end step is reachable "
                             "from it",
                             first.name));
    } else {
      std::vector<std::string> names;
      for (auto v : steps) names.push_back(d.steps[v].name);
      sink.error(first.where, "no-path-to-end",
                 fmt::format("steps {} only lead to one another; no end step is reachable from "
                             "them",
                             quoted_list(names)));
    }
  }
}

// A task that can run before a pivot and has no compensation cannot be undone if a later step
// (still before the pivot) fails and the instance compensates. A pivot covers the steps of its
// own flow that can come before it, and everything inside the branches of a fan-out step among
// them; a pivot inside a branch covers nothing outside that branch.
void check_pivots(const Definition& d, const FlowMap& flows, const Graph& g,
                  DiagnosticSink& sink) {
  std::size_t n = d.steps.size();
  Graph reverse(n);
  for (std::size_t v = 0; v < n; ++v)
    for (auto w : g[v]) reverse[w].push_back(v);
  // The steps inside the branches of each fan-out step, at any depth.
  std::vector<std::vector<std::size_t>> nested(n);
  for (std::size_t w = 0; w < n; ++w)
    for (const Step* owner = flows.owner(d.steps[w].flow); owner != nullptr;
         owner = flows.owner(owner->flow))
      nested[flows.index(*owner)].push_back(w);
  std::vector<std::string> first_pivot(n);  // the pivot named in the warning, per step
  for (std::size_t p = 0; p < n; ++p) {
    const TaskStep* pivot = d.steps[p].task();
    if (pivot == nullptr || !pivot->pivot) continue;
    std::vector<bool> seen(n, false);
    std::vector<std::size_t> todo = reverse[p];
    for (auto v : todo) seen[v] = true;
    auto mark = [&](std::size_t v) {
      if (first_pivot[v].empty()) first_pivot[v] = d.steps[p].name;
    };
    while (!todo.empty()) {
      auto v = todo.back();
      todo.pop_back();
      mark(v);
      for (auto w : nested[v]) mark(w);
      for (auto u : reverse[v])
        if (!seen[u]) todo.push_back(u), seen[u] = true;
    }
  }
  for (std::size_t v = 0; v < n; ++v) {
    const TaskStep* task = d.steps[v].task();
    if (task == nullptr || task->pivot || task->compensate || first_pivot[v].empty()) continue;
    sink.warning(d.steps[v].where, "uncompensated-before-pivot",
                 fmt::format("task \"{}\" can run before the pivot \"{}\" and has no compensate: "
                             "if a later step fails before the pivot, its effect is not undone",
                             d.steps[v].name, first_pivot[v]));
  }
}

}  // namespace

void check_graph(const Definition& d, const SourceFacts& facts, DiagnosticSink& sink) {
  FlowMap flows(d);
  check_targets(d, flows, facts, sink);
  Graph g = flows.successor_graph();
  check_reachable(d, flows, facts, g, sink);
  check_ends(d, flows, g, sink);
  check_pivots(d, flows, g, sink);
}

std::vector<bool> reachable_steps(const Definition& d) {
  FlowMap flows(d);
  Graph g = flows.successor_graph();
  std::vector<bool> seen(d.steps.size(), false);
  for (const auto& flow : flows.flows()) {
    const Step* start = flows.step_in(flow.id, flow.start);
    if (start == nullptr) continue;
    auto in_flow = reachable_from(g, flows.index(*start));
    for (auto v : flow.steps) seen[v] = in_flow[v];
  }
  // A fan-out step comes before the steps of its branches in file order.
  for (std::size_t v = 0; v < d.steps.size(); ++v)
    if (const Step* owner = flows.owner(d.steps[v].flow))
      seen[v] = seen[v] && seen[flows.index(*owner)];
  return seen;
}

}  // namespace rmaflow::dsl
