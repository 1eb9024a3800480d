#include "engine/dsl/context_flow.hpp"

#include <fmt/format.h>

#include <map>
#include <set>

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

// The edges of step `v` with what each writes: a result when the task or wait succeeds, set
// keys, `.error` along a catch; a switch, a wait timing out, or a failure write nothing.
std::vector<Edge> edges_of(const Definition& d, std::size_t v) {
  const Step& s = d.steps[v];
  std::vector<Edge> out;
  auto add = [&](const std::string& to, std::vector<std::string> writes) {
    if (const Step* target = d.find(to))
      out.push_back({static_cast<std::size_t>(target - d.steps.data()), std::move(writes)});
  };
  std::vector<std::string> result;
  if (!s.result.empty()) result.push_back(s.result);
  if (const auto* task = std::get_if<TaskStep>(&s.body)) {
    add(s.next, result);
    for (const auto& c : task->catches) add(c.next, {"error"});
  } else if (const auto* wait = std::get_if<WaitStep>(&s.body)) {
    add(s.next, result);
    add(wait->on_timeout, {});
  } else if (const auto* set = std::get_if<SetStep>(&s.body)) {
    std::vector<std::string> keys;
    for (const auto& [key, value] : set->assignments) keys.push_back(key);
    add(s.next, keys);
  } else {
    for (const auto& to : s.successors()) add(to, {});
  }
  return out;
}

// What may be written on entry to each step; nullopt for steps no path reaches.
std::vector<std::optional<Written>> flow(const Definition& d) {
  std::vector<std::optional<Written>> entry(d.steps.size());
  const Step* start = d.find(d.start);
  if (start == nullptr) return entry;
  std::vector<std::size_t> todo = {static_cast<std::size_t>(start - d.steps.data())};
  entry[todo.front()] = Written{{"input", {kEngine}}, {"instance", {kEngine}}};
  while (!todo.empty()) {
    std::size_t v = todo.back();
    todo.pop_back();
    for (const auto& edge : edges_of(d, v)) {
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
  if (site.role == ExpressionSite::Role::compensation && !step->result.empty())
    keys.insert(step->result);
  if (const auto* set = std::get_if<SetStep>(&step->body);
      set != nullptr && site.role == ExpressionSite::Role::assignment) {
    for (int i = 0; i < site.order && i < static_cast<int>(set->assignments.size()); ++i)
      keys.insert(set->assignments[static_cast<std::size_t>(i)].first);
  }
  return keys;
}

// Why no path writes `key`: another step writes it, but only after; or a likely typo.
std::string hint(const std::string& key, const SourceFacts& facts) {
  std::vector<std::string_view> known = {"input", "instance"};
  for (const auto& w : facts.writes) {
    if (w.key == key) return fmt::format("; step \"{}\" writes it, but only later", w.step);
    known.push_back(w.key);
  }
  std::string near = closest_match(key, known);
  return near.empty() ? "" : fmt::format("; did you mean .{}?", near);
}

void check_reads(const Definition& d, const SourceFacts& facts,
                 const std::vector<std::optional<Written>>& entry, DiagnosticSink& sink) {
  for (const auto& site : facts.expressions) {
    std::set<std::string> keys;
    if (site.role == ExpressionSite::Role::business_key) {
      keys = {"input"};
    } else {
      const Step* step = d.find(site.step);
      if (step == nullptr) continue;
      const auto& on_entry = entry[static_cast<std::size_t>(step - d.steps.data())];
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
      else
        why = fmt::format("no step on a path from the start to it writes it as a result or set "
                          "key{}",
                          hint(read.key, facts));
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

void check_overwrites(const Definition& d, const SourceFacts& facts,
                      const std::vector<std::optional<Written>>& entry, DiagnosticSink& sink) {
  for (const auto& w : facts.writes) {
    const Step* step = d.find(w.step);
    if (step == nullptr) continue;
    std::size_t v = static_cast<std::size_t>(step - d.steps.data());
    if (!entry[v]) continue;
    auto it = entry[v]->find(w.key);
    if (it == entry[v]->end()) continue;
    std::set<std::size_t> others = it->second;
    others.erase(v);  // a loop writing its own result again is the same step's value
    if (others.empty() || updates_itself(facts, w)) continue;
    const std::string& earlier = d.steps[*others.begin()].name;
    bool is_result = step->result == w.key;
    sink.warning(w.where, "result-overwrites",
                 fmt::format("{} \"{}\" of step \"{}\" overwrites .{}, which step \"{}\" can "
                             "write before it; give each its own name",
                             is_result ? "result" : "set key", w.key, w.step, w.key, earlier));
  }
}

}  // namespace

void check_context_flow(const Definition& d, const SourceFacts& facts, DiagnosticSink& sink) {
  auto entry = flow(d);
  check_reads(d, facts, entry, sink);
  check_overwrites(d, facts, entry, sink);
}

}  // namespace rmaflow::dsl
