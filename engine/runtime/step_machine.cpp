// Transitions of one instance. The whole table, in one place:
//
//   on entry of a step          task   -> render `with`, start attempt 1
//                               set    -> evaluate assignments, step_completed, enter next
//                               switch -> first true case (or default), step_completed, enter it
//                               end    -> instance_ended with its status
//   attempt succeeds            -> step_completed (result at .<result>), enter next
//   attempt fails / times out   -> retried per policy?   retry_scheduled + durable timer "retry"
//                                  a catch matches?      catch_routed (.error set), enter its next
//                                  otherwise             incident_opened, status suspended
//   retry timer comes due       -> start the next attempt (same idempotency key)
//   on entry of a wait step     -> status waiting, durable "wait" timer for duration/timeout;
//                                  a pending signal it waits for is consumed at once
//   signal arrives              -> signal_received; waited for? signal_consumed (payload at
//                                  .<result>), enter next; otherwise it stays pending
//   wait timer comes due        -> duration: step_completed, enter next
//                                  timeout: on_timeout set? enter it; otherwise fail Timeout
//   restart while invoking      -> attempt_reinvoked, invoke again with the same key (deadline
//                                  already past: Timeout)
//
// A step that cannot run (a `with` or `if` expression raises) fails like an attempt with the
// non-retryable code ExpressionError; a switch where nothing matches fails with NoMatch.
//
// Compensation (saga):
//   task with `compensate` succeeds -> its compensation input is rendered and recorded
//   pivot task succeeds            -> the record is emptied: nothing before it is ever undone
//   unhandled failure              -> on_failure: compensate and no pivot passed? compensate,
//                                     end `compensated`; otherwise suspend
//   end with compensate: true      -> compensate, then end with the end's status
//   compensating                   -> newest recorded step first, one at a time, each a retried
//                                     attempt with key <instance>:<step>:<visit>:compensate;
//                                     one that fails for good suspends with an incident
#include "engine/runtime/step_machine.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace rmaflow {

namespace {

constexpr std::string_view kExpressionError = "ExpressionError";

nlohmann::json error_json(const AdapterError& e) {
  return {{"code", e.code}, {"message", e.message}, {"retryable", e.retryable}};
}

}  // namespace

void StepMachine::begin(Instance& inst) {
  const auto& row = inst.row;
  host_.batch().record(inst, EventType::instance_started, host_.now(),
                       {{"workflow", row.workflow},
                        {"version", row.version},
                        {"business_key", row.business_key},
                        {"correlation_id", row.correlation_id},
                        {"input", inst.context["input"]}});
  enter(inst, inst.definition->start);
}

void StepMachine::enter(Instance& inst, std::string step_name) {
  for (int turn = 0;; ++turn) {
    inst.row.step = step_name;
    inst.row.attempt = 0;
    inst.row.phase = Phase::idle;
    inst.row.deadline.reset();
    inst.step_input = nullptr;
    inst.visits[step_name] = inst.visit() + 1;
    ++inst.generation;
    const Step& step = inst.step();
    auto now = host_.now();

    if (turn >= max_steps_per_turn_) {
      host_.batch().record(inst, EventType::step_entered, now, {{"visit", inst.visit()}});
      suspend(inst,
              {"LoopLimit",
               fmt::format("{} steps ran without a task or wait; the workflow loops", turn), false},
              0);
      return;
    }

    switch (step.kind()) {
      case StepKind::task: {
        const auto& task = std::get<TaskStep>(step.body);
        try {
          inst.step_input = task.with.render(inst.context);
        } catch (const Error& e) {
          host_.batch().record(inst, EventType::step_entered, now, {{"visit", inst.visit()}});
          fail(inst, {std::string(kExpressionError), e.what(), false});
          return;
        }
        host_.batch().record(inst, EventType::step_entered, now,
                             {{"visit", inst.visit()}, {"input", inst.step_input}});
        start_attempt(inst);
        return;
      }
      case StepKind::set: {
        host_.batch().record(inst, EventType::step_entered, now, {{"visit", inst.visit()}});
        nlohmann::json output = nlohmann::json::object();
        try {
          for (const auto& [key, value] : std::get<SetStep>(step.body).assignments) {
            output[key] = value.render(inst.context);
            inst.context[key] = output[key];
          }
        } catch (const Error& e) {
          fail(inst, {std::string(kExpressionError), e.what(), false});
          return;
        }
        host_.batch().record(inst, EventType::step_completed, now, {{"output", output}});
        step_name = step.next;
        continue;
      }
      case StepKind::switch_: {
        host_.batch().record(inst, EventType::step_entered, now, {{"visit", inst.visit()}});
        const auto& sw = std::get<SwitchStep>(step.body);
        std::string chosen;
        try {
          for (const auto& c : sw.cases) {
            if (c.condition.test(inst.context)) {
              chosen = c.next;
              break;
            }
          }
        } catch (const Error& e) {
          fail(inst, {std::string(kExpressionError), e.what(), false});
          return;
        }
        if (chosen.empty()) chosen = sw.default_next;
        if (chosen.empty()) {
          fail(inst, {"NoMatch", "no switch condition was true and the switch has no default",
                      false});
          return;
        }
        host_.batch().record(inst, EventType::step_completed, now, {{"next", chosen}});
        step_name = chosen;
        continue;
      }
      case StepKind::end: {
        host_.batch().record(inst, EventType::step_entered, now, {{"visit", inst.visit()}});
        const auto& end = std::get<EndStep>(step.body);
        if (end.compensate) {
          start_compensation(inst, end.status, "end step " + step.name);
        } else {
          finish(inst, end.status);
        }
        return;
      }
      case StepKind::wait: {
        host_.batch().record(inst, EventType::step_entered, now, {{"visit", inst.visit()}});
        begin_wait(inst, std::get<WaitStep>(step.body));
        return;
      }
    }
  }
}

