// Operator repairs of one instance. Each is one audited transition (event operator_action
// with actor, reason, arguments, and the status and step before and after), refused with
// Error(refused) where it makes no sense. retry, skip, goto and resolve act on one cursor (the
// main line or a branch); cancel, patch and migrate on the whole instance. What each does is
// listed with ActionKind.
#include <fmt/format.h>

#include <algorithm>

#include "engine/runtime/step_machine.hpp"
#include "engine/support/name_table.hpp"

namespace rmaflow {

namespace {

constexpr NameTable<ActionKind, 10> kKinds{{
    {ActionKind::retry, "retry"},
    {ActionKind::skip, "skip"},
    {ActionKind::goto_step, "goto"},
    {ActionKind::cancel, "cancel"},
    {ActionKind::patch, "patch"},
    {ActionKind::resolve, "resolve"},
    {ActionKind::migrate, "migrate"},
    {ActionKind::pause, "pause"},
    {ActionKind::resume, "resume"},
    {ActionKind::redrive, "redrive"},
}};

std::string describe(const Instance& inst, const Cursor& c) {
  if (c.branch.empty()) {
    return fmt::format("instance {} is {} at step {}", inst.row.id, to_string(inst.row.status),
                       c.step);
  }
  std::string state = c.incident ? "suspended"
                      : c.phase == Phase::ended
                          ? "ended"
                          : std::string(to_string(c.phase));
  return fmt::format("branch {} of instance {} is {} at step {}", c.branch, inst.row.id, state,
                     c.step);
}

[[noreturn]] void refuse(const Instance& inst, const Cursor& c, const std::string& why) {
  throw Error(Errc::refused, fmt::format("{}: {}", describe(inst, c), why));
}

nlohmann::json where(const Instance& inst, const Cursor& c) {
  nlohmann::json out = {{"status", to_string(inst.row.status)}, {"step", c.step}};
  if (!c.branch.empty()) out["branch"] = c.branch;
  if (inst.row.paused_at) out["paused"] = true;
  return out;
}

std::string branch_list(const Instance& inst) {
  std::vector<std::string> names;
  for (const auto& c : inst.cursors)
    if (!c.branch.empty()) names.push_back(c.branch);
  return names.empty() ? "it has none" : fmt::format("it has {}", fmt::join(names, ", "));
}

// The cursor an action names: a branch by path or by unique key, else a default.
std::string target_branch(const Instance& inst, const OperatorAction& action) {
  bool whole = action.kind == ActionKind::cancel || action.kind == ActionKind::patch ||
               action.kind == ActionKind::migrate || action.kind == ActionKind::pause ||
               action.kind == ActionKind::resume || action.kind == ActionKind::redrive;
  if (!action.branch.empty()) {
    if (whole) {
      throw ArgumentError(Errc::invalid_argument,
                          fmt::format("{} applies to the whole instance, not to a branch",
                                      to_string(action.kind)),
                          "branch");
    }
    if (inst.find(action.branch) != nullptr) return action.branch;
    std::vector<std::string> by_key;
    for (const auto& c : inst.cursors)
      if (!c.branch.empty() && branch_key(c.branch) == action.branch) by_key.push_back(c.branch);
    if (by_key.size() == 1) return by_key.front();
    if (by_key.size() > 1) {
      throw ArgumentError(Errc::invalid_argument,
                          fmt::format("instance {} has several branches keyed {} ({}); name one "
                                      "by its path",
                                      inst.row.id, action.branch, fmt::join(by_key, ", ")),
                          "branch");
    }
    throw ArgumentError(Errc::not_found,
                        fmt::format("instance {} has no branch {}; {}", inst.row.id, action.branch,
                                    branch_list(inst)),
                        "branch");
  }
  if (whole || action.kind == ActionKind::goto_step) return "";
  const Cursor& line = inst.main();
  if (line.incident || line.phase == Phase::backoff || line.phase == Phase::waiting) return "";
  std::vector<std::string> stuck;
  for (const auto& c : inst.cursors)
    if (!c.branch.empty() && c.incident) stuck.push_back(c.branch);
  if (stuck.size() == 1) return stuck.front();
  if (stuck.size() > 1) {
    throw Error(Errc::refused,
                fmt::format("instance {} has {} branches with incidents ({}); name the one to {}",
                            inst.row.id, stuck.size(), fmt::join(stuck, ", "),
                            to_string(action.kind)));
  }
  return "";
}

// The attempts in flight that an action stops waiting for, for its audit record.
nlohmann::json calls_in_flight(const Instance& inst, const std::string& scope) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& c : inst.cursors) {
    if (c.phase != Phase::invoking || !within(c.branch, scope)) continue;
    nlohmann::json call = {{"step", c.step}, {"idempotency_key", inst.idempotency_key(c)}};
    if (!c.branch.empty()) call["branch"] = c.branch;
    out.push_back(std::move(call));
  }
  return out;
}

}  // namespace

