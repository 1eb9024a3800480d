#include "engine/cli/run_summary.hpp"

#include <map>

#include <fmt/format.h>

#include "engine/cli/instance_view.hpp"
#include "engine/cli/table.hpp"

namespace rmaflow::cli {

namespace {

int steps_taken(Store& store, const std::string& id) {
  int n = 0;
  for (const auto& e : store.history(id)) n += e.type == EventType::step_entered ? 1 : 0;
  return n;
}

}  // namespace

std::string format_elapsed(Duration d) {
  struct Unit {
    const char* name;
    std::int64_t ms;
  };
  static constexpr Unit kUnits[] = {{"d", 86'400'000}, {"h", 3'600'000}, {"m", 60'000},
                                    {"s", 1'000}};
  auto ms = d.count();
  if (ms < 1000) return fmt::format("{}ms", ms);
  for (std::size_t i = 0; i < std::size(kUnits); ++i) {
    if (ms < kUnits[i].ms) continue;
    auto major = ms / kUnits[i].ms;
    auto rest = ms % kUnits[i].ms;
    if (i + 1 < std::size(kUnits) && rest >= kUnits[i + 1].ms) {
      return fmt::format("{}{} {}{}", major, kUnits[i].name, rest / kUnits[i + 1].ms,
                         kUnits[i + 1].name);
    }
    return fmt::format("{}{}", major, kUnits[i].name);
  }
  return fmt::format("{}ms", ms);
}

std::string render_run_summary(const RunSummary& summary, Store& store) {
  Table table({"ID", "WORKFLOW", "KEY", "STATUS", "STEPS", "DURATION", "STEP", "NOTE"});
  std::map<std::string, int> totals;
  for (const auto& r : summary.rows) {
    ++totals[std::string(to_string(r.status))];
    auto elapsed = (r.ended_at ? *r.ended_at : summary.now) - r.created_at;
    table.add({r.id, fmt::format("{}@{}", r.workflow, r.version),
               r.business_key.empty() ? "-" : r.business_key, std::string(to_string(r.status)),
               std::to_string(steps_taken(store, r.id)),
               (r.ended_at ? "" : "for ") + format_elapsed(elapsed), r.step,
               r.status == InstanceStatus::suspended ? incident_summary(r) : ""});
  }
  std::vector<std::string> parts;
  for (const auto& [status, n] : totals) parts.push_back(fmt::format("{} {}", n, status));
  return fmt::format("{}\n{} instance(s): {} started, {} resumed; {}\n", table.render(),
                     summary.rows.size(), summary.started, summary.resumed,
                     parts.empty() ? "nothing to do" : fmt::format("{}", fmt::join(parts, ", ")));
}

}  // namespace rmaflow::cli
