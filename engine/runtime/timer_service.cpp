#include "engine/runtime/timer_service.hpp"

#include <limits>

#include "engine/support/fault_points.hpp"

namespace rmaflow {

TimerService::TimerService(boost::asio::io_context& io, const Clock& clock, Store& store,
                           StoreGate& store_mu, Duration window, std::function<void()> fire,
                           std::function<bool()> hold)
    : wake_(io),
      clock_(clock),
      store_(store),
      store_mu_(store_mu),
      window_(window),
      fire_(std::move(fire)),
      hold_(std::move(hold)) {}

void TimerService::push_committed(TimerEntry entry) {
  if (entry.kind == TimerKind::retry) fault_point("retry.armed");
  // A wait due after the window is loaded by a later refill.
  if (entry.kind == TimerKind::wait && entry.due > loaded_until_) return;
  queue_.push(std::move(entry));
}

void TimerService::refill() {
  auto now = clock_.now();
  if (loaded_until_ != TimePoint::min() && now + window_ / 2 < loaded_until_) return;
  auto until = now + window_;
  std::vector<TimerRow> rows;
  {
    std::lock_guard lock(store_mu_);
    rows = store_.due_timers(until, std::numeric_limits<std::size_t>::max());
  }
  for (const auto& row : rows) {
    if (row.name != "wait" || (loaded_until_ != TimePoint::min() && row.due <= loaded_until_)) {
      continue;  // retry timers are pushed with their instance; earlier waits are loaded already
    }
    queue_.push(TimerEntry{row.due, TimerKind::wait, row.instance_id, row.branch, {}});
  }
  loaded_until_ = until;
}

void TimerService::adopt(const std::function<bool(const std::string&)>& take) {
  if (loaded_until_ == TimePoint::min()) return;  // the first refill loads them all
  std::vector<TimerRow> rows;
  {
    std::lock_guard lock(store_mu_);
    rows = store_.due_timers(loaded_until_, std::numeric_limits<std::size_t>::max());
  }
  for (const auto& row : rows) {
    if (row.name == "wait" && take(row.instance_id)) {
      queue_.push(TimerEntry{row.due, TimerKind::wait, row.instance_id, row.branch, {}});
    }
  }
}

bool TimerService::has_ready() const {
  auto due = queue_.earliest();
  return due && *due <= clock_.now();
}

void TimerService::prune(const std::function<bool(const TimerEntry&)>& stale) {
  while (queue_.size() > 0 && stale(queue_.top())) queue_.pop();
}

void TimerService::arm_wake() {
  if (clock_.is_manual() || (hold_ && hold_())) return;
  auto due = queue_.earliest();
  // Wake also to refill the timer window before it runs out.
  auto refill_at = loaded_until_ - window_ / 2;
  if (!due || refill_at < *due) due = refill_at;
  if (!due || (wake_armed_for_ && *wake_armed_for_ <= *due)) return;
  wake_armed_for_ = due;
  wake_.expires_at(*due);
  wake_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;  // re-armed for an earlier time, or shutting down
    wake_armed_for_.reset();
    fire_();
    arm_wake();
  });
}

void TimerService::cancel() { wake_.cancel(); }

std::optional<TimePoint> TimerService::next() const {
  auto in_memory = queue_.earliest();
  if (in_memory && *in_memory <= loaded_until_) return in_memory;
  // Nothing in the window: the store knows the next wait timer beyond it.
  std::optional<TimePoint> stored;
  {
    std::lock_guard lock(store_mu_);
    auto rows = store_.due_timers(TimePoint::max(), 1);
    if (!rows.empty()) stored = rows.front().due;
  }
  if (in_memory && (!stored || *in_memory < *stored)) return in_memory;
  return stored;
}

}  // namespace rmaflow
