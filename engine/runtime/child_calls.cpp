// Child workflows: a call step starts another workflow as an instance of its own (its parent
// recorded), waits for it to end and takes its end status and output:
//
//   enter call        -> render input; create the child in the same commit as child_started
//                        (so it is started exactly once per visit); phase calling
//   the child ends    -> child_ended {child, status, output}; completed: the result lands at
//                        .<result>, the step is recorded for compensation; otherwise the step
//                        fails with ChildFailed (catch rules, then the usual policy)
//   parent cancelled  -> its running children are cancelled
//   parent undoes the -> the child compensates its own steps and ends compensated; the parent
//   completed call       goes on when it has
#include <fmt/format.h>

#include "engine/runtime/step_machine.hpp"
#include "engine/support/fault_points.hpp"

namespace rmaflow {

void StepMachine::begin_call(Instance& inst, const std::string& branch, const Step& step) {
  const auto& call = std::get<CallStep>(step.body);
  nlohmann::json input;
  try {
    input = call.input.render(inst.view(inst.at(branch)));
  } catch (const Error& e) {
    fail(inst, branch,
         expression_failure(fmt::format("step {}: the child's `input` did not render", step.name), e));
    return;
  }
  auto version = call.version ? call.version : host_.latest_version(call.workflow);
  auto definition = version ? host_.find_definition(call.workflow, *version) : nullptr;
  if (!definition) {
    fail(inst, branch,
         make_failure(std::string(failure::kUnknownWorkflow),
                      version ? fmt::format("workflow {} has no version {}", call.workflow, *version)
                              : fmt::format("no workflow named {} is deployed", call.workflow),
                      FailureOrigin::engine));
    return;
  }
  std::string child;
  try {
    child = host_.create_child(inst, branch, definition, std::move(input));
  } catch (const Error& e) {
    fail(inst, branch,
         make_failure(std::string(failure::kChildFailed),
                      fmt::format("step {}: workflow {} did not start: {}", step.name,
                                  call.workflow, e.what()),
                      FailureOrigin::child));
    return;
  }
  LiveCursor& c = inst.at(branch);
  c.phase = Phase::calling;
  c.child = child;
  host_.batch().record(inst, c, EventType::child_started, host_.now(),
                       {{"child", child},
                        {"workflow", definition->name},
                        {"version", definition->version}});
  fault_point("child.started");
  host_.begin_child(child);
}

void StepMachine::on_child_ended(Instance& parent, const std::string& branch,
                                 const InstanceRow& child) {
  LiveCursor* c = parent.find(branch);
  if (c == nullptr || c->phase != Phase::calling || c->child != child.id) return;  // not awaited
  const Cursor& line = child.main();
  auto now = host_.now();
  std::string status(to_string(child.status));
  if (c->compensation) {
    Cursor undone;
    undone.step = c->step;
    undone.branch = branch;
    if (const SagaEntry* entry = newest_to_undo(parent, branch)) {
      undone.branch = entry->branch;
      auto& done = parent.row.saga.done;
      done.erase(done.begin() + (entry - done.data()));
    }
    host_.batch().record(parent, undone, EventType::compensation_step_completed, now,
                         {{"child", child.id}, {"status", status}});
    next_compensation(parent, branch);
    return;
  }
  host_.batch().record(parent, *c, EventType::child_ended, now,
                       {{"child", child.id}, {"status", status}, {"output", line.output}});
  if (child.status != InstanceStatus::completed) {
    c->phase = Phase::idle;
    fail(parent, branch,
         make_failure(std::string(failure::kChildFailed),
                      fmt::format("child {} (workflow {}) ended {}", child.id, child.workflow,
                                  status),
                      FailureOrigin::child));
    return;
  }
  nlohmann::json result = {{"instance_id", child.id}, {"status", status}, {"output", line.output}};
  const Step& step = parent.step(*c);
  if (!step.result.empty()) parent.write(*c, step.result, result);
  remember_for_compensation(parent, *c, step, &result);
  complete_step(parent, branch, {{"child", child.id}, {"result", result}});
}

void StepMachine::compensate_finished(Instance& inst, const std::string& reason) {
  inst.row.status = InstanceStatus::compensating;
  inst.row.ended_at.reset();
  LiveCursor& line = inst.main();
  line.phase = Phase::idle;
  line.label.clear();
  ++line.generation;
  start_compensation(inst, "", "compensated", reason);
}

}  // namespace rmaflow
