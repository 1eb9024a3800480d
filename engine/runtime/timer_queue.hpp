// In-memory index of the timers the engine must act on, earliest first.
//
// Durable timers (retry delays, waits) live in the store; this queue holds the ones loaded
// into memory plus purely in-memory ones (attempt timeouts, adapter host timers). An entry for
// an instance applies only while the instance is still in the phase the timer belongs to with
// the same deadline (see timer_applies); otherwise it is stale and dropped when it comes due.
// An entry can also be taken out by the key push() gave: an attempt's timeout is, when its
// answer comes, so that a busy engine does not hold every call's timeout of the last 30 s.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
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

// Names one entry of a TimerQueue.
struct TimerKey {
  TimePoint due;
  std::uint64_t order = 0;
};

class TimerQueue {
 public:
  TimerKey push(TimerEntry entry);
  // Takes out the entry `key` names, if it is still queued.
  void cancel(const TimerKey& key);
  std::optional<TimePoint> earliest() const;
  // The earliest entry; the queue must not be empty.
  const TimerEntry& top() const { return *entries_.begin(); }
  void pop();
  // Removes and returns the entries due at or before `now`, earliest first.
  std::vector<TimerEntry> pop_due(TimePoint now);
  std::size_t size() const { return entries_.size(); }
  // size(), readable from any thread.
  std::size_t held() const { return held_.load(std::memory_order_relaxed); }
  std::size_t count(TimerKind kind) const { return counts_[static_cast<int>(kind)]; }

 private:
  // Earliest first; FIFO among equal due times. Transparent, so a key finds its entry.
  struct Earlier {
    using is_transparent = void;
    template <class A, class B>
    bool operator()(const A& a, const B& b) const {
      return a.due != b.due ? a.due < b.due : a.order < b.order;
    }
  };
  void changed() { held_.store(entries_.size(), std::memory_order_relaxed); }

  std::set<TimerEntry, Earlier> entries_;
  std::atomic<std::size_t> held_{0};
  std::uint64_t next_order_ = 0;
  std::size_t counts_[4] = {0, 0, 0, 0};
};

}  // namespace rmaflow
