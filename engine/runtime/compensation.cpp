// Saga compensation:
//
//   task with `compensate` succeeds -> its compensation input is rendered and recorded
//   call step's child completes     -> recorded: undoing it compensates the child
//   a call times out / is abandoned -> recorded with outcome_unknown: it may have had its effect
//   pivot task succeeds            -> on the main line the record is emptied; in a branch, that
//                                     branch's entries (and its nested branches') go
//   unhandled failure              -> decide() (failure_policy.hpp): compensate or suspend
//   end with compensate: true      -> on the main line: undo everything, end with the status;
//                                     in a branch: undo that branch's steps, end the branch
//   compensating                   -> newest recorded step first, one at a time, each a retried
//                                     attempt with key <original key>:compensate; one that fails
//                                     for good suspends with an incident
#include <fmt/format.h>

#include "engine/runtime/step_machine.hpp"

namespace rmaflow {

const SagaEntry* StepMachine::newest_to_undo(const Instance& inst,
                                             const std::string& branch) const {
  return inst.undoing(branch);
}

void StepMachine::remember_for_compensation(Instance& inst, LiveCursor& c, const Step& step,
                                            const nlohmann::json* result) {
  auto& saga = inst.row.saga;
  const TaskStep* task = step.task();
  int visit = inst.visit(c);
  if (result == nullptr) {
    // The outcome is unknown: undo it too, unless it is remembered already.
    if (task == nullptr || !task->compensate) return;
    for (const auto& e : saga.done)
      if (e.outcome_unknown && e.step == step.name && e.branch == c.branch && e.visit == visit)
        return;
    SagaEntry entry{step.name, c.branch, visit, nlohmann::json::object(), "", "", true};
    try {
      entry.input = task->compensate->with.render(inst.view(c));
    } catch (const Error& e) {
      entry.render_error = e.what();  // without the result; the adapter finds it by key
    }
    saga.done.push_back(std::move(entry));
    return;
  }
  if (step.kind() == StepKind::call) {
    saga.done.push_back(SagaEntry{step.name, c.branch, visit, nullptr, "", c.child, false});
    return;
  }
  if (task == nullptr) return;
  if (task->compensate) {
    SagaEntry entry{step.name, c.branch, visit, nullptr, "", "", false};
    try {
      entry.input = task->compensate->with.render(inst.view(c));
    } catch (const Error& e) {
      entry.render_error = e.what();  // reported if the compensation is ever needed
    }
    saga.done.push_back(std::move(entry));
  }
  if (task->pivot) {
    if (c.branch.empty()) {
      saga.done.clear();
      saga.pivot = true;
    } else {
      std::erase_if(saga.done, [&](const SagaEntry& e) { return within(e.branch, c.branch); });
      c.pivot = true;
    }
  }
}

void StepMachine::forget_unknown_outcome(Instance& inst, const Cursor& c) {
  int visit = inst.visit(c);
  std::erase_if(inst.row.saga.done, [&](const SagaEntry& e) {
    return e.outcome_unknown && e.step == c.step && e.branch == c.branch && e.visit == visit;
  });
}

void StepMachine::start_compensation(Instance& inst, const std::string& branch, std::string then,
                                     const std::string& reason) {
  // The main line undoes everything: no branch may go on meanwhile.
  if (branch.empty()) drop_branches(inst, "", reason, false);
  LiveCursor& c = inst.at(branch);
  nlohmann::json steps = nlohmann::json::array();
  const auto& done = inst.row.saga.done;
  for (auto it = done.rbegin(); it != done.rend(); ++it) {
    if (!within(it->branch, branch)) continue;
    steps.push_back(it->branch.empty() ? it->step : it->step + " (" + it->branch + ")");
  }
  c.compensation = CompensationRun{then, reason, c.step};
  host_.batch().record(inst, c, EventType::compensation_started, host_.now(),
                       {{"reason", reason}, {"steps", steps}, {"then", then}});
  next_compensation(inst, branch);
}

void StepMachine::next_compensation(Instance& inst, const std::string& branch) {
  for (;;) {
    LiveCursor& c = inst.at(branch);
    const SagaEntry* entry = newest_to_undo(inst, branch);
    if (entry == nullptr) {
      CompensationRun run = *c.compensation;
      c.compensation.reset();
      if (!run.from_step.empty()) c.step = run.from_step;  // it ends where it began undoing
      c.phase = Phase::idle;
      host_.batch().record(inst, c, EventType::compensation_finished, host_.now(),
                           {{"then", run.then}});
      if (branch.empty()) {
        finish(inst, run.then);
      } else {
        end_branch(inst, branch, run.then, c.output);
      }
      return;
    }
    c.attempt = 0;
    c.phase = Phase::idle;
    c.step = entry->step;
    c.input = entry->input;
    c.incident.reset();
    ++c.generation;
    if (!entry->child.empty()) {
      c.child = entry->child;
      c.phase = Phase::calling;
      if (host_.compensate_child(entry->child, c.compensation->reason)) return;
      // No finished child to undo (or it has nothing left): this step is done.
      auto& done = inst.row.saga.done;
      done.erase(done.begin() + (entry - done.data()));
      continue;
    }
    if (!entry->render_error.empty() && !entry->outcome_unknown) {
      suspend(inst, c,
              make_failure(std::string(failure::kExpressionError),
                           fmt::format("the compensation of step {} did not render: {}",
                                       entry->step, entry->render_error),
                           FailureOrigin::engine),
              0);
      return;
    }
    start_attempt(inst, c);
    return;
  }
}

}  // namespace rmaflow
