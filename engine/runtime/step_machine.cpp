// Transitions of one cursor. The whole table, in one place (fan-out, children and compensation
// have files of their own; failures are decided by failure_policy.hpp):
//
//   on entry of a step          task     -> render `with`, start attempt 1
//                               set      -> evaluate assignments, step_completed, enter next
//                               switch   -> first true case (or default), step_completed, enter it
//                               wait     -> phase waiting, durable "wait" timer for its
//                                           duration/timeout; a pending signal it takes is
//                                           consumed at once
//                               foreach, parallel -> create branches, phase joining (fan_out.cpp)
//                               call     -> start the child, phase calling (child_calls.cpp)
//                               end      -> the main line: instance_ended with its status;
//                                           a branch: branch_ended, then its fan-out step may join
//   attempt succeeds            -> step_completed (result at .<result>), enter next
//   attempt fails / times out   -> decide(): retry_scheduled + durable "retry" timer, catch_routed
//                                  (.error set), compensate, fail the fan-out step, or
//                                  incident_opened on the cursor
//   retry timer comes due       -> start the next attempt (same idempotency key)
//   signal arrives              -> signal_received; a waiting cursor takes it? signal_consumed
//                                  (payload at .<result>), enter next; otherwise it stays pending
//   wait timer comes due        -> duration: step_completed, enter next
//                                  timeout: on_timeout set? enter it; otherwise fail Timeout
//   restart while invoking      -> attempt_reinvoked, invoke again with the same key (deadline
//                                  already past: Timeout)
//
// A step that cannot run (a `with` or `if` expression raises) fails like an attempt with the
// non-retryable code ExpressionError; a switch where nothing matches fails with NoMatch.
#include "engine/runtime/step_machine.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "engine/runtime/failure_policy.hpp"
#include "engine/store/state_codec.hpp"

