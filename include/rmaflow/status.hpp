// Instance statuses and event types. Both are stored in the database as the integers given
// here: never renumber them, only add new values.
#pragma once

#include <optional>
#include <span>
#include <string_view>

namespace rmaflow {

enum class InstanceStatus : int {
  running = 1,
  waiting = 2,
  suspended = 3,     // an incident: needs an operator
  compensating = 4,
  // Final statuses.
  completed = 10,
  rejected = 11,
  expired = 12,
  cancelled = 13,
  failed = 14,
  compensated = 15,
};

std::string_view to_string(InstanceStatus s);
std::optional<InstanceStatus> parse_instance_status(std::string_view s);
inline bool is_final(InstanceStatus s) { return static_cast<int>(s) >= 10; }

// Where an unfinished instance stands inside its current step.
enum class Phase : int {
  idle = 0,      // finished, suspended, or about to enter its next step
  invoking = 1,  // an attempt was started and its outcome is not recorded yet
  backoff = 2,   // a retry is scheduled (timer "retry")
  waiting = 3,   // a wait step is waiting for its signal or duration
  joining = 4,   // a fan-out step waits for its branches to end
  calling = 5,   // a call step waits for its child instance to end
  pending = 6,   // a branch not started yet (its foreach's concurrency is used up)
  ended = 7,     // a branch that reached an end step, kept until its fan-out step joins
  held = 8,      // its instance is paused: it enters its step (or, undoing, starts its
                 // compensation's attempt) when the instance is resumed
};

std::string_view to_string(Phase p);

enum class EventType : int {
  instance_started = 1,
  step_entered = 2,
  attempt_started = 3,
  step_completed = 4,
  attempt_failed = 5,
  retry_scheduled = 6,
  catch_routed = 7,
  incident_opened = 8,
  instance_ended = 9,
  // Issue-3 semantics (signals, timers, compensation, operator actions) take 20 and up.
  signal_received = 20,
  signal_consumed = 21,
  timer_set = 22,
  timer_fired = 23,
  compensation_started = 24,
  compensation_step_completed = 25,
  compensation_finished = 26,
  // The call of an attempt that was out when the engine stopped is made again, with the same
  // idempotency key (recovery): the adapter is asked twice for one attempt.
  attempt_reinvoked = 27,
  operator_action = 30,
  incident_resolved = 31,
  // An operator command queued in the database was refused when the engine came to apply it.
  command_refused = 32,
  // Fan-out and child workflows. A branch's own events carry its branch in EventRow::branch.
  branches_started = 40,  // a foreach/parallel step created its branches {keys, concurrency}
  branch_started = 41,    // a branch begins its sub-flow (at once, or when capacity frees up)
  branch_ended = 42,      // a branch reached an end step {status, output}
  child_started = 43,     // a call step started its child {child, workflow, version}
  child_ended = 44,       // the child ended {child, status, output}
};

std::string_view to_string(EventType t);
std::optional<EventType> parse_event_type(std::string_view s);
// Every event type there is, in stored-value order.
std::span<const EventType> all_event_types();

}  // namespace rmaflow