bool timer_applies(const Instance& inst, TimerKind kind, TimePoint due) {
  Phase phase = kind == TimerKind::timeout ? Phase::invoking
                : kind == TimerKind::retry ? Phase::backoff
                                           : Phase::waiting;
  return inst.row.phase == phase && inst.row.deadline == due;
}

void StepMachine::begin_wait(Instance& inst, const WaitStep& wait) {
  auto now = host_.now();
  inst.row.status = InstanceStatus::waiting;
  inst.row.phase = Phase::waiting;
  if (auto span = wait.span()) set_wait_timer(inst, now + *span);
  if (!wait.signal.empty() && try_consume(inst)) return;
  host_.release_after_commit(inst);  // a waiting instance is rows and a timer, nothing more
}

void StepMachine::set_wait_timer(Instance& inst, TimePoint due) {
  inst.row.deadline = due;
  host_.batch().set_timer(inst, "wait", due);
  host_.batch().record(inst, EventType::timer_set, host_.now(),
                       {{"timer", "wait"}, {"due", format_time(due)}});
  host_.arm_after_commit(TimerEntry{due, TimerKind::wait, inst.row.id, {}});
}

bool StepMachine::try_consume(Instance& inst) {
  const Step& step = inst.step();
  const auto* wait = std::get_if<WaitStep>(&step.body);
  if (wait == nullptr || wait->signal.empty() || inst.row.phase != Phase::waiting) return false;
  host_.load_signals(inst);
  auto it = std::find_if(inst.pending_signals.begin(), inst.pending_signals.end(),
                         [&](const SignalRow& s) { return s.name == wait->signal; });
  if (it == inst.pending_signals.end()) return false;
  SignalRow signal = std::move(*it);
  inst.pending_signals.erase(it);
  auto now = host_.now();
  host_.batch().consume_signal(inst, signal.idempotency_key, now);
  auto payload = nlohmann::json::parse(signal.payload, nullptr, false);
  host_.batch().record(inst, EventType::signal_consumed, now,
                       {{"signal", signal.name}, {"idempotency_key", signal.idempotency_key}});
  if (inst.row.deadline) host_.batch().clear_timer(inst, "wait");
  inst.row.deadline.reset();
  inst.row.status = InstanceStatus::running;
  if (!step.result.empty()) inst.context[step.result] = payload;
  host_.batch().record(inst, EventType::step_completed, now,
                       {{"signal", signal.name}, {"result", payload}});
  enter(inst, step.next);
  return true;
}

void StepMachine::on_signal(Instance& inst, SignalRow signal) {
  host_.load_signals(inst);
  host_.batch().record(inst, EventType::signal_received, host_.now(),
                       {{"signal", signal.name},
                        {"idempotency_key", signal.idempotency_key},
                        {"payload", nlohmann::json::parse(signal.payload, nullptr, false)}});
  host_.batch().add_signal(inst, signal);
  inst.pending_signals.push_back(std::move(signal));
  try_consume(inst);
}