void check_patch(const nlohmann::json& patch) {
  if (!patch.is_object()) throw Error(Errc::invalid_argument, "patch needs a JSON object");
  for (const char* locked : {"input", "instance"}) {
    if (patch.contains(locked)) {
      throw Error(Errc::refused, fmt::format("the context's .{} is read-only", locked));
    }
  }
}

std::string_view to_string(ActionKind kind) { return name_of(kKinds, kind); }

std::optional<ActionKind> parse_action_kind(std::string_view text) {
  return value_of(kKinds, text);
}

void StepMachine::abandon_pending(Instance& inst, LiveCursor& c) {
  if (c.phase == Phase::backoff) host_.batch().clear_timer(inst, c.branch, "retry");
  if (c.phase == Phase::waiting && c.deadline) host_.batch().clear_timer(inst, c.branch, "wait");
  // A call out may have had its effect: remember it for compensation.
  if (c.phase == Phase::invoking && !c.compensation) {
    remember_for_compensation(inst, c, inst.step(c), nullptr);
  }
  c.deadline.reset();
  c.phase = Phase::idle;
  c.incident.reset();
  ++c.generation;  // an outcome still in flight is stale now
}

void StepMachine::apply(Instance& inst, const OperatorAction& action) {
  if (action.reason.empty()) {
    throw Error(Errc::invalid_argument, "an operator action needs a reason");
  }
  if (is_final(inst.row.status)) refuse(inst, inst.main(), "it is finished");
  std::string branch = target_branch(inst, action);
  LiveCursor& c = inst.at(branch);
  const Step& step = inst.step(c);
  auto before = where(inst, c);
  auto now = host_.now();
  bool suspended = c.incident.has_value();
  nlohmann::json args = action.args.is_object() ? action.args : nlohmann::json::object();

  // Validate first: a refused action changes nothing.
  switch (action.kind) {
    case ActionKind::retry:
      if (!suspended && c.phase != Phase::backoff) {
        refuse(inst, c, "only a suspended step or one waiting for a retry can be retried");
      }
      if (args.contains("input") && !inst.action(c)) refuse(inst, c, "this step takes no input");
      if (inst.row.paused_at) refuse(inst, c, "it is paused: resume it first, then retry");
      break;
    case ActionKind::skip:
      if (!suspended && c.phase != Phase::waiting) {
        refuse(inst, c, "only a suspended or waiting step can be skipped");
      }
      if (!c.compensation && step.kind() != StepKind::task && step.kind() != StepKind::wait) {
        refuse(inst, c,
               fmt::format("a {} step cannot be skipped; use goto", to_string(step.kind())));
      }
      break;
    case ActionKind::goto_step: {
      auto target = args.value("step", std::string());
      if (target.empty()) throw ArgumentError(Errc::invalid_argument, "goto needs a step", "step");
      const Step* to = inst.definition->find(target);
      if (to == nullptr) {
        throw ArgumentError(Errc::not_found,
                            fmt::format("workflow {} version {} has no step {}", inst.row.workflow,
                                        inst.row.version, target),
                            "step");
      }
      if (to->flow != step.flow) {
        refuse(inst, c,
               fmt::format("step {} is in {}, not in the flow of step {}; a cursor moves only "
                           "within its flow",
                           target, to->flow.empty() ? "the top level" : "the sub-flow of " + to->flow,
                           c.step));
      }
      if (c.compensation) refuse(inst, c, "it is compensating; retry, skip or cancel instead");
      // Its fan-out starts it in turn, within the concurrency: moved now, it would run out of turn.
      if (c.phase == Phase::pending) {
        refuse(inst, c,
               "its branch has not started; it starts in turn, and can be moved once it has");
      }
      break;
    }
    case ActionKind::cancel:
      break;
    case ActionKind::patch:
      check_patch(args.contains("patch") ? args["patch"] : nlohmann::json());
      break;
    case ActionKind::resolve:
      if (!suspended) refuse(inst, c, "it has no open incident");
      break;
    case ActionKind::migrate: {
      auto target = migration_of(inst, args);
      if (!target.refusal.empty()) refuse(inst, c, target.refusal);
      args["from"] = inst.row.version;
      break;
    }
    case ActionKind::pause:
      if (inst.row.paused_at) {
        refuse(inst, c, fmt::format("it is already paused (since {})", format_time(*inst.row.paused_at)));
      }
      break;
    case ActionKind::resume:
      if (!inst.row.paused_at) refuse(inst, c, "it is not paused");
      break;
    case ActionKind::redrive:  // a finished instance goes through redrive()
      refuse(inst, c, "only a finished instance can be redriven; retry, skip or goto it instead");
  }

  // The action is recorded first (it causes what follows); its "after" is filled in once the
  // transitions it causes are recorded.
  std::size_t audit = 0;
  Cursor at = c;  // the event's step and branch, before the action moves the cursor
  nlohmann::json abandoned =
      calls_in_flight(inst, action.kind == ActionKind::cancel ? std::string() : branch);
  auto record = [&] {
    nlohmann::json data = {{"action", to_string(action.kind)},
                           {"actor", action.actor},
                           {"reason", action.reason},
                           {"args", args},
                           {"before", before}};
    if (!action.job.empty()) data["job"] = action.job;
    if (!abandoned.empty() && action.kind != ActionKind::patch) {
      data["abandoned_calls"] = abandoned;  // their effects are compensated if it compensates
    }
    audit = host_.batch().record(inst, at, EventType::operator_action, now, std::move(data));
  };
  perform(inst, action, branch, args, record);
  inst.refresh_summary();
  const LiveCursor* after = inst.find(branch);
  host_.batch().amend(audit, "after", where(inst, after ? *after : inst.main()));
}

