// In-memory index of the timers the engine must act on, earliest first.
//
// Durable timers (retry delays, waits) live in the store; this queue holds the ones loaded
// into memory plus purely in-memory ones (attempt timeouts, adapter host timers). An entry for
// an instance applies only while the instance is still in the phase the timer belongs to with
// the same deadline (see timer_applies); otherwise it is stale and dropped when it comes due.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <queue>
#include <string>
#include <vector>

#include "rmaflow/time.hpp"

namespace rmaflow {

enum class TimerKind {
  retry,    // durable ("retry"): start the next attempt
  timeout,  // in memory: the running attempt's deadline
  host,     // in memory: an adapter's call_at(); `callback` runs
  wait,     // durable ("wait"): a wait step's duration or timeout
};

struct TimerEntry {
  TimePoint due;
  TimerKind kind = TimerKind::retry;
  std::string instance_id;
  std::string branch;              // the cursor it belongs to ("" is the main line)
  std::function<void()> callback;  // host timers only
  std::uint64_t order = 0;         // FIFO among equal due times
};

class TimerQueue {
 public:
  void push(TimerEntry entry);
  std::optional<TimePoint> earliest() const;
  // The earliest entry; the queue must not be empty.
  const TimerEntry& top() const { return heap_.top(); }
  void pop();
  // Removes and returns the entries due at or before `now`, earliest first.
  std::vector<TimerEntry> pop_due(TimePoint now);
  std::size_t size() const { return heap_.size(); }
  std::size_t count(TimerKind kind) const { return counts_[static_cast<int>(kind)]; }

 private:
  struct Later {
    bool operator()(const TimerEntry& a, const TimerEntry& b) const {
      return a.due != b.due ? a.due > b.due : a.order > b.order;
    }
  };
  std::priority_queue<TimerEntry, std::vector<TimerEntry>, Later> heap_;
  std::uint64_t next_order_ = 0;
  std::size_t counts_[4] = {0, 0, 0, 0};
};

}  // namespace rmaflow