void StepMachine::on_wait_due(Instance& inst) {
  const Step& step = inst.step();
  const auto& wait = std::get<WaitStep>(step.body);
  auto now = host_.now();
  host_.batch().clear_timer(inst, "wait");
  host_.batch().record(inst, EventType::timer_fired, now, {{"timer", "wait"}});
  inst.row.deadline.reset();
  inst.row.status = InstanceStatus::running;
  if (wait.duration) {
    host_.batch().record(inst, EventType::step_completed, now,
                         {{"waited", format_duration(*wait.duration)}});
    enter(inst, step.next);
  } else if (!wait.on_timeout.empty()) {
    host_.batch().record(inst, EventType::step_completed, now,
                         {{"timed_out", true}, {"next", wait.on_timeout}});
    enter(inst, wait.on_timeout);
  } else {
    fail(inst, {std::string(kTimeout),
                fmt::format("no signal {} arrived within {}", wait.signal,
                            format_duration(wait.timeout.value_or(Duration(0)))),
                true});
  }
}

void StepMachine::start_attempt(Instance& inst) {
  auto action = inst.action();
  auto now = host_.now();
  inst.row.attempt += 1;
  inst.row.phase = Phase::invoking;
  inst.row.deadline = now + action->timeout;
  ++inst.generation;
  nlohmann::json data = {{"attempt", inst.row.attempt},
                         {"idempotency_key", inst.idempotency_key()},
                         {"deadline", format_time(*inst.row.deadline)}};
  if (inst.compensating()) data["compensation"] = true;
  host_.batch().record(inst, EventType::attempt_started, now, std::move(data));
  host_.invoke_after_commit(inst);
}

void StepMachine::remember_for_compensation(Instance& inst, const Step& step) {
  const TaskStep& task = *step.task();
  if (task.compensate) {
    nlohmann::json entry = {{"step", step.name}, {"visit", inst.visit()}};
    try {
      entry["input"] = task.compensate->with.render(inst.context);
    } catch (const Error& e) {
      entry["input"] = nullptr;
      entry["render_error"] = e.what();  // reported if the compensation is ever needed
    }
    inst.saga["done"].push_back(std::move(entry));
  }
  if (task.pivot) {
    inst.saga["done"] = nlohmann::json::array();
    inst.saga["pivot"] = true;
  }
}

void StepMachine::start_compensation(Instance& inst, InstanceStatus target,
                                     const std::string& reason) {
  nlohmann::json steps = nlohmann::json::array();
  const auto& done = inst.saga.value("done", nlohmann::json::array());
  for (auto it = done.rbegin(); it != done.rend(); ++it) steps.push_back((*it)["step"]);
  inst.row.status = InstanceStatus::compensating;
  inst.saga["running"] = {{"target", std::string(to_string(target))}, {"reason", reason}};
  host_.batch().record(inst, EventType::compensation_started, host_.now(),
                       {{"reason", reason}, {"steps", steps}, {"then", to_string(target)}});
  next_compensation(inst);
}

void StepMachine::next_compensation(Instance& inst) {
  auto& running = inst.saga["running"];
  auto& done = inst.saga["done"];
  if (!done.is_array() || done.empty()) {
    auto target = parse_instance_status(running.value("target", "compensated"))
                      .value_or(InstanceStatus::compensated);
    host_.batch().record(inst, EventType::compensation_finished, host_.now(),
                         {{"then", to_string(target)}});
    inst.saga.erase("running");
    finish(inst, target);
    return;
  }
  const auto& entry = done.back();
  inst.row.step = entry["step"].get<std::string>();
  inst.row.attempt = 0;
  inst.row.phase = Phase::idle;
  inst.row.status = InstanceStatus::compensating;
  running["visit"] = entry["visit"];
  inst.step_input = entry["input"];
  ++inst.generation;
  if (entry.contains("render_error")) {
    suspend(inst, {std::string(kExpressionError), entry["render_error"].get<std::string>(), false}, 0);
    return;
  }
  start_attempt(inst);
}

void StepMachine::resume(Instance& inst) {
  switch (inst.row.phase) {
    case Phase::invoking:
      if (inst.row.deadline && *inst.row.deadline <= host_.now()) {
        on_timeout(inst);  // it ran out of time while the engine was down
      } else {
        // The adapter may have had the first call: the history says it is asked again.
        nlohmann::json data = {{"attempt", inst.row.attempt},
                               {"idempotency_key", inst.idempotency_key()}};
        if (inst.compensating()) data["compensation"] = true;
        host_.batch().record(inst, EventType::attempt_reinvoked, host_.now(), std::move(data));
        host_.invoke_after_commit(inst);
      }
      return;
    case Phase::backoff:  // the durable "retry" timer brings it back
    case Phase::waiting:
    case Phase::idle:
      return;
  }
}

