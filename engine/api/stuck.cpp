#include "engine/api/stuck.hpp"

#include <map>

#include <fmt/format.h>

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

std::string incident_reason(const InstanceRow& row) {
  auto incident = nlohmann::json::parse(row.incident.empty() ? "{}" : row.incident, nullptr, false);
  auto error = incident.is_object() ? incident.value("error", nlohmann::json::object())
                                    : nlohmann::json::object();
  return fmt::format("suspended{}: {}: {}", incident.value("compensating", false) ? " while compensating" : "",
                     error.value("code", "?"), error.value("message", ""));
}

}  // namespace

std::vector<StuckInstance> find_stuck(Store& store, InstanceFilter filter, TimePoint now) {
  SlaBook book(store);
  filter.statuses = {InstanceStatus::suspended, InstanceStatus::waiting, InstanceStatus::running,
                     InstanceStatus::compensating};
  std::size_t wanted = filter.limit;
  std::vector<StuckInstance> out;
  for_each_instance(store, filter, [&](InstanceRow& row) {
    std::string reason;
    if (row.status == InstanceStatus::suspended) {
      reason = incident_reason(row);
    } else if (row.status == InstanceStatus::waiting && row.deadline && *row.deadline <= now) {
      reason = fmt::format("waiting at {} past its deadline {}", row.step, format_time(*row.deadline));
    } else if (auto sla = book.sla(row.workflow, row.version); sla && row.created_at + *sla <= now) {
      reason = fmt::format("past its SLA of {} (started {})", format_duration(*sla),
                           format_time(row.created_at));
    }
    if (!reason.empty()) out.push_back(StuckInstance{std::move(row), std::move(reason)});
    return out.size() < wanted;
  });
  return out;
}

}  // namespace rmaflow::api
