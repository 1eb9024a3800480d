// Fan-out: a foreach or parallel step creates one branch (a cursor) per element or per named
// branch, runs them (at most `concurrency` at once), and joins when every branch has ended:
//
//   enter foreach/parallel   -> branches_started; each branch a cursor in phase pending; as
//                               many as the concurrency allows begin (branch_started)
//   a branch reaches an end  -> branch_ended {status, output}; a pending branch takes its slot;
//                               when all have ended: step_completed with the results collected
//                               in input order (foreach) or by name (parallel), enter next
//   a branch fails for good  -> on_branch_failure continue: that branch suspends alone
//                               on_branch_failure fail: the others stop, the step fails with
//                               BranchFailed (its catch rules, then on_failure, decide)
//
// A suspended branch does not hold a concurrency slot: it is not running.
#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "engine/runtime/step_machine.hpp"
#include "engine/store/state_codec.hpp"
#include "engine/support/fault_points.hpp"

namespace rmaflow {

namespace {

// Branches one fan-out step may create: a bound against an input that would fill memory.
constexpr std::size_t kMaxBranches = 10'000;
constexpr std::size_t kMaxKeyLength = 200;

Failure invalid_branches(std::string message) {
  return make_failure(std::string(failure::kInvalidBranches), std::move(message),
                      FailureOrigin::engine);
}

// Why a rendered key cannot name a branch; empty when it can.
std::string key_problem(const nlohmann::json& key, std::string& text) {
  if (key.is_string()) {
    text = key.get<std::string>();
  } else if (key.is_number()) {
    text = key.dump();
  } else {
    return fmt::format("is {}, not a string or a number", key.type_name());
  }
  if (text.empty()) return "is empty";
  if (text.size() > kMaxKeyLength) return fmt::format("is longer than {} bytes", kMaxKeyLength);
  for (unsigned char ch : text) {
    if (ch < 0x20 || ch == 0x7f || ch == '[' || ch == ']' || ch == '/') {
      return fmt::format("\"{}\" holds a character a branch key may not ([, ], / or a control "
                         "character)",
                         text);
    }
  }
  return {};
}

// The branches directly under `parent` (those of the fan-out step it stands at), in the order
// they were made.
std::vector<LiveCursor*> branches_of(CursorList& cursors, const std::string& parent) {
  const auto* children = cursors.children(parent);
  return children == nullptr ? std::vector<LiveCursor*>() : children->cursors;
}

// What a join needs to know of a fan-out's branches, found from the hints of `children` on.
// A branch once ended stays ended, and once started is never pending again: so the hints only
// move on, and a step of one of n branches looks at O(1) of them on average, not at n.
struct JoinState {
  bool all_ended = false;
  int running = 0;  // started, not ended, with no incident: counted only when one is pending
  std::vector<std::string> startable;  // pending ones, in order, up to the concurrency left
};

JoinState join_state(CursorList::Children& children, int limit) {
  auto& all = children.cursors;
  while (children.first_open < all.size() && all[children.first_open]->phase == Phase::ended)
    ++children.first_open;
  children.first_pending = std::max(children.first_pending, children.first_open);
  while (children.first_pending < all.size() &&
         all[children.first_pending]->phase != Phase::pending)
    ++children.first_pending;
  JoinState state;
  if (children.first_open == all.size()) {
    // Checked in full once: an operator's action may have changed what the hint passed.
    auto open = std::find_if(all.begin(), all.end(),
                             [](const LiveCursor* b) { return b->phase != Phase::ended; });
    children.first_open = static_cast<std::size_t>(open - all.begin());
    children.first_pending = std::max(children.first_pending, children.first_open);
    state.all_ended = open == all.end();
    if (state.all_ended) return state;
  }
  if (children.first_pending == all.size()) return state;
  for (std::size_t i = children.first_open; i < children.first_pending; ++i) {
    const LiveCursor* b = all[i];
    if (b->phase != Phase::ended && b->phase != Phase::pending && !b->incident) ++state.running;
  }
  for (std::size_t i = children.first_pending;
       i < all.size() && state.running + static_cast<int>(state.startable.size()) < limit; ++i) {
    if (all[i]->phase == Phase::pending) state.startable.push_back(all[i]->branch);
  }
  return state;
}

}  // namespace

void StepMachine::begin_fan_out(Instance& inst, const std::string& branch, const Step& step) {
  struct NewBranch {
    std::string key;
    nlohmann::json scope;
    std::string start;
  };
  std::vector<NewBranch> created;
  nlohmann::json keys = nlohmann::json::array();
  int concurrency = 0;

  if (const auto* each = std::get_if<ForeachStep>(&step.body)) {
    concurrency = each->concurrency;
    nlohmann::json items;
    nlohmann::json context = inst.view(inst.at(branch));
    try {
      items = each->items.render(context);
    } catch (const Error& e) {
      fail(inst, branch,
           expression_failure(fmt::format("step {}: `foreach` did not render", step.name), e));
      return;
    }
    if (!items.is_array()) {
      fail(inst, branch,
           invalid_branches(fmt::format("step {}: `foreach` must give an array, not {}", step.name,
                                        items.type_name())));
      return;
    }
    if (items.size() > kMaxBranches) {
      fail(inst, branch,
           invalid_branches(fmt::format("step {}: `foreach` gave {} elements; a step runs at most "
                                        "{} branches",
                                        step.name, items.size(), kMaxBranches)));
      return;
    }
    std::map<std::string, std::size_t> seen;  // key -> the element that has it
    for (std::size_t i = 0; i < items.size(); ++i) {
      nlohmann::json scope = {{each->as, items[i]},
                              {"branch", {{"key", std::to_string(i)}, {"index", i}}}};
      std::string key = std::to_string(i);
      if (each->key) {
        nlohmann::json rendered;
        context[each->as] = items[i];
        context["branch"] = scope["branch"];
        try {
          rendered = each->key->render(context);
        } catch (const Error& e) {
          fail(inst, branch,
               expression_failure(fmt::format("step {}: the key of element {} did not render", step.name, i), e));
          return;
        }
        if (auto problem = key_problem(rendered, key); !problem.empty()) {
          fail(inst, branch,
               invalid_branches(
                   fmt::format("step {}: the key of element {} {}", step.name, i, problem)));
          return;
        }
      }
      if (auto [it, fresh] = seen.emplace(key, i); !fresh) {
        fail(inst, branch,
             invalid_branches(fmt::format("step {}: elements {} and {} share the key \"{}\"; "
                                          "each branch needs its own",
                                          step.name, it->second, i, key)));
        return;
      }
      scope["branch"]["key"] = key;
      created.push_back({key, std::move(scope), each->flow.start});
      keys.push_back(key);
    }
  } else {
    const auto& parallel = std::get<ParallelStep>(step.body);
    int index = 0;
    for (const auto& [name, flow] : parallel.branches) {
      created.push_back({name, {{"branch", {{"key", name}, {"index", index++}}}}, flow.start});
      keys.push_back(name);
    }
  }

  if (created.empty()) {
    nlohmann::json result = std::holds_alternative<ForeachStep>(step.body)
                                ? nlohmann::json::array()
                                : nlohmann::json::object();
    LiveCursor& c = inst.at(branch);
    if (!step.result.empty()) inst.write(c, step.result, result);
    complete_step(inst, branch, {{"branches", 0}, {"result", result}});
    return;
  }

  LiveCursor& holder = inst.at(branch);
  holder.phase = Phase::joining;
  host_.batch().record(inst, holder, EventType::branches_started, host_.now(),
                       {{"keys", keys}, {"concurrency", concurrency}});
  int index = 0;
  for (auto& made : created) {
    LiveCursor b;
    b.branch = child_branch(branch, step.name, made.key);
    b.index = index++;
    b.step = made.start;
    b.phase = Phase::pending;
    b.scope = std::move(made.scope);
    inst.cursors.push_back(std::move(b));
  }
  // Redriven at this step: the branches that ended in the run before are kept as they ended.
  if (branch.empty() && !inst.kept_branches.empty()) {
    for (auto& b : branches_of(inst.cursors, branch)) {
      auto kept = inst.kept_branches.find(branch_key(b->branch));
      if (kept == inst.kept_branches.end()) continue;
      b->phase = Phase::ended;
      b->label = kept->second.value("status", "completed");
      b->output = kept->second.value("output", nlohmann::json());
      host_.batch().record(inst, *b, EventType::branch_ended, host_.now(),
                           {{"status", b->label}, {"output", b->output}, {"kept", true}});
    }
    inst.kept_branches.clear();
  }
  join(inst, branch);
}

void StepMachine::start_branch(Instance& inst, const std::string& branch) {
  LiveCursor& b = inst.at(branch);
  b.phase = Phase::idle;
  host_.batch().record(inst, b, EventType::branch_started, host_.now(),
                       {{"key", branch_key(branch)}, {"index", b.index}});
  enter(inst, branch, b.step);
}

void StepMachine::end_branch(Instance& inst, const std::string& branch, const std::string& label,
                             nlohmann::json output) {
  LiveCursor& b = inst.at(branch);
  drop_branches(inst, branch, "its branch ended", false);
  b.phase = Phase::ended;
  b.label = label;
  b.output = std::move(output);
  b.deadline.reset();
  b.incident.reset();
  ++b.generation;
  host_.batch().record(inst, b, EventType::branch_ended, host_.now(),
                       {{"status", label}, {"output", b.output}});
  fault_point("branch.ended");
  join(inst, parent_branch(branch));
}

// Starts pending branches while the concurrency allows, and completes the fan-out step once
// every branch has ended. A branch that ends while this runs (it may end at once) calls join
// again for the same holder; that call only asks this loop to look again, so the work stays a
// loop, not a recursion as deep as the number of branches.
void StepMachine::join(Instance& inst, const std::string& parent) {
  auto& active = inst.joins_running;
  if (std::find(active.begin(), active.end(), parent) != active.end()) return;
  active.push_back(parent);
  for (;;) {
    LiveCursor* holder = inst.find(parent);
    if (holder == nullptr || holder->phase != Phase::joining) break;
    const Step& step = inst.step(*holder);
    auto* children = inst.cursors.children(parent);
    int limit = 0;
    if (const auto* each = std::get_if<ForeachStep>(&step.body)) limit = each->concurrency;
    if (limit <= 0) limit = children == nullptr ? 0 : static_cast<int>(children->cursors.size());
    JoinState state;
    state.all_ended = children == nullptr;
    if (children != nullptr) state = join_state(*children, limit);
    if (!state.startable.empty()) {
      // Started in order. A branch may end at once, or fail the step and so drop the others:
      // each is started only while the fan-out stands as it was when they were picked.
      const std::uint64_t changed = children->changed;
      bool started = false;
      for (const auto& branch : state.startable) {
        LiveCursor* h = inst.find(parent);
        auto* now = inst.cursors.children(parent);
        if (h == nullptr || h->phase != Phase::joining || now == nullptr || now->changed != changed)
          break;
        const LiveCursor* b = inst.find(branch);
        if (b == nullptr || b->phase != Phase::pending) continue;
        start_branch(inst, branch);
        started = true;
      }
      if (started) continue;
      break;  // nothing could start: looking again would find the same
    }
    if (!state.all_ended) break;

    // Every branch has ended: collect, drop them, and go on.
    auto branches = branches_of(inst.cursors, parent);
    std::sort(branches.begin(), branches.end(),
              [](const LiveCursor* a, const LiveCursor* b) { return a->index < b->index; });
    nlohmann::json result;
    if (std::holds_alternative<ForeachStep>(step.body)) {
      result = nlohmann::json::array();
      for (const LiveCursor* b : branches) {
        result.push_back(
            {{"key", branch_key(b->branch)}, {"status", b->label}, {"output", b->output}});
      }
    } else {
      result = nlohmann::json::object();
      for (const LiveCursor* b : branches)
        result[branch_key(b->branch)] = {{"status", b->label}, {"output", b->output}};
    }
    std::size_t count = branches.size();
    inst.cursors.remove_if([&](const LiveCursor& c) {
      return !c.branch.empty() && c.branch != parent && parent_branch(c.branch) == parent;
    });
    LiveCursor& done = inst.at(parent);
    if (!step.result.empty()) inst.write(done, step.result, result);
    complete_step(inst, parent, {{"branches", count}, {"result", result}});
  }
  active.erase(std::find(active.begin(), active.end(), parent));
}

void StepMachine::drop_branches(Instance& inst, const std::string& branch,
                                const std::string& reason, bool compensate_children) {
  // A branch that ends has, almost always, nothing under it: found without a walk.
  if (!inst.cursors.has_descendants(branch)) return;
  std::vector<std::string> dropped;
  std::vector<std::string> children;
  for (auto& c : inst.cursors) {
    if (c.branch == branch || !within(c.branch, branch) || c.branch.empty()) continue;
    dropped.push_back(c.branch);
    if (c.phase == Phase::ended) continue;
    nlohmann::json data = {{"status", "abandoned"}, {"reason", reason}};
    if (c.phase == Phase::invoking) {
      // Its call may have had an effect that nobody will hear of: say so, and remember it for
      // compensation.
      data["abandoned_call"] = {{"attempt", c.attempt},
                                {"idempotency_key", inst.idempotency_key(c)}};
      if (!c.compensation) remember_for_compensation(inst, c, inst.step(c), nullptr);
    }
    if (c.phase == Phase::backoff) host_.batch().clear_timer(inst, c.branch, "retry");
    if (c.phase == Phase::waiting && c.deadline) host_.batch().clear_timer(inst, c.branch, "wait");
    if (c.phase == Phase::calling && !c.child.empty()) children.push_back(c.child);
    c.phase = Phase::ended;
    ++c.generation;
    host_.batch().record(inst, c, EventType::branch_ended, host_.now(), std::move(data));
  }
  if (dropped.empty()) return;
  inst.cursors.remove_if([&](const LiveCursor& c) {
    return std::find(dropped.begin(), dropped.end(), c.branch) != dropped.end();
  });
  // Once their cursors are gone, so that a child's end reaches nothing here.
  for (const auto& child : children) host_.cancel_child(child, compensate_children, reason);
}

void StepMachine::fail_fan_out(Instance& inst, const std::string& branch, const Failure& error) {
  LiveCursor& b = inst.at(branch);
  b.phase = Phase::ended;
  b.label = "failed";
  ++b.generation;
  host_.batch().record(inst, b, EventType::branch_ended, host_.now(),
                       {{"status", "failed"}, {"error", store::failure_json(error)}});
  std::string holder = parent_branch(branch);
  drop_branches(inst, holder, fmt::format("branch {} failed", branch),
                inst.definition->on_failure == FailurePolicy::compensate);
  LiveCursor& h = inst.at(holder);
  h.phase = Phase::idle;
  fail(inst, holder,
       make_failure(std::string(failure::kBranchFailed),
                    fmt::format("branch {} failed: {}: {}", branch_key(branch), error.code,
                                error.message),
                    FailureOrigin::branch));
}

}  // namespace rmaflow
