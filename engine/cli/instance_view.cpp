#include "engine/cli/instance_view.hpp"

#include <fmt/format.h>

#include "engine/cli/table.hpp"

namespace rmaflow::cli {

namespace {

nlohmann::json parse_or_null(const std::string& text) {
  if (text.empty()) return nullptr;
  return nlohmann::json::parse(text, nullptr, false);
}

}  // namespace

std::string incident_summary(const InstanceRow& row) {
  auto incident = parse_or_null(row.incident);
  if (!incident.is_object()) return "";
  auto error = incident.value("error", nlohmann::json::object());
  return fmt::format("{}: {}", error.value("code", "?"), error.value("message", ""));
}

nlohmann::json instance_json(const InstanceRow& row, bool with_context) {
  nlohmann::json j = {{"id", row.id},
                      {"workflow", row.workflow},
                      {"version", row.version},
                      {"status", to_string(row.status)},
                      {"step", row.step},
                      {"phase", to_string(row.phase)},
                      {"attempt", row.attempt},
                      {"business_key", row.business_key},
                      {"correlation_id", row.correlation_id},
                      {"created_at", format_time(row.created_at)},
                      {"updated_at", format_time(row.updated_at)},
                      {"ended_at", row.ended_at ? nlohmann::json(format_time(*row.ended_at))
                                                : nlohmann::json(nullptr)},
                      {"incident", parse_or_null(row.incident)}};
  if (with_context) j["context"] = parse_or_null(row.context);
  return j;
}

nlohmann::json instances_json(const std::vector<InstanceRow>& rows) {
  auto out = nlohmann::json::array();
  for (const auto& r : rows) out.push_back(instance_json(r, false));
  return out;
}

nlohmann::json event_json(const EventRow& e) {
  return {{"seq", e.seq},
          {"at", format_time(e.at)},
          {"type", to_string(e.type)},
          {"step", e.step},
          {"data", parse_or_null(e.data)}};
}

std::string instances_table(const std::vector<InstanceRow>& rows) {
  Table table({"ID", "WORKFLOW", "KEY", "STATUS", "STEP", "NOTE"});
  for (const auto& r : rows) {
    table.add({r.id, fmt::format("{}@{}", r.workflow, r.version),
               r.business_key.empty() ? "-" : r.business_key, std::string(to_string(r.status)),
               r.step, r.status == InstanceStatus::suspended ? incident_summary(r) : ""});
  }
  return table.render();
}

std::string instance_details(const InstanceRow& r) {
  std::string out;
  out += fmt::format("instance     {}\n", r.id);
  out += fmt::format("workflow     {} version {}\n", r.workflow, r.version);
  out += fmt::format("status       {}\n", to_string(r.status));
  out += fmt::format("step         {} ({}, attempt {})\n", r.step, to_string(r.phase), r.attempt);
  out += fmt::format("business key {}\n", r.business_key.empty() ? "-" : r.business_key);
  out += fmt::format("correlation  {}\n", r.correlation_id);
  out += fmt::format("created      {}\n", format_time(r.created_at));
  out += fmt::format("updated      {}\n", format_time(r.updated_at));
  if (r.ended_at) out += fmt::format("ended        {}\n", format_time(*r.ended_at));
  if (!r.incident.empty()) out += fmt::format("incident     {}\n", parse_or_null(r.incident).dump(2));
  out += fmt::format("context      {}\n", parse_or_null(r.context).dump(2));
  return out;
}

std::string history_table(const std::vector<EventRow>& events) {
  Table table({"SEQ", "AT", "EVENT", "STEP", "DETAILS"});
  for (const auto& e : events) {
    table.add({std::to_string(e.seq), format_time(e.at), std::string(to_string(e.type)), e.step,
               e.data == "{}" ? "" : e.data});
  }
  return table.render();
}

}  // namespace rmaflow::cli
