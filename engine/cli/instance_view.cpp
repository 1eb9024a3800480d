#include "engine/cli/instance_view.hpp"

#include <fmt/format.h>

#include "engine/api/views.hpp"
#include "engine/cli/table.hpp"

namespace rmaflow::cli {

namespace {

std::string text(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return "";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

std::string or_dash(const std::string& s) { return s.empty() ? "-" : s; }

}  // namespace

std::string incident_summary(const nlohmann::json& instance) {
  const auto& incident = instance.value("incident", nlohmann::json());
  if (!incident.is_object()) return "";
  auto error = incident.value("error", nlohmann::json::object());
  return fmt::format("{}: {}", error.value("code", "?"), error.value("message", ""));
}

std::string incident_summary(const InstanceRow& row) {
  return incident_summary(api::instance_json(row, false));
}

std::string instances_table(const nlohmann::json& items, bool reasons) {
  Table table({"ID", "WORKFLOW", "KEY", "STATUS", "STEP", reasons ? "REASON" : "NOTE"});
  for (const auto& r : items) {
    auto status = text(r, "status");
    table.add({text(r, "id"), fmt::format("{}@{}", text(r, "workflow"), text(r, "version")),
               or_dash(text(r, "business_key")), status, text(r, "step"),
               reasons ? text(r, "reason") : status == "suspended" ? incident_summary(r) : ""});
  }
  return table.render();
}

std::string instance_details(const nlohmann::json& r) {
  std::string out;
  out += fmt::format("instance     {}\n", text(r, "id"));
  out += fmt::format("workflow     {} version {}\n", text(r, "workflow"), text(r, "version"));
  out += fmt::format("status       {}\n", text(r, "status"));
  out += fmt::format("step         {} ({}, attempt {})\n", text(r, "step"), text(r, "phase"),
                     text(r, "attempt"));
  out += fmt::format("business key {}\n", or_dash(text(r, "business_key")));
  out += fmt::format("correlation  {}\n", text(r, "correlation_id"));
  out += fmt::format("created      {}\n", text(r, "created_at"));
  out += fmt::format("updated      {}\n", text(r, "updated_at"));
  if (auto ended = text(r, "ended_at"); !ended.empty()) out += fmt::format("ended        {}\n", ended);
  if (r.contains("parent") && r["parent"].is_object()) {
    const auto& p = r["parent"];
    out += fmt::format("parent       {} (step {}{})\n", text(p, "instance_id"), text(p, "step"),
                       text(p, "branch").empty() ? "" : ", branch " + text(p, "branch"));
  }
  for (const auto& incident : r.value("incidents", nlohmann::json::array())) {
    out += fmt::format("incident     {}\n", incident.dump(2));
  }
  if (auto branches = r.value("branches", nlohmann::json::array()); !branches.empty()) {
    Table table({"BRANCH", "STATE", "STEP", "DETAIL"});
    for (const auto& b : branches) {
      std::string detail;
      if (b.contains("incident") && b["incident"].is_object()) {
        const auto& e = b["incident"].value("error", nlohmann::json::object());
        detail = fmt::format("{}: {}", e.value("code", "?"), e.value("message", ""));
      } else if (b.contains("child")) {
        detail = "child " + text(b, "child");
      } else if (b.contains("status")) {
        detail = text(b, "status");
      } else if (b.contains("match")) {
        detail = "match " + b["match"].dump();
      }
      table.add({text(b, "branch"), text(b, "state"), text(b, "step"), detail});
    }
    out += "branches\n" + table.render();
  }
  out += fmt::format("context      {}\n", r.value("context", nlohmann::json()).dump(2));
  return out;
}

std::string history_table(const nlohmann::json& events) {
  Table table({"SEQ", "AT", "EVENT", "STEP", "DETAILS"});
  for (const auto& e : events) {
    auto data = e.value("data", nlohmann::json());
    auto branch = text(e, "branch");
    table.add({text(e, "seq"), text(e, "at"), text(e, "type"),
               branch.empty() ? text(e, "step") : branch + " " + text(e, "step"),
               data.is_null() || data == nlohmann::json::object() ? "" : data.dump()});
  }
  return table.render();
}

}  // namespace rmaflow::cli
