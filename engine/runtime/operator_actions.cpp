// Operator repairs of one instance. Each is one audited transition (event operator_action
// with actor, reason, arguments, and the status and step before and after), refused with
// Error(refused) where it makes no sense. What each does is listed with ActionKind.
#include <fmt/format.h>

#include "engine/runtime/step_machine.hpp"
#include "engine/support/name_table.hpp"

namespace rmaflow {

namespace {

constexpr NameTable<ActionKind, 7> kKinds{{
    {ActionKind::retry, "retry"},   {ActionKind::skip, "skip"},   {ActionKind::goto_step, "goto"},
    {ActionKind::cancel, "cancel"}, {ActionKind::patch, "patch"}, {ActionKind::resolve, "resolve"},
    {ActionKind::migrate, "migrate"},
}};

[[noreturn]] void refuse(const Instance& inst, const std::string& why) {
  throw Error(Errc::refused, fmt::format("instance {} is {} at step {}: {}", inst.row.id,
                                         to_string(inst.row.status), inst.row.step, why));
}

nlohmann::json where(const Instance& inst) {
  return {{"status", to_string(inst.row.status)}, {"step", inst.row.step}};
}

}  // namespace

std::string_view to_string(ActionKind kind) { return name_of(kKinds, kind); }

std::optional<ActionKind> parse_action_kind(std::string_view text) {
  return value_of(kKinds, text);
}

void StepMachine::abandon_pending(Instance& inst) {
  if (inst.row.phase == Phase::backoff) host_.batch().clear_timer(inst, "retry");
  if (inst.row.phase == Phase::waiting && inst.row.deadline) host_.batch().clear_timer(inst, "wait");
  inst.row.deadline.reset();
  inst.row.phase = Phase::idle;
  inst.row.incident.clear();
  ++inst.generation;  // an outcome still in flight is stale now
}

void StepMachine::apply(Instance& inst, const OperatorAction& action) {
  if (action.reason.empty()) {
    throw Error(Errc::invalid_argument, "an operator action needs a reason");
  }
  if (is_final(inst.row.status)) refuse(inst, "it is finished");
  const Step& step = inst.step();
  auto before = where(inst);
  auto now = host_.now();
  bool suspended = inst.row.status == InstanceStatus::suspended;
  nlohmann::json args = action.args.is_object() ? action.args : nlohmann::json::object();

  // Validate first: a refused action changes nothing.
  switch (action.kind) {
    case ActionKind::retry:
      if (!suspended && inst.row.phase != Phase::backoff) {
        refuse(inst, "only a suspended instance or one waiting for a retry can be retried");
      }
      if (args.contains("input") && !inst.action()) refuse(inst, "this step takes no input");
      break;
    case ActionKind::skip:
      if (!suspended && inst.row.status != InstanceStatus::waiting) {
        refuse(inst, "only a suspended or waiting step can be skipped");
      }
      if (step.kind() != StepKind::task && step.kind() != StepKind::wait) {
        refuse(inst, "a switch, set or end step cannot be skipped; use goto");
      }
      break;
    case ActionKind::goto_step: {
      auto target = args.value("step", std::string());
      if (target.empty()) throw Error(Errc::invalid_argument, "goto needs a step");
      if (inst.definition->find(target) == nullptr) {
        throw Error(Errc::not_found, fmt::format("workflow {} version {} has no step {}",
                                                 inst.row.workflow, inst.row.version, target));
      }
      if (inst.compensating()) refuse(inst, "it is compensating; retry, skip or cancel instead");
      break;
    }
    case ActionKind::cancel:
      break;
    case ActionKind::patch: {
      const auto& patch = args.contains("patch") ? args["patch"] : nlohmann::json();
      if (!patch.is_object()) throw Error(Errc::invalid_argument, "patch needs a JSON object");
      for (const char* locked : {"input", "instance"}) {
        if (patch.contains(locked)) {
          throw Error(Errc::refused, fmt::format("the context's .{} is read-only", locked));
        }
      }
      break;
    }
    case ActionKind::resolve:
      if (!suspended) refuse(inst, "it has no open incident");
      break;
    case ActionKind::migrate: {
      auto target = migration_of(inst, args);
      if (!target.refusal.empty()) refuse(inst, target.refusal);
      args["from"] = inst.row.version;
      break;
    }
  }

  // The action is recorded first (it causes what follows); its "after" is filled in once the
  // transitions it causes are recorded.
  std::size_t audit = 0;
  auto record = [&] {
    audit = host_.batch().record(inst, EventType::operator_action, now,
                                 {{"action", to_string(action.kind)},
                                  {"actor", action.actor},
                                  {"reason", action.reason},
                                  {"args", args},
                                  {"before", before}});
  };
  perform(inst, action, args, record);
  host_.batch().amend(audit, "after", where(inst));
}

void StepMachine::perform(Instance& inst, const OperatorAction& action, const nlohmann::json& args,
                          const std::function<void()>& record) {
  const Step& step = inst.step();
  auto now = host_.now();

  switch (action.kind) {
    case ActionKind::retry: {
      abandon_pending(inst);
      inst.row.status = inst.compensating() ? InstanceStatus::compensating : InstanceStatus::running;
      if (args.contains("input")) inst.step_input = args["input"];
      record();
      if (inst.action()) {
        start_attempt(inst);
      } else {
        enter(inst, inst.row.step);  // a switch, set or wait step runs again
      }
      return;
    }
    case ActionKind::skip: {
      abandon_pending(inst);
      auto output = args.value("output", nlohmann::json());
      if (inst.compensating()) {
        inst.row.status = InstanceStatus::compensating;
        record();
        inst.saga["done"].erase(inst.saga["done"].size() - 1);
        next_compensation(inst);
        return;
      }
      inst.row.status = InstanceStatus::running;
      record();
      if (!step.result.empty()) inst.context[step.result] = output;
      host_.batch().record(inst, EventType::step_completed, now,
                           {{"skipped", true}, {"result", output}});
      enter(inst, step.next);
      return;
    }
    case ActionKind::goto_step: {
      abandon_pending(inst);
      inst.row.status = InstanceStatus::running;
      record();
      enter(inst, args["step"].get<std::string>());
      return;
    }
    case ActionKind::cancel: {
      abandon_pending(inst);
      bool compensate = args.value("compensate", false) && !inst.compensating();
      inst.saga.erase("running");
      record();
      if (compensate) {
        start_compensation(inst, InstanceStatus::cancelled,
                           fmt::format("cancelled by {}: {}", action.actor, action.reason));
      } else {
        finish(inst, InstanceStatus::cancelled);
      }
      return;
    }
    case ActionKind::patch: {
      inst.context.merge_patch(args["patch"]);
      host_.batch().touch(inst);
      record();
      return;
    }
    case ActionKind::resolve: {
      abandon_pending(inst);
      record();
      host_.batch().record(inst, EventType::incident_resolved, now,
                           {{"actor", action.actor}, {"reason", action.reason}});
      inst.saga.erase("running");
      finish(inst, InstanceStatus::failed);
      return;
    }
    case ActionKind::migrate: {
      auto target = migration_of(inst, args);
      record();
      migrate(inst, target);
      return;
    }
  }
}

}  // namespace rmaflow
