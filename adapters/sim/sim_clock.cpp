#include "adapters/sim/sim_clock.hpp"

#include <algorithm>
#include <cmath>

#include "adapters/sim/sim_adapter.hpp"

namespace rmaflow::sim {

SimClock::SimClock(TimePoint start, double speed) : start_(start), speed_(speed) {}

TimePoint SimClock::now_locked(const Clock& host) const {
  auto wall = host.now();
  if (!origin_) origin_ = wall;
  return start_ + (wall - *origin_) + jumped_;
}

TimePoint SimClock::now(const Clock& host) const {
  std::lock_guard lock(mu_);
  return now_locked(host);
}

TimePoint SimClock::host_time(TimePoint due, const Clock& host) const {
  std::lock_guard lock(mu_);
  auto ahead = due - now_locked(host);
  auto wall = host.now();
  if (ahead <= Duration(0)) return wall;
  return wall + Duration(static_cast<Duration::rep>(std::ceil(static_cast<double>(ahead.count()) / speed_)));
}

void SimClock::reach(TimePoint due, const Clock& host) {
  std::lock_guard lock(mu_);
  auto now = now_locked(host);
  if (due > now) jumped_ += due - now;
}

std::size_t use_sim_clock(const AdapterRegistry& adapters, TimePoint start, double speed) {
  auto clock = std::make_shared<SimClock>(start, speed);
  std::size_t set = 0;
  for (const auto& adapter : adapters.all()) {
    if (auto sim = std::dynamic_pointer_cast<SimAdapter>(adapter)) {
      sim->system()->use_clock(clock);
      ++set;
    }
  }
  return set;
}

}  // namespace rmaflow::sim
