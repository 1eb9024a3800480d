#include "adapters/sim/sim_clock.hpp"

#include <algorithm>
#include <cmath>

#include "adapters/sim/sim_adapter.hpp"

namespace rmaflow::sim {

SimClock::SimClock(TimePoint start, double speed, bool jumps)
    : start_(start), speed_(speed), jumps_(jumps) {}

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
  if (!jumps_) return;
  auto now = now_locked(host);
  if (due > now) jumped_ += due - now;
}

namespace {

// Calls `use` with each simulated system of `adapters`; returns how many there are.
template <typename Use>
std::size_t for_each_sim(const AdapterRegistry& adapters, Use use) {
  std::size_t count = 0;
  for (const auto& adapter : adapters.all()) {
    if (auto sim = std::dynamic_pointer_cast<SimAdapter>(adapter)) {
      use(*sim->system());
      ++count;
    }
  }
  return count;
}

}  // namespace

std::size_t use_sim_clock(const AdapterRegistry& adapters, TimePoint start, double speed,
                          bool jumps) {
  auto clock = std::make_shared<SimClock>(start, speed, jumps);
  return for_each_sim(adapters, [&](SimSystem& system) { system.use_clock(clock); });
}

std::size_t share_sim_jobs(const AdapterRegistry& adapters, Duration every) {
  return for_each_sim(adapters, [&](SimSystem& system) { system.share_jobs(every); });
}

}  // namespace rmaflow::sim
