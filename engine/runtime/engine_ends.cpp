// Instance ends: a child's parent goes on (engine_children.cpp), and callers awaiting the end
// (await_end) are answered. An answer is the instance's committed row: the end once its commit
// is durable, or, when the caller's time is up first, the row as it then stands in the store.
#include <fmt/format.h>

#include "engine/runtime/engine_impl.hpp"

namespace rmaflow {

void EngineImpl::await_end(std::string instance_id, Duration timeout, ReplyFn<InstanceRow> done) {
  auto reply = std::make_shared<PendingReply<InstanceRow>>(std::move(done));
  if (forwarder_ && !holds(store_->held_shards(), instance_id)) {
    // Another node's instance: its end is seen in the database.
    forwarder_->await_end(
        std::move(instance_id),
        std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout.count()),
        [reply](InstanceRow row) { reply->give(std::move(row)); },
        [reply](std::exception_ptr error) { reply->fail(std::move(error)); });
    return;
  }
  boost::asio::post(io_, [this, id = std::move(instance_id), timeout, reply]() mutable {
    try {
      handle_await_end(id, timeout, reply);  // a copy: the reply stays here for an error
    } catch (const Error&) {
      reply->fail(std::current_exception());
    }
  });
}

void EngineImpl::handle_await_end(const std::string& id, Duration timeout,
                                  std::shared_ptr<PendingReply<InstanceRow>> reply) {
  // An instance in memory says where it stands without a read; one that is not is read as
  // committed (an ended instance leaves memory once its end is committed).
  const Instance* inst = find_any(id);
  if (inst == nullptr || timeout <= Duration::zero()) {
    auto row = committed_row(id);
    if (is_final(row.status) || timeout <= Duration::zero()) {
      reply->give(std::move(row));
      return;
    }
  } else if (is_final(inst->row.status)) {  // ended, its end not yet committed: answered by it
    batch().then([this, id, reply]() mutable { reply->give(committed_row(id)); });
    commit_->request();
    return;
  }
  auto waiter = ++next_end_waiter_;
  auto expiry = end_wait_expiries_.emplace(clock_->now() + timeout, std::pair{id, waiter});
  end_waiters_[id].push_back(EndWaiter{waiter, std::move(reply), expiry});
  arm_end_wait_timer();
}

void EngineImpl::arm_end_wait_timer() {
  if (end_wait_expiries_.empty()) return;
  TimePoint due = end_wait_expiries_.begin()->first;
  if (end_wait_timer_ && *end_wait_timer_ <= due) return;  // it arms the next when it fires
  end_wait_timer_ = due;
  timers_->push(
      TimerEntry{due, TimerKind::host, {}, {}, [this, due] { end_wait_timer_fired(due); }});
  timers_->arm_wake();
}

void EngineImpl::end_wait_timer_fired(TimePoint due) {
  if (end_wait_timer_ == due) end_wait_timer_.reset();
  const TimePoint now = clock_->now();
  while (!end_wait_expiries_.empty() && end_wait_expiries_.begin()->first <= now) {
    auto [id, waiter] = std::move(end_wait_expiries_.begin()->second);
    end_wait_expiries_.erase(end_wait_expiries_.begin());
    end_wait_expired(id, waiter);
  }
  arm_end_wait_timer();
}

void EngineImpl::instance_ended(Instance& inst) {
  if (inst.row.parent) child_ended(inst);
  auto it = end_waiters_.find(inst.row.id);
  if (it == end_waiters_.end()) return;
  auto waiters = std::move(it->second);
  end_waiters_.erase(it);
  for (const auto& w : waiters) end_wait_expiries_.erase(w.expiry);  // answered by the end
  batch().then([this, id = inst.row.id, waiters = std::move(waiters)]() mutable {
    std::optional<InstanceRow> row;
    // Its end is committed, and an ended instance changes no more: its snapshot is the row
    // committed. It leaves memory after this (settle() asked later), and this spares the
    // engine's thread a read that would wait for the batch being written.
    if (const Instance* ended = find_any(id); ended != nullptr && is_final(ended->row.status)) {
      row = ended->snapshot();
    } else {
      try {
        row = committed_row(id);
      } catch (const Error&) {
        for (auto& w : waiters) w.reply->fail(std::current_exception());
        return;
      }
    }
    for (auto& w : waiters) w.reply->give(*row);
  });
}

void EngineImpl::end_wait_expired(const std::string& id, std::uint64_t waiter) {
  auto it = end_waiters_.find(id);
  if (it == end_waiters_.end()) return;  // the end answered it
  auto& waiters = it->second;
  auto found = std::find_if(waiters.begin(), waiters.end(),
                            [waiter](const EndWaiter& w) { return w.id == waiter; });
  if (found == waiters.end()) return;
  auto reply = std::move(found->reply);
  waiters.erase(found);
  if (waiters.empty()) end_waiters_.erase(it);
  try {
    reply->give(committed_row(id));
  } catch (const Error&) {
    reply->fail(std::current_exception());
  }
}

InstanceRow EngineImpl::committed_row(const std::string& id) {
  std::optional<InstanceRow> row;
  {
    std::lock_guard lock(store_mu_);
    row = store_->get_instance(id);
  }
  if (!row) throw Error(Errc::not_found, fmt::format("no instance {}", id));
  return std::move(*row);
}

}  // namespace rmaflow
