#include "engine/cli/instance_view.hpp"

#include <algorithm>
#include <iterator>

#include <fmt/format.h>

#include "engine/api/views.hpp"
#include "engine/cli/event_text.hpp"
#include "engine/cli/table.hpp"

namespace rmaflow::cli {

namespace {

// A field as the terminal shows it: outside data, so its control characters as escapes.
std::string text(const nlohmann::json& j, const char* key) { return printable(json_text(j, key)); }

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

std::string format_age(Duration age) {
  struct Unit {
    std::int64_t seconds;
    char suffix;
  };
  static constexpr Unit kUnits[] = {{86400, 'd'}, {3600, 'h'}, {60, 'm'}, {1, 's'}};
  auto left = std::max<std::int64_t>(0, age.count() / 1000);
  for (std::size_t i = 0; i < std::size(kUnits); ++i) {
    if (left < kUnits[i].seconds && i + 1 < std::size(kUnits)) continue;
    std::string out = fmt::format("{}{}", left / kUnits[i].seconds, kUnits[i].suffix);
    auto rest = left % kUnits[i].seconds;
    if (i + 1 < std::size(kUnits) && rest / kUnits[i + 1].seconds > 0) {
      out += fmt::format("{}{}", rest / kUnits[i + 1].seconds, kUnits[i + 1].suffix);
    }
    return out;
  }
  return "0s";
}

namespace {

// How long ago `time` (an RFC 3339 text) was, as of `now`; "-" when it is not a time.
std::string age_of(const std::string& time, TimePoint now) {
  auto t = parse_time(time);
  return t ? format_age(now - *t) : "-";
}

// "2026-11-28 09:12" of an RFC 3339 UTC text, to the minute; "-" when it is not one.
std::string minute_of(const std::string& time) {
  if (!parse_time(time) || time.size() < 16) return "-";
  return time.substr(0, 10) + " " + time.substr(11, 5);
}

}  // namespace

std::string instances_table(const nlohmann::json& items, bool reasons, TimePoint now) {
  std::vector<std::string> header = {"ID", "WORKFLOW", "KEY", "STATUS", "STEP", "AGE"};
  if (reasons) {
    header.insert(header.end(), {"STUCK SINCE", "REASON"});
  } else {
    header.push_back("NOTE");
  }
  Table table(std::move(header));
  for (const auto& r : items) {
    auto status = text(r, "status");
    std::vector<std::string> row = {
        text(r, "id"),   fmt::format("{}@{}", text(r, "workflow"), text(r, "version")),
        or_dash(text(r, "business_key")), status, text(r, "step"),
        age_of(text(r, "created_at"), now)};
    if (reasons) {
      row.push_back(minute_of(text(r, "stuck_since")));
      row.push_back(text(r, "reason"));
    } else {
      std::string note = status == "suspended" ? incident_summary(r) : "";
      if (auto paused = text(r, "paused_at"); !paused.empty()) {
        note = fmt::format("paused since {}{}{}", minute_of(paused), note.empty() ? "" : "; ", note);
      }
      row.push_back(std::move(note));
    }
    table.add(std::move(row));
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
  if (auto w = r.value("waiting_for", nlohmann::json()); w.is_object()) {
    auto until = text(w, "until");
    if (w.contains("signal")) {
      auto then = text(w, "then");
      out += fmt::format("waiting for  signal {}{}{}\n", text(w, "signal"),
                         until.empty() ? " (no timeout)" : " until " + until,
                         then.empty()        ? ""
                         : then == "Timeout" ? ", then fails with Timeout"
                                             : ", then goes to " + then);
    } else if (w.contains("duration")) {
      out += fmt::format("waiting      {}, until {}\n", text(w, "duration"), until);
    } else if (w.contains("retry")) {
      out += fmt::format("retry        attempt {} at {}\n", text(w, "retry"), until);
    }
  }
  out += fmt::format("business key {}\n", or_dash(text(r, "business_key")));
  out += fmt::format("correlation  {}\n", text(r, "correlation_id"));
  out += fmt::format("created      {}\n", text(r, "created_at"));
  out += fmt::format("updated      {}\n", text(r, "updated_at"));
  if (auto ended = text(r, "ended_at"); !ended.empty()) out += fmt::format("ended        {}\n", ended);
  if (auto paused = text(r, "paused_at"); !paused.empty()) {
    out += fmt::format("paused       since {}: no step begins and no timer fires until it is resumed\n",
                       paused);
  }
  if (auto attributes = r.value("attributes", nlohmann::json::object()); !attributes.empty()) {
    std::string fields;
    for (const auto& [name, value] : attributes.items()) {
      fields += fmt::format("{}{}={}", fields.empty() ? "" : ", ", name,
                            value.is_string() ? value.get<std::string>() : value.dump());
    }
    out += fmt::format("attributes   {}\n", printable(fields));
  }
  if (r.contains("parent") && r["parent"].is_object()) {
    const auto& p = r["parent"];
    out += fmt::format("parent       {} (step {}{})\n", text(p, "instance_id"), text(p, "step"),
                       text(p, "branch").empty() ? "" : ", branch " + text(p, "branch"));
  }
  for (const auto& incident : r.value("incidents", nlohmann::json::array())) {
    out += fmt::format("incident     {}\n", printable(incident.dump(2)));
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
        detail = "match " + b["match"].dump();  // the table makes it printable
      }
      table.add({text(b, "branch"), text(b, "state"), text(b, "step"), detail});
    }
    out += "branches\n" + table.render();
  }
  // JSON escapes C0 controls but not C1 ones; printable() writes those as \u escapes, which
  // keeps the text valid JSON.
  out += fmt::format("context      {}\n", printable(r.value("context", nlohmann::json()).dump(2)));
  return out;
}

std::string history_table(const nlohmann::json& events, std::size_t width) {
  Table table({"SEQ", "AT (UTC)", "EVENT", "STEP", "WHAT HAPPENED"});
  for (const auto& e : events) {
    auto at = text(e, "at");
    if (at.size() >= 19) at = at.substr(0, 10) + " " + at.substr(11, 8);  // 2026-11-30 11:20:49
    auto branch = text(e, "branch");
    table.add({text(e, "seq"), at, text(e, "type"),
               branch.empty() ? text(e, "step") : branch + " " + text(e, "step"),
               event_summary(e)});
  }
  std::string out;
  std::string rendered = table.render();
  std::size_t start = 0;
  while (start < rendered.size()) {
    auto end = rendered.find('\n', start);
    out += fit(rendered.substr(start, end - start), width) + '\n';
    start = end + 1;
  }
  return out;
}

}  // namespace rmaflow::cli
