#include "engine/api/stuck.hpp"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "rmaflow/definition.hpp"

namespace rmaflow::api {

namespace {

// The SLA of each stored workflow version, loaded once. A version loads with the input schema
// stored at deploy time, so a relative `input:` path does not depend on where this runs.
class SlaBook {
 public:
  explicit SlaBook(Store& store) : store_(store) {}
  std::optional<Duration> sla(const std::string& workflow, int version) {
    auto key = std::pair{workflow, version};
    if (auto it = slas_.find(key); it != slas_.end()) return it->second;
    std::optional<Duration> sla;
    if (auto row = store_.get_definition(workflow, version)) {
      auto loaded = load_stored_definition(row->source, row->file, row->input_schema);
      if (loaded.ok()) sla = loaded.definition->sla;
    }
    slas_[key] = sla;
    return sla;
  }

 private:
  Store& store_;
  std::map<std::pair<std::string, int>, std::optional<Duration>> slas_;
};

struct Reason {
  std::string text;
  TimePoint since;
};

std::optional<Reason> incident_reason(const InstanceRow& row) {
  if (row.status != InstanceStatus::suspended) return std::nullopt;
  auto incident = nlohmann::json::parse(row.incident.empty() ? "{}" : row.incident, nullptr, false);
  if (!incident.is_object()) incident = nlohmann::json::object();
  auto error = incident.value("error", nlohmann::json::object());
  if (!error.is_object()) error = nlohmann::json::object();
  auto opened = parse_time(incident.value("opened_at", std::string()));
  return Reason{fmt::format("suspended{}: {}: {}",
                            incident.value("compensating", false) ? " while compensating" : "",
                            error.value("code", "?"), error.value("message", "")),
                opened.value_or(row.updated_at)};
}

std::optional<Reason> overdue_wait(const InstanceRow& row, TimePoint now) {
  if (row.status != InstanceStatus::waiting || !row.deadline || *row.deadline > now) {
    return std::nullopt;
  }
  return Reason{
      fmt::format("waiting at {} past its deadline {}", row.step, format_time(*row.deadline)),
      *row.deadline};
}

std::optional<Reason> past_sla(const InstanceRow& row, SlaBook& book, TimePoint now) {
  auto sla = book.sla(row.workflow, row.version);
  if (!sla || row.created_at + *sla > now) return std::nullopt;
  return Reason{fmt::format("past its SLA of {} (started {})", format_duration(*sla),
                            format_time(row.created_at)),
                row.created_at + *sla};
}

}  // namespace

std::vector<StuckInstance> find_stuck(Store& store, InstanceFilter filter, TimePoint now) {
  SlaBook book(store);
  filter.statuses = {InstanceStatus::suspended, InstanceStatus::waiting, InstanceStatus::running,
                     InstanceStatus::compensating};
  std::size_t wanted = filter.limit;
  std::vector<StuckInstance> out;
  for_each_instance(store, filter, [&](InstanceRow& row) {
    std::vector<Reason> found;
    for (auto reason : {incident_reason(row), overdue_wait(row, now), past_sla(row, book, now)}) {
      if (reason) found.push_back(std::move(*reason));
    }
    if (found.empty()) return true;
    StuckInstance stuck{std::move(row), {}, found.front().since};
    for (auto& reason : found) {
      stuck.since = std::min(stuck.since, reason.since);
      stuck.reasons.push_back(std::move(reason.text));
    }
    out.push_back(std::move(stuck));
    return out.size() < wanted;
  });
  return out;
}

}  // namespace rmaflow::api
