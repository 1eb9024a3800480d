// The per-instance state machine: what each step kind does when a cursor enters it, and what
// happens when an attempt succeeds, fails or times out, a retry or wait comes due, a signal
// arrives, branches end, a child ends, or an operator repairs the instance.
//
// It only records transitions in the host's Batch and asks the host for effects that must
// wait for the commit (adapter calls, in-memory timers); it never touches the store or an
// adapter itself. A cursor is named by its branch path ("" is the main line): entering a step
// may add or remove cursors, so no Cursor reference is kept across such a call.
// Not thread-safe: the engine calls it from its own thread.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "engine/runtime/batch.hpp"
#include "engine/runtime/instance.hpp"
#include "engine/runtime/redrive.hpp"
#include "engine/runtime/timer_queue.hpp"
#include "rmaflow/adapter.hpp"
#include "rmaflow/engine.hpp"

namespace rmaflow {

// Throws Error(invalid_argument / refused) unless `patch` is a merge patch an operator may
// apply to a context: a JSON object that leaves the read-only .input and .instance alone.
void check_patch(const nlohmann::json& patch);

class MachineHost {
 public:
  virtual ~MachineHost() = default;
  virtual TimePoint now() const = 0;
  virtual Batch& batch() = 0;
  // Whether calls of this operation may wait their turn behind the adapter's limits (then an
  // attempt's deadline counts from when its call goes out).
  virtual bool call_limited(const std::string& adapter, const std::string& operation) const = 0;
  // Once the batch commits, invoke the adapter for the cursor's current attempt.
  virtual void invoke_after_commit(Instance& inst, const LiveCursor& cursor) = 0;
  // Once the batch commits, arm an in-memory timer.
  virtual void arm_after_commit(TimerEntry entry) = 0;
  // A uniformly random duration in [0, max].
  virtual Duration random_up_to(Duration max) = 0;
  // Fills inst.pending_signals from the store unless already loaded.
  virtual void load_signals(Instance& inst) = 0;
  // A deployed version of a workflow; null when it is not deployed.
  virtual std::shared_ptr<const Definition> find_definition(const std::string& workflow,
                                                            int version) = 0;
  // The newest deployed version of a workflow.
  virtual std::optional<int> latest_version(const std::string& workflow) = 0;

  // Children (call steps). Each acts on another instance within the same batch.
  // Creates (does not yet begin) a child of `parent` for the cursor at `branch`; returns its
  // id. Throws Error(invalid_input) when the input fails the child workflow's schema.
  virtual std::string create_child(Instance& parent, const std::string& branch,
                                   std::shared_ptr<const Definition> workflow,
                                   nlohmann::json input) = 0;
  // Begins a child created by create_child (it may end at once and report back).
  virtual void begin_child(const std::string& child_id) = 0;
  // The instance ended (its instance_ended event is in the batch): a child's parent goes on,
  // and whoever awaits its end is answered once the batch commits.
  virtual void instance_ended(Instance& inst) = 0;
  // Cancels an unfinished child (its parent is cancelled or stops waiting for it).
  virtual void cancel_child(const std::string& child_id, bool compensate,
                            const std::string& reason) = 0;
  // Undoes a completed child's steps (its parent compensates the call step); false when there
  // is no such finished child (nothing to wait for).
  virtual bool compensate_child(const std::string& child_id, const std::string& reason) = 0;
};

// Whether a timer still belongs to what the cursor is doing: the phase it was set for, with
// the same deadline. Anything else is a leftover of an attempt, retry or wait that has ended.
bool timer_applies(const Cursor& cursor, TimerKind kind, TimePoint due);

// The failure of a step whose jq expression raised: ExpressionLimit past a limit, else
// ExpressionError; `what` says where ("step inspect: `with` did not render") unless the error
// already names the field and its step.
Failure expression_failure(const std::string& what, const Error& error);

class StepMachine {
 public:
  StepMachine(MachineHost& host, int max_steps_per_turn)
      : host_(host), max_steps_per_turn_(max_steps_per_turn) {}

  // A new instance: records instance_started and enters the start step.
  void begin(Instance& inst);
  void on_outcome(Instance& inst, const std::string& branch, const Outcome& outcome);
  void on_timeout(Instance& inst, const std::string& branch);
  void on_retry_due(Instance& inst, const std::string& branch);
  // A wait step's duration elapsed or its signal did not come in time.
  void on_wait_due(Instance& inst, const std::string& branch);
  // A new signal (already checked: not a duplicate, instance not finished, some wait can take
  // it). It is recorded, and consumed at once when a cursor waits for it; otherwise it stays
  // pending.
  void on_signal(Instance& inst, SignalRow signal);
  // Whether a signal `name` (with `match`) would be taken as it arrives, by a cursor waiting
  // for it now, rather than kept for later.
  bool takes_at_once(const Instance& inst, const std::string& name,
                     const nlohmann::json& match) const;
  // The child a call step waits for has ended with `status` and `output`.
  void on_child_ended(Instance& parent, const std::string& branch, const InstanceRow& child);
  // Its parent undoes a completed call step: the child compensates its steps, then ends
  // compensated (and reports back through the host).
  void compensate_finished(Instance& inst, const std::string& reason);
  // An operator's repair (see ActionKind). Throws Error(refused / not_found /
  // invalid_argument) before changing anything when it makes no sense.
  void apply(Instance& inst, const OperatorAction& action);
  // Reopens a finished instance at plan.step (ActionKind::redrive; the plan is checked by
  // plan_redrive). Its args may carry a context merge patch, applied with it.
  void redrive(Instance& inst, const OperatorAction& action, const RedrivePlan& plan);
  // Evaluates the workflow's search attributes over the instance's context and has them
  // written when they changed: at its start, after a set step of its main line, and after an
  // operator patches its context. One that does not evaluate, or to null, an object or an
  // array, or to text longer than kMaxAttributeBytes, is not indexed.
  void refresh_attributes(Instance& inst);
  // After a restart: re-arms what an unfinished instance was doing when the process stopped.
  void resume(Instance& inst);
  // An instance the engine died on twice in a row (quarantine.hpp): whatever its cursors were
  // doing is dropped and each is suspended with the incident Quarantined, saying `why`.
  void quarantine(Instance& inst, const std::string& why);

