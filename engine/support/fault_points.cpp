#include "engine/support/fault_points.hpp"

#include <csignal>
#include <cstdlib>
#include <map>
#include <string>

namespace rmaflow {

namespace {

struct KillPlan {
  std::map<std::string, long, std::less<>> remaining;  // point -> hits left before the kill
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
  // The engine reaches fault points from its single thread only.
  if (--const_cast<long&>(it->second) == 0) std::raise(SIGKILL);
}

}  // namespace rmaflow