namespace rmaflow {

namespace {

Failure engine_failure(std::string_view code, std::string message) {
  return make_failure(std::string(code), std::move(message), FailureOrigin::engine);
}

}  // namespace

// A step whose expression failed: ExpressionLimit when it passed a limit every evaluation runs
// within (an input too large for the workflow: not retryable, an operator decides), else
// ExpressionError. `what` names the step and the field.
Failure expression_failure(const std::string& what, const Error& e) {
  bool limit = dynamic_cast<const ExpressionLimitError*>(&e) != nullptr;
  const auto* expression = dynamic_cast<const ExpressionError*>(&e);
  bool placed = expression != nullptr && expression->placed();
  return engine_failure(limit ? failure::kExpressionLimit : failure::kExpressionError,
                        placed ? std::string(e.what()) : fmt::format("{}: {}", what, e.what()));
}

namespace {

// What the adapter did has happened: a posting that does not render is recorded with its error
// (and listed so by `rmaflow audit`) rather than failing a step whose effect is done.
nlohmann::json render_posting(const Posting& posting, const nlohmann::json& context) {
  nlohmann::json recorded;
  try {
    recorded = posting.fields.render(context);
    if (!recorded.is_object()) recorded = {{"value", std::move(recorded)}};
  } catch (const ExpressionError& e) {
    recorded = {{"error", e.what()}};
  }
  recorded["kind"] = posting.kind;
  return recorded;
}

}  // namespace

void StepMachine::begin(Instance& inst) {
  const auto& row = inst.row;
  nlohmann::json data = {{"workflow", row.workflow},
                         {"version", row.version},
                         {"business_key", row.business_key},
                         {"correlation_id", row.correlation_id},
                         {"input", row.context->at("input")}};
  if (row.parent) {
    data["parent"] = {{"instance_id", row.parent->instance_id},
                      {"step", row.parent->step},
                      {"branch", row.parent->branch}};
  }
  host_.batch().record(inst, EventType::instance_started, host_.now(), std::move(data));
  refresh_attributes(inst);
  enter(inst, "", inst.definition->start);
}

void StepMachine::refresh_attributes(Instance& inst) {
  const auto& declared = inst.definition->attributes;
  if (declared.empty() && inst.attributes.is_null()) return;
  nlohmann::json values = nlohmann::json::object();
  for (const auto& attribute : declared) {
    nlohmann::json value;
    try {
      value = attribute.value.evaluate(inst.row.context);
    } catch (const Error&) {
      continue;  // not known yet (a result it reads is missing): not indexed
    }
    if (value.is_string() && value.get_ref<const std::string&>().size() > kMaxAttributeBytes) {
      continue;
    }
    if (value.is_string() || value.is_number() || value.is_boolean()) {
      values[attribute.name] = std::move(value);
    }
  }
  if (values == inst.attributes) return;
  inst.attributes = values;
  host_.batch().set_attributes(inst, std::move(values));
}

void StepMachine::enter(Instance& inst, const std::string& branch, std::string step_name) {
  if (inst.row.paused_at) {
    LiveCursor& c = inst.at(branch);
    c.step = std::move(step_name);
    c.attempt = 0;
    c.input = nullptr;
    c.match = nullptr;
    c.child.clear();
    hold(c);
    return;
  }
  for (int turn = 0;; ++turn) {
    LiveCursor& c = inst.at(branch);
    c.step = step_name;
    c.attempt = 0;
    c.phase = Phase::idle;
    c.deadline.reset();
    c.input = nullptr;
    c.match = nullptr;
    c.child.clear();
    ++inst.row.visits[Instance::visit_key(c, step_name)];
    ++c.generation;
    const Step& step = inst.step(c);
    auto now = host_.now();
    auto entered = [&](nlohmann::json data = nlohmann::json::object()) {
      data["visit"] = inst.visit(c);
      host_.batch().record(inst, c, EventType::step_entered, now, std::move(data));
    };

    if (turn >= max_steps_per_turn_) {
      entered();
      suspend(inst, c,
              engine_failure(failure::kLoopLimit,
                             fmt::format("{} steps ran without a task or wait; the workflow loops",
                                         turn)),
              0);
      return;
    }

    switch (step.kind()) {
      case StepKind::task: {
        const auto& task = std::get<TaskStep>(step.body);
        try {
          c.input = task.with.render(inst.view(c));
        } catch (const Error& e) {
          entered();
          fail(inst, branch,
               expression_failure(fmt::format("step {}: `with` did not render", step.name), e));
          return;
        }
        entered({{"input", c.input}});
        start_attempt(inst, c);
        return;
      }
      case StepKind::set: {
        entered();
        nlohmann::json output = nlohmann::json::object();
        try {
          for (const auto& [key, value] : std::get<SetStep>(step.body).assignments) {
            output[key] = value.render(inst.view(c));
            inst.write(c, key, output[key]);
          }
        } catch (const Error& e) {
          fail(inst, branch,
               expression_failure(fmt::format("step {}: `set` did not evaluate", step.name), e));
          return;
        }
        host_.batch().record(inst, c, EventType::step_completed, now, {{"output", output}});
        if (branch.empty()) refresh_attributes(inst);
        step_name = step.next;
        continue;
      }
      case StepKind::switch_: {
        entered();
        const auto& sw = std::get<SwitchStep>(step.body);
        std::string chosen;
        try {
          for (const auto& candidate : sw.cases) {
            if (candidate.condition.test(inst.view(c))) {
              chosen = candidate.next;
              break;
            }
          }
        } catch (const Error& e) {
          fail(inst, branch,
               expression_failure(fmt::format("step {}: a switch condition did not evaluate", step.name), e));
          return;
        }
        if (chosen.empty()) chosen = sw.default_next;
        if (chosen.empty()) {
          fail(inst, branch,
               engine_failure(failure::kNoMatch,
                              "no switch condition was true and the switch has no default"));
          return;
        }
        host_.batch().record(inst, c, EventType::step_completed, now, {{"next", chosen}});
        step_name = chosen;
        continue;
      }
      case StepKind::end: {
        entered();
        const auto& end = std::get<EndStep>(step.body);
        if (end.output) {
          try {
            c.output = end.output->render(inst.view(c));
          } catch (const Error& e) {
            fail(inst, branch,
                 expression_failure(fmt::format("step {}: `output` did not render", step.name), e));
            return;
          }
        }
        if (end.compensate) {
          start_compensation(inst, branch, end.label, "end step " + step.name);
        } else if (branch.empty()) {
          finish(inst, end.label);
        } else {
          end_branch(inst, branch, end.label, c.output);
        }
        return;
      }
      case StepKind::wait:
        entered();
        begin_wait(inst, c, std::get<WaitStep>(step.body));
        return;
      case StepKind::foreach:
      case StepKind::parallel:
        entered();
        begin_fan_out(inst, branch, step);
        return;
      case StepKind::call:
        entered();
        begin_call(inst, branch, step);
        return;
    }
  }
}

void StepMachine::quarantine(Instance& inst, const std::string& why) {
  for (auto& c : inst.cursors) {
    bool running = !c.incident && (c.phase == Phase::invoking || c.phase == Phase::backoff ||
                                   (c.phase == Phase::idle && c.compensation));
    if (!running) continue;
    int attempts = c.attempt;
    abandon_pending(inst, c);
    suspend(inst, c, engine_failure(failure::kQuarantined, why), attempts);
  }
}

bool timer_applies(const Cursor& c, TimerKind kind, TimePoint due) {
  Phase phase = kind == TimerKind::timeout ? Phase::invoking
                : kind == TimerKind::retry ? Phase::backoff
                                           : Phase::waiting;
  return c.phase == phase && c.deadline == due;
}

void StepMachine::complete_step(Instance& inst, const std::string& branch, nlohmann::json data) {
  LiveCursor& c = inst.at(branch);
  const Step& step = inst.step(c);
  c.phase = Phase::idle;
  c.deadline.reset();
  host_.batch().record(inst, c, EventType::step_completed, host_.now(), std::move(data));
  enter(inst, branch, step.next);
}

// ---- waits and signals -----------------------------------------------------------------

void StepMachine::begin_wait(Instance& inst, LiveCursor& c, const WaitStep& wait) {
  auto now = host_.now();
  std::string branch = c.branch;
  if (wait.match) {
    try {
      c.match = wait.match->render(inst.view(c));
    } catch (const Error& e) {
      fail(inst, branch,
           expression_failure(fmt::format("step {}: `match` did not render", c.step), e));
      return;
    }
  }
  c.phase = Phase::waiting;
  if (auto span = wait.span()) set_wait_timer(inst, c, now + *span);
  if (!wait.signal.empty()) try_consume(inst, branch);
}

void StepMachine::set_wait_timer(Instance& inst, LiveCursor& c, TimePoint due) {
  c.deadline = due;
  host_.batch().set_timer(inst, c.branch, "wait", due);
  host_.batch().record(inst, c, EventType::timer_set, host_.now(),
                       {{"timer", "wait"}, {"due", format_time(due)}});
  host_.arm_after_commit(TimerEntry{due, TimerKind::wait, inst.row.id, c.branch, {}});
}

namespace {

// The wait for a signal `c` stands at, or null.
const WaitStep* signal_wait(const Instance& inst, const LiveCursor& c) {
  if (c.phase != Phase::waiting) return nullptr;
  const auto* wait = std::get_if<WaitStep>(&inst.step(c).body);
  return wait != nullptr && !wait->signal.empty() ? wait : nullptr;
}

// The first pending signal that `wait`, where `c` stands, takes: a wait with a match takes
// only signals carrying that value; one without takes any.
std::vector<SignalRow>::iterator pending_for(Instance& inst, const LiveCursor& c,
                                             const WaitStep& wait) {
  return std::find_if(inst.pending_signals.begin(), inst.pending_signals.end(),
                      [&](const SignalRow& s) {
                        return s.name == wait.signal && (!wait.match || s.match == c.match);
                      });
}

}  // namespace

bool StepMachine::try_consume(Instance& inst, const std::string& branch) {
  LiveCursor* c = inst.find(branch);
  if (c == nullptr) return false;
  const WaitStep* wait = signal_wait(inst, *c);
  if (wait == nullptr) return false;
  const Step& step = inst.step(*c);
  host_.load_signals(inst);
  auto it = pending_for(inst, *c, *wait);
  if (it == inst.pending_signals.end()) return false;
  SignalRow signal = std::move(*it);
  inst.pending_signals.erase(it);
  auto now = host_.now();
  host_.batch().consume_signal(inst, signal.idempotency_key, now);
  auto payload = nlohmann::json::parse(signal.payload, nullptr, false);
  nlohmann::json consumed = {{"signal", signal.name}, {"idempotency_key", signal.idempotency_key}};
  if (!signal.match.is_null()) consumed["match"] = signal.match;
  host_.batch().record(inst, *c, EventType::signal_consumed, now, std::move(consumed));
  if (c->deadline) host_.batch().clear_timer(inst, branch, "wait");
  if (!step.result.empty()) inst.write(*c, step.result, payload);
  complete_step(inst, branch, {{"signal", signal.name}, {"result", payload}});
  return true;
}

bool StepMachine::takes_at_once(const Instance& inst, const std::string& name,
                                const nlohmann::json& match) const {
  if (inst.row.paused_at) return false;  // kept until it is resumed
  for (const auto& c : inst.cursors) {
    if (c.phase != Phase::waiting) continue;
    const auto* wait = std::get_if<WaitStep>(&inst.step(c).body);
    if (wait != nullptr && wait->signal == name && (!wait->match || match == c.match)) return true;
  }
  return false;
}

void StepMachine::on_signal(Instance& inst, SignalRow signal) {
  host_.load_signals(inst);
  nlohmann::json data = {{"signal", signal.name},
                         {"idempotency_key", signal.idempotency_key},
                         {"payload", nlohmann::json::parse(signal.payload, nullptr, false)}};
  if (!signal.match.is_null()) data["match"] = signal.match;
  host_.batch().record(inst, EventType::signal_received, host_.now(), std::move(data));
  host_.batch().add_signal(inst, signal);
  inst.pending_signals.push_back(std::move(signal));
  if (inst.row.paused_at) return;  // kept for the waits until it is resumed (release())
  // The first waiting branch that takes a pending signal takes it (one: consuming may add or
  // remove cursors). Found without touching the others: a return may have thousands waiting.
  for (const auto& c : inst.cursors) {
    const WaitStep* wait = signal_wait(inst, c);
    if (wait != nullptr && pending_for(inst, c, *wait) != inst.pending_signals.end()) {
      std::string branch = c.branch;
      try_consume(inst, branch);
      return;
    }
  }
}

void StepMachine::on_wait_due(Instance& inst, const std::string& branch) {
  LiveCursor& c = inst.at(branch);
  const Step& step = inst.step(c);
  const auto& wait = std::get<WaitStep>(step.body);
  auto now = host_.now();
  host_.batch().clear_timer(inst, branch, "wait");
  host_.batch().record(inst, c, EventType::timer_fired, now, {{"timer", "wait"}});
  c.deadline.reset();
  if (wait.duration) {
    complete_step(inst, branch, {{"waited", format_duration(*wait.duration)}});
  } else if (!wait.on_timeout.empty()) {
    c.phase = Phase::idle;
    host_.batch().record(inst, c, EventType::step_completed, now,
                         {{"timed_out", true}, {"next", wait.on_timeout}});
    enter(inst, branch, wait.on_timeout);
  } else {
    fail(inst, branch,
         engine_failure(failure::kTimeout,
                        fmt::format("no signal {} arrived within {}", wait.signal,
                                    format_duration(wait.timeout.value_or(Duration(0))))));
  }
}

// ---- attempts --------------------------------------------------------------------------

void StepMachine::start_attempt(Instance& inst, LiveCursor& c) {
  if (inst.row.paused_at) {
    hold(c);  // entering a step is held before this: only a compensation's attempt gets here
    return;
  }
  auto action = inst.action(c);
  auto now = host_.now();
  c.attempt += 1;
  c.phase = Phase::invoking;
  c.deadline = now + action->timeout;
  ++c.generation;
  nlohmann::json data = {{"attempt", c.attempt},
                         {"idempotency_key", inst.idempotency_key(c)},
                         {"deadline", format_time(*c.deadline)}};
  if (c.compensation) {
    data["compensation"] = true;
    if (const SagaEntry* entry = newest_to_undo(inst, c.branch); entry && !entry->branch.empty())
      data["undoes_branch"] = entry->branch;
  }
  host_.batch().record(inst, c, EventType::attempt_started, now, std::move(data));
  host_.invoke_after_commit(inst, c);
}

void StepMachine::hold(LiveCursor& c) {
  c.phase = Phase::held;
  c.deadline.reset();
  ++c.generation;
}

void StepMachine::release(Instance& inst) {
  inst.row.paused_at.reset();
  host_.batch().touch(inst);
  // Going on may add or remove cursors: walk a copy of the names.
  std::vector<std::string> branches;
  for (const auto& c : inst.cursors) branches.push_back(c.branch);
  for (const auto& branch : branches) {
    LiveCursor* c = inst.find(branch);
    if (c == nullptr) continue;
    if (c->phase == Phase::held) {
      if (c->compensation) {
        start_attempt(inst, *c);
      } else {
        enter(inst, branch, c->step);
      }
    } else if (c->phase == Phase::backoff && c->deadline) {
      host_.arm_after_commit(TimerEntry{*c->deadline, TimerKind::retry, inst.row.id, branch, {}});
    } else if (c->phase == Phase::waiting) {
      if (c->deadline) {
        host_.arm_after_commit(TimerEntry{*c->deadline, TimerKind::wait, inst.row.id, branch, {}});
      }
      try_consume(inst, branch);
    }
  }
}

void StepMachine::resume(Instance& inst) {
  std::vector<std::string> invoking;
  for (const auto& c : inst.cursors)
    if (c.phase == Phase::invoking) invoking.push_back(c.branch);
  for (const auto& branch : invoking) {
    LiveCursor* c = inst.find(branch);
    if (c == nullptr || c->phase != Phase::invoking) continue;
    auto action = inst.action(*c);
    bool limited = action && host_.call_limited(action->adapter, action->operation);
    if (c->deadline && *c->deadline <= host_.now() && !limited) {
      on_timeout(inst, branch);  // it ran out of time while the engine was down
    } else {
      // The adapter may have had the first call: the history says it is asked again. A
      // limited call may have been waiting its turn: it gets its whole timeout again.
      nlohmann::json data = {{"attempt", c->attempt},
                             {"idempotency_key", inst.idempotency_key(*c)}};
      if (limited) {
        c->deadline = host_.now() + action->timeout;
        data["deadline"] = format_time(*c->deadline);
      }
      if (c->compensation) data["compensation"] = true;
      host_.batch().record(inst, *c, EventType::attempt_reinvoked, host_.now(), std::move(data));
      host_.invoke_after_commit(inst, *c);
    }
  }
}

void StepMachine::on_outcome(Instance& inst, const std::string& branch, const Outcome& outcome) {
  if (!outcome.ok()) {
    fail(inst, branch, outcome.error);
    return;
  }
  LiveCursor& c = inst.at(branch);
  if (c.compensation) {
    const SagaEntry* entry = newest_to_undo(inst, branch);
    Cursor undone;
    undone.step = c.step;
    undone.branch = entry ? entry->branch : branch;
    host_.batch().record(inst, undone, EventType::compensation_step_completed, host_.now(),
                         {{"attempt", c.attempt}, {"result", *outcome.result}});
    if (entry) {
      auto& done = inst.row.saga.done;
      done.erase(done.begin() + (entry - done.data()));
    }
    next_compensation(inst, branch);
    return;
  }
  const Step& step = inst.step(c);
  if (!step.result.empty()) inst.write(c, step.result, *outcome.result);
  forget_unknown_outcome(inst, c);
  remember_for_compensation(inst, c, step, &*outcome.result);
  nlohmann::json data = {{"attempt", c.attempt}, {"result", *outcome.result}};
  if (const TaskStep* task = step.task(); task && task->posting) {
    data["posting"] = render_posting(*task->posting, inst.view(c));
  }
  complete_step(inst, branch, std::move(data));
}


void StepMachine::on_timeout(Instance& inst, const std::string& branch) {
  const LiveCursor& c = inst.at(branch);
  auto action = inst.action(c);
  fail(inst, branch,
       engine_failure(failure::kTimeout,
                      fmt::format("attempt {} did not finish within {}", c.attempt,
                                  format_duration(action ? action->timeout : Duration(0)))));
}

void StepMachine::on_retry_due(Instance& inst, const std::string& branch) {
  LiveCursor& c = inst.at(branch);
  host_.batch().clear_timer(inst, branch, "retry");
  c.deadline.reset();
  start_attempt(inst, c);
}

// ---- failure ---------------------------------------------------------------------------

void StepMachine::fail(Instance& inst, const std::string& branch, const Failure& error) {
  auto now = host_.now();
  LiveCursor& c = inst.at(branch);
  const Step& step = inst.step(c);
  auto action = inst.action(c);
  int attempt = c.attempt;
  bool was_invoking = c.phase == Phase::invoking;
  c.deadline.reset();
  ++c.generation;  // a late outcome of this attempt is now stale
  if (action && attempt > 0) {
    host_.batch().record(inst, c, EventType::attempt_failed, now,
                         {{"attempt", attempt}, {"error", store::failure_json(error)}});
  }
  // A call that timed out may have had its effect: remember it for compensation.
  if (was_invoking && error.code == failure::kTimeout && !c.compensation) {
    remember_for_compensation(inst, c, step, nullptr);
  }

  FailureSituation situation;
  situation.error = &error;
  situation.attempt = attempt;
  situation.retry = action ? &action->retry : nullptr;
  situation.catches = c.compensation ? nullptr : &step.catches();
  situation.compensating = c.compensation.has_value();
  situation.in_branch = !branch.empty();
  if (situation.in_branch) {
    const LiveCursor* holder = inst.find(parent_branch(branch));
    const Step* fan_out = holder ? inst.definition->find(holder->step) : nullptr;
    if (const auto* f = fan_out ? std::get_if<ForeachStep>(&fan_out->body) : nullptr)
      situation.branch_policy = f->on_branch_failure;
    if (const auto* p = fan_out ? std::get_if<ParallelStep>(&fan_out->body) : nullptr)
      situation.branch_policy = p->on_branch_failure;
  }
  situation.on_failure = inst.definition->on_failure;
  situation.pivot_passed = branch.empty() ? inst.row.saga.pivot : c.pivot;

  auto decision = decide(situation);
  switch (decision.kind) {
    case FailureDecision::Kind::retry: {
      Duration delay = action->retry.delay_after(attempt);
      if (action->retry.jitter == Jitter::full) delay = host_.random_up_to(delay);
      TimePoint due = now + delay;
      c.phase = Phase::backoff;
      c.deadline = due;
      host_.batch().record(inst, c, EventType::retry_scheduled, now,
                           {{"attempt", attempt + 1},
                            {"delay", format_duration(delay)},
                            {"due", format_time(due)}});
      host_.batch().set_timer(inst, branch, "retry", due);
      host_.arm_after_commit(TimerEntry{due, TimerKind::retry, inst.row.id, branch, {}});
      return;
    }
    case FailureDecision::Kind::suspend:
      suspend(inst, c, error, attempt);
      return;
    case FailureDecision::Kind::catch_route: {
      c.phase = Phase::idle;
      auto document = error_document(c, error);
      inst.write(c, "error", document);
      host_.batch().record(inst, c, EventType::catch_routed, now,
                           {{"next", decision.next}, {"error", document}});
      enter(inst, branch, decision.next);
      return;
    }
    case FailureDecision::Kind::fail_fan_out:
      fail_fan_out(inst, branch, error);
      return;
    case FailureDecision::Kind::compensate:
      c.phase = Phase::idle;
      inst.write(c, "error", error_document(c, error));
      start_compensation(inst, "", "compensated", fmt::format("{} failed: {}", c.step, error.code));
      return;
  }
}

nlohmann::json StepMachine::error_document(const Cursor& c, const Failure& error) const {
  nlohmann::json doc = {{"code", error.code},
                        {"message", error.message},
                        {"step", c.step},
                        {"attempt", c.attempt},
                        {"origin", std::string(to_string(error.origin))}};
  if (!c.branch.empty()) doc["branch"] = c.branch;
  return doc;
}

void StepMachine::suspend(Instance& inst, LiveCursor& c, const Failure& error, int attempts) {
  Incident incident;
  incident.step = c.step;
  incident.error = error;
  incident.attempts = attempts;
  incident.opened_at = host_.now();
  incident.compensating = c.compensation.has_value();
  // Routed once, as it opens: the team and its deadline are part of what was recorded.
  if (const auto* route = inst.definition->route_incident(error.code, inst.view(c))) {
    incident.team = route->team;
    if (route->sla) incident.due_at = incident.opened_at + *route->sla;
  }
  c.deadline.reset();
  c.phase = Phase::idle;
  c.incident = incident;
  host_.batch().record(inst, c, EventType::incident_opened, host_.now(),
                       store::incident_json(incident));
}

void StepMachine::finish(Instance& inst, const std::string& label) {
  auto now = host_.now();
  drop_branches(inst, "", "the instance ended", false);
  LiveCursor& line = inst.main();
  inst.row.status = parse_instance_status(label).value_or(InstanceStatus::failed);
  inst.row.ended_at = now;
  line.phase = Phase::ended;
  line.label = label;
  line.deadline.reset();
  line.incident.reset();
  ++line.generation;
  host_.batch().record(inst, EventType::instance_ended, now, {{"status", label}});
  host_.instance_ended(inst);
}

}  // namespace rmaflow
