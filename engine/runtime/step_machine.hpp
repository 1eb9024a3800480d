// The per-instance state machine: what each step kind does on entry, and what happens when
// an attempt succeeds, fails, times out, or its retry comes due.
//
// It only records transitions in the host's Batch and asks the host for effects that must
// wait for the commit (adapter calls, in-memory timers); it never touches the store or an
// adapter itself. Not thread-safe: the engine calls it from its own thread.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/runtime/batch.hpp"
#include "engine/runtime/instance.hpp"
#include "engine/runtime/timer_queue.hpp"
#include "rmaflow/adapter.hpp"
#include "rmaflow/engine.hpp"

namespace rmaflow {

class MachineHost {
 public:
  virtual ~MachineHost() = default;
  virtual TimePoint now() const = 0;
  virtual Batch& batch() = 0;
  // Once the batch commits, invoke the adapter for the instance's current attempt.
  virtual void invoke_after_commit(Instance& inst) = 0;
  // Once the batch commits, arm an in-memory timer.
  virtual void arm_after_commit(TimerEntry entry) = 0;
  // Once the batch commits, drop the instance from memory (it is finished or parked).
  virtual void release_after_commit(Instance& inst) = 0;
  // A uniformly random duration in [0, max].
  virtual Duration random_up_to(Duration max) = 0;
  // Fills inst.pending_signals from the store unless already loaded.
  virtual void load_signals(Instance& inst) = 0;
  // A deployed version of a workflow; null when it is not deployed.
  virtual std::shared_ptr<const Definition> find_definition(const std::string& workflow,
                                                            int version) = 0;
};

// Whether a timer still belongs to what the instance is doing: the phase it was set for, with
// the same deadline. Anything else is a leftover of an attempt, retry or wait that has ended.
bool timer_applies(const Instance& inst, TimerKind kind, TimePoint due);

class StepMachine {
 public:
  StepMachine(MachineHost& host, int max_steps_per_turn)
      : host_(host), max_steps_per_turn_(max_steps_per_turn) {}

  // A new instance: records instance_started and enters the start step.
  void begin(Instance& inst);
  void on_outcome(Instance& inst, const Outcome& outcome);
  void on_timeout(Instance& inst);
  void on_retry_due(Instance& inst);
  // A wait step's duration elapsed or its signal did not come in time.
  void on_wait_due(Instance& inst);
  // A new signal (already checked: not a duplicate, instance not finished). It is recorded,
  // and consumed at once when the instance waits for it; otherwise it stays pending.
  void on_signal(Instance& inst, SignalRow signal);
  // An operator's repair (see ActionKind). Throws Error(refused / not_found /
  // invalid_argument) before changing anything when it makes no sense.
  void apply(Instance& inst, const OperatorAction& action);
  // After a restart: re-arms what an unfinished instance was doing when the process stopped.
  void resume(Instance& inst);
  // An instance the engine died on twice in a row (quarantine.hpp): whatever it was doing is
  // dropped and it is suspended with the incident Quarantined, saying `why`.
  void quarantine(Instance& inst, const std::string& why);

 private:
  // Enters `step` and runs set/switch steps until one waits on something (a task attempt,
  // a timer) or the instance ends.
  void enter(Instance& inst, std::string step);
  void start_attempt(Instance& inst);
  // The action's transitions, after apply() validated it; `record` writes the audit event.
  void perform(Instance& inst, const OperatorAction& action, const nlohmann::json& args,
               const std::function<void()>& record);
  // Drops the retry or wait timer and the incident; in-flight outcomes become stale.
  void abandon_pending(Instance& inst);
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
  // Enters a wait step (the caller recorded step_entered).
  void begin_wait(Instance& inst, const WaitStep& wait);
  // Sets the durable timer of the wait the instance is in.
  void set_wait_timer(Instance& inst, TimePoint due);
  // Consumes the oldest pending signal the current wait step waits for; false when none.
  bool try_consume(Instance& inst);
  // A failed attempt, or a step that could not run (its input or switch did not evaluate).
  void fail(Instance& inst, const AdapterError& error);
  void suspend(Instance& inst, const AdapterError& error, int attempts);
  // Saga: undo the completed steps that have a compensation, newest first, then end with
  // `target`. Steps before a succeeded pivot are not in the record.
  void start_compensation(Instance& inst, InstanceStatus target, const std::string& reason);
  void next_compensation(Instance& inst);
  void remember_for_compensation(Instance& inst, const Step& step);
  void finish(Instance& inst, InstanceStatus status);
  nlohmann::json error_document(const Instance& inst, const AdapterError& error) const;

  MachineHost& host_;
  int max_steps_per_turn_;
};

}  // namespace rmaflow
