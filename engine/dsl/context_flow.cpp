#include "engine/dsl/context_flow.hpp"

#include <fmt/format.h>

#include <map>
#include <set>

#include "engine/dsl/flow_map.hpp"
#include "engine/dsl/jq_references.hpp"
#include "engine/dsl/map_reader.hpp"

namespace rmaflow::dsl {

namespace {

constexpr std::size_t kEngine = static_cast<std::size_t>(-1);  // .input and .instance

// Context key -> the steps that may have written it (kEngine for the engine's own keys).
using Written = std::map<std::string, std::set<std::size_t>>;

struct Edge {
  std::size_t to;
  std::vector<std::string> writes;  // keys the step writes when it leaves by this edge
};

// The edges of step `v` with what each writes: a result when the task, wait, fan-out or call
// succeeds, set keys, `.error` along a catch, the element and `.branch` into a branch's sub-flow;
// a switch, a wait timing out, or a failure write nothing.
std::vector<Edge> edges_of(const Definition& d, const FlowMap& flows, std::size_t v) {
  const Step& s = d.steps[v];
  std::vector<Edge> out;
  auto add = [&](const std::string& flow, const std::string& to, std::vector<std::string> writes) {
    if (const Step* target = flows.step_in(flow, to))
      out.push_back({flows.index(*target), std::move(writes)});
  };
  std::vector<std::string> result;
  if (!s.result.empty()) result.push_back(s.result);
  for (const auto& c : s.catches()) add(s.flow, c.next, {"error"});
  if (const auto* wait = std::get_if<WaitStep>(&s.body)) {
    add(s.flow, s.next, result);
    add(s.flow, wait->on_timeout, {});
  } else if (const auto* set = std::get_if<SetStep>(&s.body)) {
    std::vector<std::string> keys;
    for (const auto& [key, value] : set->assignments) keys.push_back(key);
    add(s.flow, s.next, keys);
  } else if (s.kind() == StepKind::switch_ || s.kind() == StepKind::end) {
    for (const auto& to : s.successors()) add(s.flow, to, {});
  } else {
    add(s.flow, s.next, result);
  }
  if (const auto* foreach = std::get_if<ForeachStep>(&s.body))
    add(s.name, foreach->flow.start, {foreach->as, "branch"});
  if (const auto* parallel = std::get_if<ParallelStep>(&s.body))
    for (const auto& [branch, flow] : parallel->branches)
      add(s.name + "." + branch, flow.start, {"branch"});
  return out;
}

// What may be written on entry to each step; nullopt for steps no path reaches.
std::vector<std::optional<Written>> flow(const Definition& d, const FlowMap& flows) {
  std::vector<std::optional<Written>> entry(d.steps.size());
  const Step* start = flows.step_in("", d.start);
  if (start == nullptr) return entry;
  std::vector<std::size_t> todo = {flows.index(*start)};
  entry[todo.front()] = Written{{"input", {kEngine}}, {"instance", {kEngine}}};
  while (!todo.empty()) {
    std::size_t v = todo.back();
    todo.pop_back();
    for (const auto& edge : edges_of(d, flows, v)) {
      Written out = *entry[v];
      for (const auto& key : edge.writes) out[key] = {v};
      auto& target = entry[edge.to];
      bool changed = !target;
      if (!target) target = Written{};
      for (const auto& [key, writers] : out) {
        auto& have = (*target)[key];
        std::size_t before = have.size();
        have.insert(writers.begin(), writers.end());
        changed = changed || have.size() != before;
      }
      if (changed) todo.push_back(edge.to);
    }
  }
  return entry;
}

// The keys visible to an expression at `site`, given what may be written on entering its step.
std::set<std::string> visible(const Definition& d, const ExpressionSite& site,
                              const Written& on_entry) {
  std::set<std::string> keys;
  for (const auto& [key, writers] : on_entry) keys.insert(key);
  const Step* step = d.find(site.step);
  bool after_success = site.role == ExpressionSite::Role::compensation ||
                       site.role == ExpressionSite::Role::posting;
  if (after_success && !step->result.empty()) keys.insert(step->result);
  if (const auto* foreach = std::get_if<ForeachStep>(&step->body);
      foreach != nullptr && site.role == ExpressionSite::Role::element_key) {
    keys.insert(foreach->as);
    keys.insert("branch");  // its index (the key is being computed)
  }
  if (const auto* set = std::get_if<SetStep>(&step->body);
      set != nullptr && site.role == ExpressionSite::Role::assignment) {
    for (int i = 0; i < site.order && i < static_cast<int>(set->assignments.size()); ++i)
      keys.insert(set->assignments[static_cast<std::size_t>(i)].first);
  }
  return keys;
}

// Why no path writes `key` for `reader`: another step writes it, but only later or inside
// branches whose results stay there; or a likely typo.
std::string hint(const std::string& key, const Step& reader, const Definition& d,
                 const FlowMap& flows, const SourceFacts& facts) {
  std::vector<std::string_view> known = {"input", "instance"};
  for (const auto& w : facts.writes) {
    if (w.key != key) {
      known.push_back(w.key);
      continue;
    }
    const Step* writer = d.find(w.step);
    const Step* owner = writer == nullptr ? nullptr : flows.owner(writer->flow);
    if (owner != nullptr && owner != &reader && !flows.nested_in(reader, *owner)) {
      std::string collect = owner->result.empty()
                                ? fmt::format("give step \"{}\" a result to collect them",
                                              owner->name)
                                : fmt::format("read them from .{}", owner->result);
      return fmt::format("; step \"{}\" writes it inside the branches of step \"{}\", and a "
                         "branch's results stay in the branch: {}",
                         w.step, owner->name, collect);
    }
    return fmt::format("; step \"{}\" writes it, but only later", w.step);
  }
  std::string near = closest_match(key, known);
  return near.empty() ? "" : fmt::format("; did you mean .{}?", near);
}

// Why `key` is not there for `reader` when it is an engine key or an element outside its
// branches; empty otherwise.
std::string branch_scope(const std::string& key, const Step& reader, const Definition& d,
                         const FlowMap& flows) {
  if (key == "branch" && reader.flow.empty())
    return "only the steps inside a branch of a foreach or parallel step see .branch";
  for (const auto& step : d.steps) {
    const auto* foreach = std::get_if<ForeachStep>(&step.body);
    if (foreach == nullptr || foreach->as != key || flows.nested_in(reader, step)) continue;
    return fmt::format("it is the element of foreach \"{}\", which only the steps of its "
                       "branches see",
                       step.name);
  }
  return "";
}

void check_reads(const Definition& d, const FlowMap& flows, const SourceFacts& facts,
                 const std::vector<std::optional<Written>>& entry, DiagnosticSink& sink) {
  for (const auto& site : facts.expressions) {
    std::set<std::string> keys;
    const Step* step = nullptr;
    if (site.role == ExpressionSite::Role::business_key) {
      keys = {"input"};
    } else {
      step = d.find(site.step);
      if (step == nullptr) continue;
      const auto& on_entry = entry[flows.index(*step)];
      if (!on_entry) continue;  // unreachable: reported as such
      keys = visible(d, site, *on_entry);
    }
    for (const auto& read : context_reads(site.program)) {
      if (keys.count(read.key) > 0) continue;
      std::string where = site.step.empty()
                              ? std::string("the business_key")
                              : fmt::format("{} of step \"{}\"", site.label, site.step);
      std::string why;
      if (site.role == ExpressionSite::Role::business_key)
        why = "the business key is computed from .input alone";
      else if (read.key == "error")
        why = "only a catch target, and the steps after it, see .error";
      else if (why = branch_scope(read.key, *step, d, flows); why.empty())
        why = fmt::format("no step on a path from the start to it writes it as a result or set "
                          "key{}",
                          hint(read.key, *step, d, flows, facts));
      sink.warning(site.where, "undefined-reference",
                   fmt::format(".{} in {} is never written before it runs: {}", read.key, where,
                               why));
    }
  }
}

// A set assignment that reads the key it writes updates it on purpose (a counter, a total).
bool updates_itself(const SourceFacts& facts, const ContextWrite& w) {
  for (const auto& site : facts.expressions) {
    if (site.role != ExpressionSite::Role::assignment || site.step != w.step || site.key != w.key)
      continue;
    for (const auto& read : context_reads(site.program))
      if (read.key == w.key) return true;
  }
  return false;
}

void check_overwrites(const Definition& d, const FlowMap& flows, const SourceFacts& facts,
                      const std::vector<std::optional<Written>>& entry, DiagnosticSink& sink) {
  for (const auto& w : facts.writes) {
    const Step* step = d.find(w.step);
    if (step == nullptr) continue;
    std::size_t v = flows.index(*step);
    if (!entry[v]) continue;
    auto it = entry[v]->find(w.key);
    if (it == entry[v]->end()) continue;
    std::set<std::size_t> others = it->second;
    others.erase(v);  // a loop writing its own result again is the same step's value
    if (others.empty() || updates_itself(facts, w)) continue;
    const std::string& earlier = d.steps[*others.begin()].name;
    if (w.kind == ContextWrite::Kind::element) {
      sink.warning(w.where, "result-overwrites",
                   fmt::format("element \"{}\" of foreach \"{}\" hides .{}, which step \"{}\" "
                               "can write before it, from the steps of its branches; give each "
                               "its own name",
                               w.key, w.step, w.key, earlier));
      continue;
    }
    sink.warning(w.where, "result-overwrites",
                 fmt::format("{} \"{}\" of step \"{}\" overwrites .{}, which step \"{}\" can "
                             "write before it; give each its own name",
                             w.kind == ContextWrite::Kind::result ? "result" : "set key", w.key,
                             w.step, w.key, earlier));
  }
}

}  // namespace

void check_context_flow(const Definition& d, const SourceFacts& facts, DiagnosticSink& sink) {
  FlowMap flows(d);
  auto entry = flow(d, flows);
  check_reads(d, flows, facts, entry, sink);
  check_overwrites(d, flows, facts, entry, sink);
}

}  // namespace rmaflow::dsl