void StepMachine::perform(Instance& inst, const OperatorAction& action, const std::string& branch,
                          const nlohmann::json& args, const std::function<void()>& record) {
  LiveCursor& c = inst.at(branch);
  const Step& step = inst.step(c);
  auto now = host_.now();

  switch (action.kind) {
    case ActionKind::retry: {
      abandon_pending(inst, c);
      if (args.contains("input")) c.input = args["input"];
      record();
      if (c.compensation && !inst.action(c)) {
        next_compensation(inst, branch);  // undoing a child: ask it again
      } else if (inst.action(c)) {
        start_attempt(inst, c);
      } else {
        enter(inst, branch, c.step);  // a switch, set, wait, fan-out or call step runs again
      }
      return;
    }
    case ActionKind::skip: {
      abandon_pending(inst, c);
      auto output = args.value("output", nlohmann::json());
      if (c.compensation) {
        record();
        if (const SagaEntry* entry = newest_to_undo(inst, branch)) {
          auto& done = inst.row.saga.done;
          done.erase(done.begin() + (entry - done.data()));
        }
        next_compensation(inst, branch);
        return;
      }
      record();
      if (!step.result.empty()) inst.write(c, step.result, output);
      forget_unknown_outcome(inst, c);
      if (step.kind() == StepKind::task) remember_for_compensation(inst, c, step, &output);
      complete_step(inst, branch, {{"skipped", true}, {"result", output}});
      return;
    }
    case ActionKind::goto_step: {
      std::string child = c.phase == Phase::calling ? c.child : std::string();
      abandon_pending(inst, c);
      drop_branches(inst, branch, fmt::format("moved by {}: {}", action.actor, action.reason),
                    false);
      // Abandoned first, so that the child's end does not reach this cursor.
      if (!child.empty()) host_.cancel_child(child, false, "its parent was moved on");
      record();
      enter(inst, branch, args["step"].get<std::string>());
      return;
    }
    case ActionKind::cancel: {
      std::string reason = fmt::format("cancelled by {}: {}", action.actor, action.reason);
      bool compensate = args.value("compensate", false) && !inst.main().compensation;
      std::vector<std::string> children;
      for (auto& cursor : inst.cursors) {
        if (cursor.phase == Phase::calling && !cursor.child.empty() && !cursor.compensation)
          children.push_back(cursor.child);
        abandon_pending(inst, cursor);
      }
      drop_branches(inst, "", reason, compensate);
      // Abandoned first, so that a child's end does not reach a cursor of this instance.
      for (const auto& child : children) host_.cancel_child(child, compensate, reason);
      inst.main().compensation.reset();
      record();
      if (compensate) {
        start_compensation(inst, "", "cancelled", reason);
      } else {
        finish(inst, "cancelled");
      }
      return;
    }
    case ActionKind::patch: {
      inst.row.context.edit().merge_patch(args["patch"]);
      host_.batch().touch(inst);
      record();
      refresh_attributes(inst);
      return;
    }
    case ActionKind::resolve: {
      abandon_pending(inst, c);
      record();
      host_.batch().record(inst, c, EventType::incident_resolved, now,
                           {{"actor", action.actor}, {"reason", action.reason}});
      c.compensation.reset();
      if (branch.empty()) {
        finish(inst, "failed");
      } else {
        end_branch(inst, branch, "failed", nullptr);
      }
      return;
    }
    case ActionKind::migrate: {
      auto target = migration_of(inst, args);
      record();
      migrate(inst, target);
      return;
    }
    case ActionKind::pause:
      inst.row.paused_at = now;
      host_.batch().touch(inst);
      record();
      return;
    case ActionKind::resume:
      record();
      release(inst);
      return;
    case ActionKind::redrive:  // refused by apply()
      return;
  }
}

}  // namespace rmaflow
