// SimClock: the simulated systems' own time, for running them beside an engine on the wall
// clock (`rmaflow serve --sim-start`).
//
// By default a simulated system reads the clock of the host it is attached to, so under a
// virtual engine clock a 3-day parcel takes no time at all. On the wall clock it would take
// three days, and an invoice from the sample data would be out of its return window. A SimClock
// reads `start` when it is first used and runs at wall speed from there, except that the events
// the systems schedule for themselves (a parcel in transit, a credit review) come `speed` times
// sooner: when one comes due the clock jumps to its time. So the sample returns are in their
// window, and a parcel sent for three days arrives in three seconds at 86400 (a day a second).
//
// Nodes of one database (`serve --node`) share the systems' state, and each has a SimClock of
// its own: there the clocks do not jump (`jumps` false), so that they agree to within the
// nodes' start times. Scheduled events still come `speed` times sooner.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <memory>
#include <mutex>
#include <optional>

#include "rmaflow/adapter.hpp"
#include "rmaflow/clock.hpp"

namespace rmaflow::sim {

class SimClock {
 public:
  // `speed` > 0: how many times faster than the wall clock scheduled events come.
  SimClock(TimePoint start, double speed, bool jumps = true);

  // The simulated time, given the host's.
  TimePoint now(const Clock& host) const;
  // When, on the host's clock, an event the systems scheduled for `due` (simulated) happens.
  TimePoint host_time(TimePoint due, const Clock& host) const;
  // An event scheduled for `due` happens: from now on the clock reads at least `due`.
  void reach(TimePoint due, const Clock& host);

 private:
  TimePoint now_locked(const Clock& host) const;

  mutable std::mutex mu_;
  TimePoint start_;
  double speed_;
  bool jumps_;
  mutable std::optional<TimePoint> origin_;  // the host's time when the clock was first read
  Duration jumped_{0};                       // how far events moved it ahead of the wall
};

// Runs every simulated system of `adapters` (type: sim) on one SimClock from `start` at
// `speed`. Returns how many systems it set; 0 when the registry has none.
std::size_t use_sim_clock(const AdapterRegistry& adapters, TimePoint start, double speed,
                          bool jumps = true);

// Every simulated system of `adapters` shares its state file with other processes: see
// SimSystem::share_jobs. Returns how many systems it set.
std::size_t share_sim_jobs(const AdapterRegistry& adapters, Duration every);

}  // namespace rmaflow::sim