 private:
  // Enters `step` at the cursor and runs set/switch steps until one waits on something (a
  // task attempt, a timer, branches, a child) or the cursor ends.
  void enter(Instance& inst, const std::string& branch, std::string step);
  void start_attempt(Instance& inst, LiveCursor& c);
  // Pause (ActionKind::pause): while the instance is paused, a cursor that would enter a step,
  // or start a compensation's attempt, is held there instead; retries and waits that come due
  // are left for later (the engine does not fire them). release() resumes the instance: it
  // arms those timers again (the ones already due fire at once), lets the held cursors go on
  // and hands waiting cursors the signals kept for them.
  static void hold(LiveCursor& c);
  void release(Instance& inst);
  // The step at the cursor succeeded with `output`: record it and go on to its next step.
  void complete_step(Instance& inst, const std::string& branch, nlohmann::json data);
  // The action's transitions, after apply() validated it; `record` writes the audit event.
  void perform(Instance& inst, const OperatorAction& action, const std::string& branch,
               const nlohmann::json& args, const std::function<void()>& record);
  // Drops the cursor's retry or wait timer and incident; an outcome in flight becomes stale
  // and, when it may have had an effect, is remembered for compensation.
  void abandon_pending(Instance& inst, LiveCursor& c);
  // Where a migrate action's args {to, steps} take the instance. Throws Error(not_found) for
  // a version that is not deployed, Error(invalid_argument) for malformed args.
  struct Migration {
    std::shared_ptr<const Definition> definition;
    std::string step;
    std::string refusal;
    std::map<std::string, std::string> steps;
  };
  Migration migration_of(const Instance& inst, const nlohmann::json& args);
  // Moves a waiting instance to another version's wait step (migration.hpp).
  void migrate(Instance& inst, const Migration& to);

  // Waits and signals.
  void begin_wait(Instance& inst, LiveCursor& c, const WaitStep& wait);
  void set_wait_timer(Instance& inst, LiveCursor& c, TimePoint due);
  // Consumes the oldest pending signal the cursor's wait takes; false when none.
  bool try_consume(Instance& inst, const std::string& branch);

  // Failure: one decision (failure_policy.hpp), then its transitions.
  void fail(Instance& inst, const std::string& branch, const Failure& error);
  void suspend(Instance& inst, LiveCursor& c, const Failure& error, int attempts);
  nlohmann::json error_document(const Cursor& c, const Failure& error) const;

  // Fan-out (fan_out.cpp).
  void begin_fan_out(Instance& inst, const std::string& branch, const Step& step);
  void start_branch(Instance& inst, const std::string& branch);
  // A branch reached an end step (or was resolved): record it, then join if all have ended.
  void end_branch(Instance& inst, const std::string& branch, const std::string& label,
                  nlohmann::json output);
  void join(Instance& inst, const std::string& parent);
  // Removes every branch inside `branch` (not `branch` itself); their calls in flight become
  // stale and are remembered for compensation, their children are cancelled.
  void drop_branches(Instance& inst, const std::string& branch, const std::string& reason,
                     bool compensate_children);
  // A branch whose fan-out step says fail failed for good: the step fails with BranchFailed.
  void fail_fan_out(Instance& inst, const std::string& branch, const Failure& error);

  // Child workflows (child_calls.cpp).
  void begin_call(Instance& inst, const std::string& branch, const Step& step);

  // Saga (compensation.cpp): undo completed steps newest first, then end with `then`.
  // Steps before a succeeded pivot are not in the record. On the main line every recorded
  // step is undone; a branch undoes its own (and its nested branches').
  void start_compensation(Instance& inst, const std::string& branch, std::string then,
                          const std::string& reason);
  void next_compensation(Instance& inst, const std::string& branch);
  // The newest record the cursor at `branch` has to undo; null when none is left.
  const SagaEntry* newest_to_undo(const Instance& inst, const std::string& branch) const;
  void remember_for_compensation(Instance& inst, LiveCursor& c, const Step& step,
                                 const nlohmann::json* result);
  void forget_unknown_outcome(Instance& inst, const Cursor& c);
  // The instance (main line) or a branch reached its end.
  void finish(Instance& inst, const std::string& label);

  MachineHost& host_;
  int max_steps_per_turn_;
};

}  // namespace rmaflow
