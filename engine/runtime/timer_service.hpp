// The timers an engine acts on, in memory, and the wake-up that fires them on a real clock.
//
// Durable timers (retry delays, waits) are rows; retry timers of instances in memory are held
// here always, wait timers only within a window (`timer_window`) that is refilled from the
// store as time passes, so that instances waiting for weeks cost rows, not memory. Attempt
// timeouts and adapters' call_at() timers live only here.
//
// Thread-safety: the engine thread only; next() may be called from any thread (it reads the
// store under the store lock).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/system_timer.hpp>
#include <functional>
#include <mutex>
#include <optional>

#include "engine/runtime/store_gate.hpp"
#include "engine/runtime/timer_queue.hpp"
#include "rmaflow/clock.hpp"
#include "rmaflow/store.hpp"

namespace rmaflow {

class TimerService {
 public:
  // `fire` runs on the engine thread when the wake-up comes due (a real clock only); while
  // `hold` says so, no wake-up is armed (a kept batch waits to commit).
  TimerService(boost::asio::io_context& io, const Clock& clock, Store& store, StoreGate& store_mu,
               Duration window, std::function<void()> fire, std::function<bool()> hold);

  TimerKey push(TimerEntry entry) { return queue_.push(std::move(entry)); }
  void cancel(const TimerKey& key) { queue_.cancel(key); }
  // A durable timer just committed: held now unless it is a wait due after the window (a
  // later refill loads it).
  void push_committed(TimerEntry entry);
  // Loads the durable wait timers due within the window when the window runs short.
  void refill();
  // Loads the durable wait timers within the window loaded so far of the instances `take`
  // names: those of shards this node just took over.
  void adopt(const std::function<bool(const std::string&)>& take);
  std::vector<TimerEntry> pop_due() { return queue_.pop_due(clock_.now()); }
  bool has_ready() const;
  // Drops entries at the front for which `stale` says so.
  void prune(const std::function<bool(const TimerEntry&)>& stale);
  // Arms the wake-up for the earliest timer (or the next refill); nothing on a manual clock.
  void arm_wake();
  void cancel();
  // The earliest pending timer, in memory or in the store.
  std::optional<TimePoint> next() const;
  std::size_t count(TimerKind kind) const { return queue_.count(kind); }
  // How many timers are held in memory; from any thread.
  std::size_t held() const { return queue_.held(); }

 private:
  boost::asio::system_timer wake_;
  const Clock& clock_;
  Store& store_;
  StoreGate& store_mu_;
  Duration window_;
  std::function<void()> fire_;
  std::function<bool()> hold_;
  TimerQueue queue_;
  TimePoint loaded_until_ = TimePoint::min();  // wait timers due by then are in queue_
  std::optional<TimePoint> wake_armed_for_;
};

}  // namespace rmaflow
