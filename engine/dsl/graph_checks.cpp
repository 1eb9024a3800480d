#include "engine/dsl/graph_checks.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "engine/dsl/map_reader.hpp"

namespace rmaflow::dsl {

namespace {

using Graph = std::vector<std::vector<std::size_t>>;  // successors by step index

std::string quoted_list(const std::vector<std::string>& names) {
  std::vector<std::string> quoted;
  for (const auto& n : names) quoted.push_back("\"" + n + "\"");
  return fmt::format("{}", fmt::join(quoted, ", "));
}

void check_targets(const Definition& d, const std::vector<Transition>& transitions,
                   const std::set<std::string>& declared, DiagnosticSink& sink) {
  std::vector<std::string_view> names;
  for (const auto& s : d.steps) names.push_back(s.name);
  for (const auto& t : transitions) {
    if (t.to.empty() || declared.count(t.to) > 0) continue;
    std::string near = closest_match(t.to, names);
    std::string hint = near.empty() ? "" : fmt::format("; did you mean \"{}\"?", near);
    if (t.from.empty())
      sink.error(t.where, "unknown-target",
                 fmt::format("\"start\" names \"{}\", which is not a step{}", t.to, hint));
    else
      sink.error(t.where, "unknown-target",
                 fmt::format("\"{}\" in {} names \"{}\", which is not a step{}", t.key, t.context,
                             t.to, hint));
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

// Steps reachable from `from` along `g`.
std::vector<bool> reachable_from(const Graph& g, std::size_t from) {
  std::vector<bool> seen(g.size(), false);
  std::vector<std::size_t> todo = {from};
  seen[from] = true;
  while (!todo.empty()) {
    auto v = todo.back();
    todo.pop_back();
    for (auto w : g[v])
      if (!seen[w]) todo.push_back(w), seen[w] = true;
  }
  return seen;
}

Graph successor_graph(const Definition& d) {
  Graph g(d.steps.size());
  for (std::size_t v = 0; v < d.steps.size(); ++v) {
    for (const auto& to : d.steps[v].successors()) {
      if (const Step* s = d.find(to)) g[v].push_back(static_cast<std::size_t>(s - d.steps.data()));
    }
  }
  return g;
}

void check_reachable(const Definition& d, const Graph& g, DiagnosticSink& sink) {
  const Step* start = d.find(d.start);
  if (start == nullptr) return;  // already an unknown-target; every step would be unreachable
  auto seen = reachable_from(g, static_cast<std::size_t>(start - d.steps.data()));
  // A reachable step whose transition names no step (already an unknown-target) may have been
  // meant to lead to any of the others: reporting them unreachable would only repeat it.
  for (std::size_t v = 0; v < d.steps.size(); ++v) {
    if (!seen[v]) continue;
    for (const auto& to : d.steps[v].successors()) {
      if (!to.empty() && d.find(to) == nullptr) return;
    }
  }
  for (std::size_t v = 0; v < d.steps.size(); ++v) {
    if (!seen[v])
      sink.error(d.steps[v].where, "unreachable-step",
                 fmt::format("step \"{}\" is not reachable from the start step \"{}\"",
                             d.steps[v].name, d.start));
  }
}

void check_ends(const Definition& d, const Graph& g, DiagnosticSink& sink) {
  std::size_t n = d.steps.size();
  // Steps that may end: end steps, and (to avoid repeating an error already reported) steps
  // with a transition to no step or no transition at all. Then everything leading to them.
  std::vector<bool> may_end(n, false);
  Graph reverse(n);
  for (std::size_t v = 0; v < n; ++v) {
    const Step& s = d.steps[v];
    for (auto w : g[v]) reverse[w].push_back(v);
    auto successors = s.successors();
    bool dangling = std::any_of(successors.begin(), successors.end(),
                                [&](const std::string& to) { return d.find(to) == nullptr; });
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

// A task that can run before a pivot and has no compensation cannot be undone if a later
// step (still before the pivot) fails and the instance compensates.
void check_pivots(const Definition& d, const Graph& g, DiagnosticSink& sink) {
  std::size_t n = d.steps.size();
  Graph reverse(n);
  for (std::size_t v = 0; v < n; ++v)
    for (auto w : g[v]) reverse[w].push_back(v);
  std::vector<std::string> first_pivot(n);  // the pivot named in the warning, per step
  for (std::size_t p = 0; p < n; ++p) {
    const TaskStep* pivot = d.steps[p].task();
    if (pivot == nullptr || !pivot->pivot) continue;
    std::vector<bool> seen(n, false);
    std::vector<std::size_t> todo = reverse[p];
    for (auto v : todo) seen[v] = true;
    while (!todo.empty()) {
      auto v = todo.back();
      todo.pop_back();
      if (first_pivot[v].empty()) first_pivot[v] = d.steps[p].name;
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
  check_targets(d, facts.transitions, facts.declared, sink);
  Graph g = successor_graph(d);
  check_reachable(d, g, sink);
  check_ends(d, g, sink);
  check_pivots(d, g, sink);
}

std::vector<bool> reachable_steps(const Definition& d) {
  const Step* start = d.find(d.start);
  if (start == nullptr) return std::vector<bool>(d.steps.size(), false);
  return reachable_from(successor_graph(d), static_cast<std::size_t>(start - d.steps.data()));
}

}  // namespace rmaflow::dsl
