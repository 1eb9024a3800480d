// Bulk jobs' state names and the filter they store, as JSON (rmaflow/store.hpp).
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <limits>

#include "rmaflow/errors.hpp"
#include "rmaflow/store.hpp"

namespace rmaflow {

namespace {

constexpr std::array<std::pair<JobState, std::string_view>, 3> kJobStates{{
    {JobState::running, "running"},
    {JobState::finished, "finished"},
    {JobState::cancelled, "cancelled"},
}};

std::string filter_text(const nlohmann::json& json, const char* key) {
  if (!json.contains(key)) return {};
  if (!json[key].is_string()) {
    throw Error(Errc::invalid_argument, fmt::format("the filter's {} must be a string", key));
  }
  return json[key].get<std::string>();
}

std::optional<TimePoint> filter_time(const nlohmann::json& json, const char* key) {
  if (!json.contains(key) || json[key].is_null()) return std::nullopt;
  auto at = json[key].is_string() ? parse_time(json[key].get<std::string>()) : std::nullopt;
  if (!at) {
    throw Error(Errc::invalid_argument,
                fmt::format("the filter's {} must be a time such as 2026-06-01T00:00:00Z", key));
  }
  return at;
}

std::optional<bool> filter_flag(const nlohmann::json& json, const char* key) {
  if (!json.contains(key) || json[key].is_null()) return std::nullopt;
  if (!json[key].is_boolean()) {
    throw Error(Errc::invalid_argument, fmt::format("the filter's {} must be true or false", key));
  }
  return json[key].get<bool>();
}

}  // namespace

std::string_view to_string(JobState state) {
  for (const auto& [value, name] : kJobStates)
    if (value == state) return name;
  return "running";
}

std::optional<JobState> parse_job_state(std::string_view text) {
  for (const auto& [value, name] : kJobStates)
    if (name == text) return value;
  return std::nullopt;
}

nlohmann::json filter_to_json(const InstanceFilter& filter) {
  nlohmann::json out = nlohmann::json::object();
  if (!filter.statuses.empty()) {
    auto& statuses = out["status"] = nlohmann::json::array();
    for (auto status : filter.statuses) statuses.push_back(to_string(status));
  }
  if (!filter.workflow.empty()) out["workflow"] = filter.workflow;
  if (filter.version) out["version"] = *filter.version;
  if (!filter.step.empty()) out["step"] = filter.step;
  if (!filter.business_key.empty()) out["business_key"] = filter.business_key;
  if (filter.with_incident) out["incident"] = true;
  if (filter.paused) out["paused"] = *filter.paused;
  if (filter.created_from) out["created_from"] = format_time(*filter.created_from);
  if (filter.created_before) out["created_before"] = format_time(*filter.created_before);
  if (!filter.attributes.empty()) {
    auto& conditions = out["attributes"] = nlohmann::json::array();
    for (const auto& c : filter.attributes) conditions.push_back(c.name + c.op + c.value.dump());
  }
  return out;
}

InstanceFilter filter_from_json(const nlohmann::json& json) {
  if (!json.is_object()) throw Error(Errc::invalid_argument, "a filter must be a JSON object");
  static constexpr std::array kKeys{"status",         "workflow",  "version", "step",
                                    "business_key",   "incident",  "paused",  "created_from",
                                    "created_before", "attributes"};
  for (const auto& [key, value] : json.items()) {
    if (std::find(kKeys.begin(), kKeys.end(), key) == kKeys.end()) {
      throw Error(Errc::invalid_argument,
                  fmt::format("a filter takes no field \"{}\" (it takes: status, workflow, "
                              "version, step, business_key, incident, paused, created_from, "
                              "created_before, attributes)",
                              key));
    }
  }
  InstanceFilter filter;
  if (json.contains("status")) {
    const auto& statuses = json["status"];
    if (!statuses.is_array()) {
      throw Error(Errc::invalid_argument, "the filter's status must be a list of statuses");
    }
    for (const auto& item : statuses) {
      auto status =
          item.is_string() ? parse_instance_status(item.get<std::string>()) : std::nullopt;
      if (!status) {
        throw Error(Errc::invalid_argument,
                    fmt::format("the filter's status {} is not an instance status", item.dump()));
      }
      filter.statuses.push_back(*status);
    }
  }
  filter.workflow = filter_text(json, "workflow");
  if (json.contains("version") && !json["version"].is_null()) {
    if (!json["version"].is_number_integer() || json["version"].get<std::int64_t>() < 1 ||
        json["version"].get<std::int64_t>() > std::numeric_limits<int>::max()) {
      throw Error(Errc::invalid_argument, "the filter's version must be a whole number from 1");
    }
    filter.version = json["version"].get<int>();
  }
  filter.step = filter_text(json, "step");
  filter.business_key = filter_text(json, "business_key");
  filter.with_incident = filter_flag(json, "incident").value_or(false);
  filter.paused = filter_flag(json, "paused");
  filter.created_from = filter_time(json, "created_from");
  filter.created_before = filter_time(json, "created_before");
  if (json.contains("attributes")) {
    const auto& conditions = json["attributes"];
    if (!conditions.is_array() || conditions.size() > kMaxAttributeConditions) {
      throw Error(Errc::invalid_argument,
                  fmt::format("the filter's attributes must be a list of at most {} conditions "
                              "such as \"customer_id=C-105\"",
                              kMaxAttributeConditions));
    }
    for (const auto& c : conditions) {
      if (!c.is_string()) {
        throw Error(Errc::invalid_argument,
                    "each of the filter's attributes must be a condition such as \"value>=500\"");
      }
      filter.attributes.push_back(parse_attribute_condition(c.get<std::string>()));
    }
  }
  return filter;
}

}  // namespace rmaflow
