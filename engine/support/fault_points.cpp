#include "engine/support/fault_points.hpp"

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <map>
#include <string>

namespace rmaflow {

namespace {

struct KillPlan {
  std::map<std::string, std::atomic<long>, std::less<>>
      remaining;  // point -> hits left before the kill
};

const KillPlan* load_plan() {
  const char* spec = std::getenv("RMAFLOW_KILL_AT");
  if (spec == nullptr || *spec == '\0') return nullptr;
  auto* plan = new KillPlan;  // lives for the process
  std::string s(spec);
  std::size_t start = 0;
  while (start < s.size()) {
    auto end = s.find(',', start);
    auto item = s.substr(start, end == std::string::npos ? std::string::npos : end - start);
    auto colon = item.rfind(':');
    if (colon != std::string::npos) {
      plan->remaining[item.substr(0, colon)] = std::strtol(item.c_str() + colon + 1, nullptr, 10);
    }
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return plan;
}

}  // namespace

void fault_point(std::string_view point) {
  static const KillPlan* plan = load_plan();
  if (plan == nullptr) return;
  auto it = plan->remaining.find(point);
  if (it == plan->remaining.end()) return;
  // Reached from the engine's thread and its commit writer's.
  if (const_cast<std::atomic<long>&>(it->second).fetch_sub(1) == 1) std::raise(SIGKILL);
}

}  // namespace rmaflow
