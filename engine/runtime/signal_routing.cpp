#include "engine/runtime/signal_routing.hpp"

#include <fmt/format.h>

#include <map>
#include <set>
#include <utility>
#include <vector>

#include "engine/dsl/signal_names.hpp"

namespace rmaflow {

namespace {

const WaitStep* wait_of(const Step& step) { return std::get_if<WaitStep>(&step.body); }

// Every step of the flows a fan-out step holds, nested ones too.
void add_sub_flows(const Definition& def, const Step& step, std::set<std::string>& out) {
  auto add_flow = [&](const Flow& flow) {
    for (const auto& name : flow.steps) {
      if (!out.insert(name).second) continue;
      if (const Step* s = def.find(name); s && s->fans_out()) add_sub_flows(def, *s, out);
    }
  };
  if (const auto* f = std::get_if<ForeachStep>(&step.body)) add_flow(f->flow);
  if (const auto* p = std::get_if<ParallelStep>(&step.body))
    for (const auto& [name, flow] : p->branches) add_flow(flow);
}

// Where a cursor can still go: in its own flow (`own`), and inside fan-out steps it may yet
// enter (`later`, whose branches do not exist yet).
struct Reach {
  std::set<std::string> own;
  std::set<std::string> later;
};

// Where a cursor at `step` can still go: from the step itself, or (`past_it`, a cursor that
// joins or calls there) from the steps after it.
Reach reach_from(const Definition& def, const std::string& step, bool past_it) {
  Reach reach;
  std::vector<std::string> todo;
  if (!past_it) {
    todo.push_back(step);
  } else if (const Step* s = def.find(step)) {
    for (auto& next : s->successors()) todo.push_back(next);
  }
  while (!todo.empty()) {
    std::string name = std::move(todo.back());
    todo.pop_back();
    if (!reach.own.insert(name).second) continue;
    const Step* s = def.find(name);
    if (s == nullptr) continue;
    if (s->fans_out()) add_sub_flows(def, *s, reach.later);
    for (auto& next : s->successors()) todo.push_back(next);
  }
  return reach;
}

// The walks one check makes, one per step and side of it: the branches of a big return stand
// at a few steps, and a refusal must not walk the workflow once per branch.
class Reaches {
 public:
  explicit Reaches(const Definition& def) : def_(def) {}

  const Reach& of(const Cursor& c) {
    bool past_it = c.phase == Phase::joining || c.phase == Phase::calling;
    auto [it, fresh] = known_.try_emplace({c.step, past_it});
    if (fresh) it->second = reach_from(def_, c.step, past_it);
    return it->second;
  }

 private:
  const Definition& def_;
  std::map<std::pair<std::string, bool>, Reach> known_;
};

}  // namespace

std::string signal_refusal(const Instance& inst, const std::string& name,
                           const nlohmann::json& match) {
  const Definition& def = *inst.definition;
  std::vector<const Step*> waits;
  for (const auto& step : def.steps) {
    const WaitStep* w = wait_of(step);
    if (w != nullptr && w->signal == name) waits.push_back(&step);
  }
  if (waits.empty()) return dsl::signal_refusal(def, name);
  std::vector<const Step*> matching;
  for (const Step* s : waits)
    if (wait_of(*s)->match) matching.push_back(s);
  if (match.is_null()) {
    if (matching.size() == waits.size()) {
      return fmt::format("signal {} needs a match value: every wait for it in workflow {} takes "
                         "one (step {})",
                         name, def.name, waits.front()->name);
    }
    return {};
  }
  if (matching.empty()) {
    return fmt::format("no wait for signal {} in workflow {} takes a match value; send it "
                       "without one",
                       name, def.name);
  }
  // The usual case first, without walking the workflow from every branch: one waits for it
  // with this value (a return may have thousands of branches waiting).
  for (const auto& c : inst.cursors) {
    if (c.phase != Phase::waiting || c.match != match) continue;
    const WaitStep* w = wait_of(inst.step(c));
    if (w != nullptr && w->signal == name && w->match) return {};
  }
  std::vector<const Cursor*> waiting;
  Reaches reaches(def);
  for (const auto& c : inst.cursors) {
    if (c.phase == Phase::ended) continue;
    const Reach& reach = reaches.of(c);
    // A wait without match that the cursor may still reach takes the signal whatever its
    // value (a late parcel of a line whose branch has ended, taken by the main line).
    for (const Step* s : waits) {
      if (!wait_of(*s)->match && (reach.own.contains(s->name) || reach.later.contains(s->name)))
        return {};
    }
    for (const Step* s : matching) {
      if (reach.later.contains(s->name)) return {};  // its branches are yet to be made
      if (!reach.own.contains(s->name)) continue;
      if (c.phase == Phase::waiting && c.step == s->name) {
        if (c.match == match) return {};
        waiting.push_back(&c);
        continue;
      }
      try {
        if (wait_of(*s)->match->render(inst.view(c)) == match) return {};
      } catch (const Error&) {
        return {};  // it cannot be told yet: keep the signal
      }
    }
  }
  std::string refusal = fmt::format("no branch of instance {} can take signal {} with match {}",
                                    inst.row.id, name, match.dump());
  // The first few waiting for it, with their values: enough to see a value's shape is wrong.
  constexpr std::size_t kNamed = 10;
  for (std::size_t i = 0; i < waiting.size() && i < kNamed; ++i) {
    const Cursor& c = *waiting[i];
    refusal += fmt::format("{}{} ({})", i == 0 ? "; waiting for it: " : ", ",
                           c.branch.empty() ? "the main line" : c.branch, c.match.dump());
  }
  if (waiting.size() > kNamed) refusal += fmt::format(" and {} more", waiting.size() - kNamed);
  return refusal;
}

}  // namespace rmaflow