void StepMachine::on_outcome(Instance& inst, const Outcome& outcome) {
  if (!outcome.ok()) {
    fail(inst, outcome.error);
    return;
  }
  const Step& step = inst.step();
  if (inst.compensating()) {
    host_.batch().record(inst, EventType::compensation_step_completed, host_.now(),
                         {{"attempt", inst.row.attempt}, {"result", *outcome.result}});
    inst.saga["done"].erase(inst.saga["done"].size() - 1);
    next_compensation(inst);
    return;
  }
  if (!step.result.empty()) inst.context[step.result] = *outcome.result;
  host_.batch().record(inst, EventType::step_completed, host_.now(),
                       {{"attempt", inst.row.attempt}, {"result", *outcome.result}});
  remember_for_compensation(inst, step);
  enter(inst, step.next);
}

void StepMachine::on_timeout(Instance& inst) {
  auto action = inst.action();
  fail(inst, {std::string(kTimeout),
              fmt::format("attempt {} did not finish within {}", inst.row.attempt,
                          format_duration(action ? action->timeout : Duration(0))),
              true});
}

void StepMachine::on_retry_due(Instance& inst) {
  host_.batch().clear_timer(inst, "retry");
  inst.row.deadline.reset();
  start_attempt(inst);
}

void StepMachine::fail(Instance& inst, const AdapterError& error) {
  auto now = host_.now();
  const Step& step = inst.step();
  const TaskStep* task = step.task();
  auto action = inst.action();
  int attempt = inst.row.attempt;
  inst.row.deadline.reset();
  ++inst.generation;  // a late outcome of this attempt is now stale
  if (action && attempt > 0) {
    host_.batch().record(inst, EventType::attempt_failed, now,
                         {{"attempt", attempt}, {"error", error_json(error)}});
    const RetryPolicy& retry = action->retry;
    if (attempt < retry.max_attempts && retry.retries(error.code, error.retryable)) {
      Duration delay = retry.delay_after(attempt);
      if (retry.jitter == Jitter::full) delay = host_.random_up_to(delay);
      TimePoint due = now + delay;
      inst.row.phase = Phase::backoff;
      inst.row.deadline = due;
      host_.batch().record(inst, EventType::retry_scheduled, now,
                           {{"attempt", attempt + 1},
                            {"delay", format_duration(delay)},
                            {"due", format_time(due)}});
      host_.batch().set_timer(inst, "retry", due);
      host_.arm_after_commit(TimerEntry{due, TimerKind::retry, inst.row.id, {}});
      return;
    }
  }
  if (inst.compensating()) {  // a compensation failed for good: an operator decides
    suspend(inst, error, attempt);
    return;
  }
  if (task != nullptr) {
    for (const auto& rule : task->catches) {
      if (!rule.matches(error.code)) continue;
      inst.context["error"] = error_document(inst, error);
      host_.batch().record(inst, EventType::catch_routed, now,
                           {{"next", rule.next}, {"error", inst.context["error"]}});
      enter(inst, rule.next);
      return;
    }
  }
  // After a pivot only forward recovery makes sense: suspend even when told to compensate.
  if (inst.definition->on_failure == FailurePolicy::compensate && !inst.saga.value("pivot", false)) {
    inst.context["error"] = error_document(inst, error);
    start_compensation(inst, InstanceStatus::compensated,
                       fmt::format("{} failed: {}", inst.row.step, error.code));
    return;
  }
  suspend(inst, error, attempt);
}

nlohmann::json StepMachine::error_document(const Instance& inst, const AdapterError& error) const {
  return {{"code", error.code},
          {"message", error.message},
          {"step", inst.row.step},
          {"attempt", inst.row.attempt}};
}

void StepMachine::suspend(Instance& inst, const AdapterError& error, int attempts) {
  auto now = host_.now();
  nlohmann::json incident = {{"step", inst.row.step},
                             {"error", error_json(error)},
                             {"attempts", attempts},
                             {"opened_at", format_time(now)}};
  if (inst.compensating()) incident["compensating"] = true;
  inst.row.deadline.reset();
  inst.row.status = InstanceStatus::suspended;
  inst.row.phase = Phase::idle;
  inst.row.incident = incident.dump();
  host_.batch().record(inst, EventType::incident_opened, now, incident);
  host_.release_after_commit(inst);
}

void StepMachine::finish(Instance& inst, InstanceStatus status) {
  auto now = host_.now();
  inst.row.status = status;
  inst.row.phase = Phase::idle;
  inst.row.ended_at = now;
  host_.batch().record(inst, EventType::instance_ended, now,
                       {{"status", std::string(to_string(status))}});
  host_.release_after_commit(inst);
}

}  // namespace rmaflow
