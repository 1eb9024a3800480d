// Adapter calls and timers: invoking an adapter once the attempt is committed, taking its
// outcome back on the engine thread, firing due timers, and the services an adapter's host
// offers (its clock, call_at, deliver_signal in engine_signals.cpp).
#include <fmt/format.h>

#include "engine/runtime/engine_impl.hpp"
#include "engine/runtime/request_checks.hpp"
#include "engine/support/fault_points.hpp"
#include "engine/support/json_depth.hpp"
#include "engine/support/trace_id.hpp"

namespace rmaflow {

namespace asio = boost::asio;

LiveCursor* EngineImpl::find_cursor(Instance* inst, const std::string& branch,
                                    std::uint64_t generation) {
  if (inst == nullptr) return nullptr;
  LiveCursor* c = inst->find(branch);
  return c != nullptr && c->generation == generation ? c : nullptr;
}

void EngineImpl::invoke_after_commit(Instance& inst, const LiveCursor& cursor) {
  batch().then([this, id = inst.row.id, branch = cursor.branch, generation = cursor.generation] {
    Instance* inst = find_any(id);
    if (LiveCursor* c = find_cursor(inst, branch, generation)) invoke(*inst, *c);
  });
}

void EngineImpl::invoke(Instance& inst, LiveCursor& c) {
  auto action = inst.action(c);
  // A call waiting its turn counts as in flight: the engine is not idle while it waits.
  ++in_flight_;
  in_flight_count_ = in_flight_;
  if (!inflight_guard_) inflight_guard_.emplace(io_.get_executor());
  bool limited = limiter_->limited(action->adapter, action->operation);
  if (limited) {
    CallTicket ticket{inst.row.id,     c.branch,          c.generation,
                      action->adapter, action->operation, clock_->now()};
    if (!limiter_->admit(std::move(ticket), std::chrono::steady_clock::now())) {
      run_due_calls();  // arms the wake-up for its turn
      return;
    }
  }
  dispatch(inst, c, limited);
}

void EngineImpl::run_due_calls() {
  std::optional<std::chrono::steady_clock::time_point> next;
  for (auto& ticket : limiter_->due(std::chrono::steady_clock::now(), next)) {
    Instance* inst = find_any(ticket.instance_id);
    LiveCursor* c = find_cursor(inst, ticket.branch, ticket.generation);
    if (c == nullptr || c->phase != Phase::invoking) {
      // Moved on while it waited (cancelled, skipped): nothing goes out.
      limiter_->release(ticket.adapter, ticket.operation);
      if (--in_flight_ == 0) inflight_guard_.reset();
      in_flight_count_ = in_flight_;
      continue;
    }
    // Its attempt's time counts from now, when the call goes out.
    c->deadline = clock_->now() + inst->action(*c)->timeout;
    dispatch(*inst, *c, true);
  }
  if (!next) return;
  limit_wake_.expires_at(*next);
  limit_wake_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) run_due_calls();
  });
}

void EngineImpl::dispatch(Instance& inst, LiveCursor& c, bool limited) {
  auto action = inst.action(c);
  auto now = clock_->now();
  TimePoint deadline = c.deadline.value_or(now + action->timeout);
  if (c.timeout_timer) timers_->cancel(*c.timeout_timer);
  c.timeout_timer =
      timers_->push(TimerEntry{deadline, TimerKind::timeout, inst.row.id, c.branch, {}});

  if (inst.outcome_at != std::chrono::steady_clock::time_point{} && options_.on_step_latency) {
    options_.on_step_latency(std::chrono::steady_clock::now() - inst.outcome_at);
  }

  Invocation call;
  call.instance_id = inst.row.id;
  call.workflow = inst.row.workflow;
  call.step = c.step;
  call.branch = c.branch;
  call.operation = action->operation;
  call.compensation = c.compensation.has_value();
  if (const SagaEntry* undone = call.compensation ? inst.undoing(c.branch) : nullptr) {
    call.branch = undone->branch;
    call.undoes = inst.key_of(*undone);
    call.outcome_unknown = undone->outcome_unknown;
  }
  call.idempotency_key = inst.idempotency_key(c);
  call.business_key = inst.row.business_key;
  call.correlation_id = inst.row.correlation_id;
  if (options_.trace_sample < 1.0) {
    call.trace_sampled = trace_sampled(trace_id_of(call.correlation_id), options_.trace_sample);
  }
  call.attempt = c.attempt;
  call.input = c.input;
  call.deadline = deadline;

  ++invocations_;
  Completion done = [this, id = inst.row.id, branch = c.branch, generation = c.generation, limited,
                     adapter = action->adapter, operation = action->operation](Outcome outcome) {
    asio::post(io_, [this, id, branch, generation, limited, adapter, operation,
                     outcome = std::move(outcome)]() mutable {
      if (limited) limiter_->release(adapter, operation);
      complete(id, branch, generation, std::move(outcome));
      if (limited) run_due_calls();  // its slot is free: the next in line may go
    });
  };
  Adapter* adapter = adapters_->find(action->adapter);
  if (adapter == nullptr) {
    done(Outcome{std::nullopt,
                 make_failure(std::string(failure::kUnknownAdapter),
                              fmt::format("no adapter named {} is configured", action->adapter),
                              FailureOrigin::engine)});
    return;
  }
  try {
    adapter->invoke(call, *this, std::move(done));
  } catch (const std::exception& e) {
    // The adapter broke its contract by throwing; `done` was moved, so report directly.
    asio::post(io_, [this, id = call.instance_id, branch = c.branch, generation = c.generation,
                     limited, adapter = action->adapter, operation = action->operation,
                     message = std::string(e.what())] {
      if (limited) limiter_->release(adapter, operation);
      complete(id, branch, generation,
               Outcome{std::nullopt, make_failure(std::string(failure::kAdapterError), message,
                                                  FailureOrigin::engine)});
    });
  }
  fault_point("invoke.after");
}

