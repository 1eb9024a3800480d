// The runtime reads time only through a Clock, so that tests and `rmaflow simulate` can run a
// 30-day wait in milliseconds.
//
// Thread-safety: now() may be called from any thread.
#pragma once

#include <atomic>
#include <memory>

#include "rmaflow/time.hpp"

namespace rmaflow {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;

  // A manual clock only moves when told to. The engine never sleeps on one: when only timers
  // remain, Engine::run_until_idle() returns and the caller advances the clock.
  virtual bool is_manual() const { return false; }
};

// The system's wall clock.
std::shared_ptr<Clock> system_clock();

class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start) : now_(start.time_since_epoch().count()) {}
  TimePoint now() const override { return from_millis(now_.load()); }
  bool is_manual() const override { return true; }

  void advance(Duration d) { now_ += d.count(); }
  // Moves the clock to `t`; a manual clock never goes backwards, so an earlier `t` is ignored.
  void set(TimePoint t) {
    auto want = to_millis(t);
    auto cur = now_.load();
    while (want > cur && !now_.compare_exchange_weak(cur, want)) {
    }
  }

 private:
  std::atomic<std::int64_t> now_;
};

}  // namespace rmaflow
