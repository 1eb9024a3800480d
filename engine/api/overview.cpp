#include "engine/api/overview.hpp"

#include <algorithm>
#include <limits>
#include <map>

#include "engine/api/stuck.hpp"

namespace rmaflow::api {

namespace {

constexpr int kHours = 24;
constexpr Duration kHour = Duration(3600 * 1000);

// A count per status, as a JSON object keyed by the status's name.
using StatusCounts = std::map<InstanceStatus, std::int64_t>;

nlohmann::json counts_json(const StatusCounts& counts) {
  auto out = nlohmann::json::object();
  for (const auto& [status, n] : counts) out[std::string(to_string(status))] = n;
  return out;
}

std::string stuck_label(const StuckInstance& s) {
  if (s.kind == "incident") return s.code;
  if (s.kind == "compensation") return s.code + " (while compensating)";
  if (s.kind == "deadline") return "past its wait's deadline";
  if (s.kind == "paused") return "paused";
  return "past its SLA";
}

nlohmann::json stuck_summary(Store& store, TimePoint now, DefinitionCache& definitions,
                             std::int64_t& sla_breaches) {
  InstanceFilter all;
  all.limit = std::numeric_limits<std::size_t>::max();
  std::map<std::pair<std::string, std::string>, std::pair<std::string, std::int64_t>> by_reason;
  std::map<std::string, std::pair<std::int64_t, std::int64_t>> by_team;  // count, past its SLA
  std::int64_t total = 0;
  for (const auto& s : find_stuck(store, all, now, &definitions)) {
    ++total;
    if (s.past_sla) ++sla_breaches;
    auto& entry = by_reason[{s.kind, s.code}];
    entry.first = stuck_label(s);
    ++entry.second;
    if (!s.team.empty()) {
      ++by_team[s.team].first;
      if (s.past_team_sla) ++by_team[s.team].second;
    }
  }
  auto reasons = nlohmann::json::array();
  for (const auto& [key, entry] : by_reason) {
    reasons.push_back({{"kind", key.first},
                       {"code", key.second.empty() ? nlohmann::json(nullptr) : nlohmann::json(key.second)},
                       {"label", entry.first},
                       {"count", entry.second}});
  }
  std::sort(reasons.begin(), reasons.end(),
            [](const auto& a, const auto& b) { return a["count"] > b["count"]; });
  auto teams = nlohmann::json::array();
  for (const auto& [team, n] : by_team)
    teams.push_back({{"team", team}, {"count", n.first}, {"past_sla", n.second}});
  return {{"total", total}, {"by_reason", reasons}, {"by_team", teams}};
}

}  // namespace

nlohmann::json overview(Store& store, TimePoint now, DefinitionCache& definitions) {
  // The window starts at the top of the hour 23 hours before the current one.
  auto hour_start = TimePoint(Duration(to_millis(now) / kHour.count() * kHour.count()));
  auto since = hour_start - (kHours - 1) * kHour;

  StatusCounts by_status;
  std::map<std::string, StatusCounts> by_workflow;
  std::vector<std::int64_t> started(kHours, 0);
  std::vector<StatusCounts> ended(kHours);
  std::int64_t started_total = 0;
  StatusCounts ended_total;
  for (const auto& t : store.tally_instances(since, kHour)) {
    by_status[t.status] += t.count;
    by_workflow[t.workflow][t.status] += t.count;
    if (t.started_bucket >= 0 && t.started_bucket < kHours) {
      started[t.started_bucket] += t.count;
      started_total += t.count;
    }
    if (t.ended_bucket >= 0 && t.ended_bucket < kHours) {
      ended[t.ended_bucket][t.status] += t.count;
      ended_total[t.status] += t.count;
    }
  }

  auto workflows = nlohmann::json::array();
  for (const auto& [workflow, counts] : by_workflow) {
    std::int64_t total = 0;
    for (const auto& [status, n] : counts) total += n;
    workflows.push_back({{"workflow", workflow}, {"total", total}, {"by_status", counts_json(counts)}});
  }
  auto hours = nlohmann::json::array();
  for (int h = 0; h < kHours; ++h) {
    hours.push_back({{"from", format_time(since + h * kHour)},
                     {"started", started[h]},
                     {"ended", counts_json(ended[h])}});
  }
  auto unfinished = nlohmann::json::array();
  for (const auto& c : store.count_unfinished("")) {
    unfinished.push_back({{"workflow", c.workflow},
                          {"version", c.version},
                          {"step", c.step},
                          {"status", to_string(c.status)},
                          {"count", c.count}});
  }
  std::int64_t sla_breaches = 0;
  auto stuck = stuck_summary(store, now, definitions, sla_breaches);
  return {{"as_of", format_time(now)},
          {"by_status", counts_json(by_status)},
          {"by_workflow", workflows},
          {"stuck", stuck},
          {"sla_breaches", sla_breaches},
          {"unfinished", unfinished},
          {"last_day", {{"since", format_time(since)},
                        {"started", started_total},
                        {"ended", counts_json(ended_total)},
                        {"hours", hours}}}};
}

}  // namespace rmaflow::api
