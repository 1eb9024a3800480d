#include "engine/api/stuck.hpp"

#include <map>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "rmaflow/definition.hpp"

namespace rmaflow::api {

namespace {

// The SLA of each stored workflow version, loaded once.
class SlaBook {
 public:
  explicit SlaBook(Store& store) : store_(store) {}
  std::optional<Duration> sla(const std::string& workflow, int version) {
    auto key = std::pair{workflow, version};
    if (auto it = slas_.find(key); it != slas_.end()) return it->second;
    std::optional<Duration> sla;
    if (auto row = store_.get_definition(workflow, version)) {
      auto loaded = load_definition(row->source, row->file);
      if (loaded.ok()) sla = loaded.definition->sla;
    }
    slas_[key] = sla;
    return sla;
  }

 private:
  Store& store_;
  std::map<std::pair<std::string, int>, std::optional<Duration>> slas_;
};

// Why each cursor of the instance needs a person: its incidents, and waits past their
// deadline (no engine has fired them).
std::vector<std::string> cursor_reasons(const InstanceRow& row, TimePoint now) {
  std::vector<std::string> out;
  for (const auto& c : row.cursors) {
    std::string where = c.branch.empty() ? "" : fmt::format("branch {} ", c.branch);
    if (c.incident) {
      out.push_back(fmt::format("{}suspended{}: {}: {}", where,
                                c.incident->compensating ? " while compensating" : "",
                                c.incident->error.code, c.incident->error.message));
    } else if (c.phase == Phase::waiting && c.deadline && *c.deadline <= now) {
      out.push_back(fmt::format("{}waiting at {} past its deadline {}", where, c.step,
                                format_time(*c.deadline)));
    }
  }
  return out;
}

}  // namespace

std::vector<StuckInstance> find_stuck(Store& store, InstanceFilter filter, TimePoint now) {
  SlaBook book(store);
  filter.statuses = {InstanceStatus::suspended, InstanceStatus::waiting, InstanceStatus::running,
                     InstanceStatus::compensating};
  std::size_t wanted = filter.limit;
  std::vector<StuckInstance> out;
  for_each_instance(store, filter, [&](InstanceRow& row) {
    auto reasons = cursor_reasons(row, now);
    if (auto sla = book.sla(row.workflow, row.version); sla && row.created_at + *sla <= now) {
      reasons.push_back(fmt::format("past its SLA of {} (started {})", format_duration(*sla),
                                    format_time(row.created_at)));
    }
    if (!reasons.empty()) {
      out.push_back(StuckInstance{std::move(row), fmt::format("{}", fmt::join(reasons, "; "))});
    }
    return out.size() < wanted;
  });
  return out;
}

}  // namespace rmaflow::api