void EngineImpl::complete(const std::string& id, const std::string& branch,
                          std::uint64_t generation, Outcome outcome) {
  if (--in_flight_ == 0) inflight_guard_.reset();
  in_flight_count_ = in_flight_;
  Instance* inst = find_any(id);
  LiveCursor* c = find_cursor(inst, branch, generation);
  if (c == nullptr || c->phase != Phase::invoking) return;  // stale: timed out, moved on
  if (c->timeout_timer) {
    timers_->cancel(*c->timeout_timer);
    c->timeout_timer.reset();
  }
  inst->outcome_at = std::chrono::steady_clock::now();
  outcome = checked_outcome(std::move(outcome));
  if (outcome.ok() && json_deeper_than(*outcome.result)) {
    outcome = Outcome{std::nullopt,
                      make_failure(std::string(failure::kResultTooDeep),
                                   fmt::format("the adapter's result nests deeper than {} levels",
                                               kMaxJsonDepth),
                                   FailureOrigin::engine)};
  }
  auto marked = processing(id);
  fault_point("outcome.before");
  machine_.on_outcome(*inst, branch, outcome);
  settle(*inst);
  commit_->request();
}

// ---- timers ----------------------------------------------------------------------------

void EngineImpl::arm_after_commit(TimerEntry entry) {
  batch().then([this, entry = std::move(entry)]() mutable {
    timers_->push_committed(std::move(entry));
  });
}

void EngineImpl::call_at(TimePoint due, std::function<void()> fn) {
  asio::post(io_, [this, due, fn = std::move(fn)]() mutable {
    timers_->push(TimerEntry{due, TimerKind::host, {}, {}, std::move(fn)});
    timers_->arm_wake();
  });
}

void EngineImpl::fire_due_timers() {
  if (commit_->holding()) return;  // they fire once the kept batch has committed
  timers_->refill();
  for (auto& entry : timers_->pop_due()) {
    if (entry.kind == TimerKind::host) {
      entry.callback();
      continue;
    }
    // Attempt timeouts only exist for instances in memory; durable timers may belong to an
    // instance that waits on disk.
    // An instance of a shard given up to another node: its timers are that node's now.
    if (!holds(store_->held_shards(), entry.instance_id)) continue;
    auto marked = processing(entry.instance_id);
    Instance* inst = entry.kind == TimerKind::timeout ? find_any(entry.instance_id)
                                                       : acquire(entry.instance_id);
    if (inst == nullptr) continue;
    LiveCursor* c = inst->find(entry.branch);
    // A paused instance's retries and waits fire once it is resumed (StepMachine::release
    // arms them again); an attempt in flight still times out.
    bool held = inst->row.paused_at && entry.kind != TimerKind::timeout;
    if (c != nullptr && !held && timer_applies(*c, entry.kind, entry.due)) {
      switch (entry.kind) {
        case TimerKind::timeout: machine_.on_timeout(*inst, entry.branch); break;
        case TimerKind::retry: machine_.on_retry_due(*inst, entry.branch); break;
        case TimerKind::wait: machine_.on_wait_due(*inst, entry.branch); break;
        case TimerKind::host: break;
      }
    }
    settle(*inst);
  }
  commit_->request();
}

void EngineImpl::prune_stale_timers() {
  timers_->prune([this](const TimerEntry& top) {
    if (top.kind == TimerKind::host) return false;
    Instance* inst = find_any(top.instance_id);
    // A durable timer of an instance that is not in memory cannot be judged without loading
    // it; it stays until it comes due.
    if (inst == nullptr) return top.kind == TimerKind::timeout;
    // A paused instance's retry or wait is armed again when it is resumed.
    if (inst->row.paused_at && top.kind != TimerKind::timeout) return true;
    const LiveCursor* c = inst->find(top.branch);
    return c == nullptr || !timer_applies(*c, top.kind, top.due);
  });
}

}  // namespace rmaflow
