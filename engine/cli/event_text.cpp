#include "engine/cli/event_text.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdlib>

#include <fmt/format.h>

#include "rmaflow/status.hpp"

namespace rmaflow::cli {

namespace {

std::string error_text(const nlohmann::json& data) {
  auto error = data.value("error", nlohmann::json::object());
  if (!error.is_object()) return "?";
  return fmt::format("{}: {}", error.value("code", "?"), error.value("message", ""));
}

std::string value_text(const nlohmann::json& data, const char* key) {
  auto it = data.find(key);
  return it == data.end() ? "" : it->dump();
}

std::string event_words(EventType type, const nlohmann::json& d) {
  switch (type) {
    case EventType::instance_started:
      return fmt::format("workflow {} version {}{}", json_text(d, "workflow"), json_text(d, "version"),
                         json_text(d, "business_key").empty() ? "" : ", key " + json_text(d, "business_key"));
    case EventType::step_entered:
      return fmt::format("visit {}{}", json_text(d, "visit"),
                         d.contains("input") ? ", input " + value_text(d, "input") : "");
    case EventType::attempt_started:
      return fmt::format("{}attempt {}, key {}", d.value("compensation", false) ? "undo " : "",
                         json_text(d, "attempt"), json_text(d, "idempotency_key"));
    case EventType::attempt_reinvoked:
      return fmt::format("{}attempt {} called again after a restart, key {}",
                         d.value("compensation", false) ? "undo " : "", json_text(d, "attempt"),
                         json_text(d, "idempotency_key"));
    case EventType::attempt_failed:
      return fmt::format("attempt {} failed: {}", json_text(d, "attempt"), error_text(d));
    case EventType::retry_scheduled:
      return fmt::format("attempt {} in {} (at {})", json_text(d, "attempt"), json_text(d, "delay"), json_text(d, "due"));
    case EventType::step_completed:
      if (d.value("skipped", false)) return "skipped by an operator, result " + value_text(d, "result");
      if (d.contains("signal")) return fmt::format("signal {} taken, result {}", json_text(d, "signal"), value_text(d, "result"));
      if (d.value("timed_out", false)) return "timed out, to " + json_text(d, "next");
      if (d.contains("waited")) return "waited " + json_text(d, "waited");
      if (d.contains("next")) return "to " + json_text(d, "next");
      if (d.contains("output")) return "set " + value_text(d, "output");
      return "done, result " + value_text(d, "result");
    case EventType::catch_routed:
      return fmt::format("{} caught, to {}", error_text(d), json_text(d, "next"));
    case EventType::incident_opened:
      return fmt::format("suspended{}: {} (after {} attempt(s))",
                         d.value("compensating", false) ? " while compensating" : "", error_text(d),
                         json_text(d, "attempts"));
    case EventType::instance_ended: return "ended " + json_text(d, "status");
    case EventType::signal_received:
      return fmt::format("signal {} received (key {}), payload {}", json_text(d, "signal"),
                         json_text(d, "idempotency_key"), value_text(d, "payload"));
    case EventType::signal_consumed: return fmt::format("signal {} consumed", json_text(d, "signal"));
    case EventType::timer_set: return fmt::format("{} timer due {}", json_text(d, "timer"), json_text(d, "due"));
    case EventType::timer_fired: return fmt::format("{} timer fired", json_text(d, "timer"));
    case EventType::compensation_started:
      return fmt::format("undoing {} ({}), then {}", json_text(d, "steps"), json_text(d, "reason"), json_text(d, "then"));
    case EventType::compensation_step_completed: return "undone, result " + value_text(d, "result");
    case EventType::compensation_finished: return "compensation done, then " + json_text(d, "then");
    case EventType::operator_action: {
      auto before = d.value("before", nlohmann::json::object());
      auto after = d.value("after", nlohmann::json::object());
      auto args = d.value("args", nlohmann::json::object());
      return fmt::format("{} by {}: {}{} ({} at {} -> {} at {})", json_text(d, "action"), json_text(d, "actor"),
                         json_text(d, "reason"),
                         args.is_object() && !args.empty() ? ", " + args.dump() : "",
                         json_text(before, "status"), json_text(before, "step"), json_text(after, "status"),
                         json_text(after, "step"));
    }
    case EventType::incident_resolved:
      return fmt::format("resolved by {}: {}", json_text(d, "actor"), json_text(d, "reason"));
    case EventType::branches_started:
      return fmt::format("branches {}{}", value_text(d, "keys"),
                         d.contains("concurrency") && d["concurrency"].is_number_integer() &&
                                 d["concurrency"].get<int>() > 0
                             ? ", at most " + json_text(d, "concurrency") + " at once"
                             : "");
    case EventType::branch_started: return fmt::format("branch {} began", json_text(d, "key"));
    case EventType::branch_ended:
      return d.contains("error") ? "branch failed: " + error_text(d)
                                 : fmt::format("branch ended {}", json_text(d, "status"));
    case EventType::child_started:
      return fmt::format("child {} started (workflow {} version {})", json_text(d, "child"),
                         json_text(d, "workflow"), json_text(d, "version"));
    case EventType::child_ended:
      return fmt::format("child {} ended {}", json_text(d, "child"), json_text(d, "status"));
    case EventType::command_refused:
      return fmt::format("queued command {} ({}{}) refused: {}", json_text(d, "command"), json_text(d, "kind"),
                         d.contains("actor") ? " by " + json_text(d, "actor") : "", json_text(d, "reason"));
  }
  return d.dump();
}

}  // namespace

std::string json_text(const nlohmann::json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return "";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

std::string event_summary(const nlohmann::json& event) {
  auto data = event.value("data", nlohmann::json::object());
  if (!data.is_object()) data = nlohmann::json::object();
  auto type = parse_event_type(event.value("type", std::string()));
  if (!type) return data.dump();
  return event_words(*type, data);
}

std::string fit(const std::string& line, std::size_t width) {
  if (width == 0 || line.size() <= width) return line;
  std::size_t cut = width > 3 ? width - 3 : 0;
  // Not inside a UTF-8 character: back up over continuation bytes.
  while (cut > 0 && (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80) --cut;
  return line.substr(0, cut) + "...";
}

std::size_t terminal_width() {
  winsize size{};
  if (::isatty(STDOUT_FILENO) && ::ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) {
    return size.ws_col;
  }
  if (const char* columns = std::getenv("COLUMNS")) {
    char* end = nullptr;
    long n = std::strtol(columns, &end, 10);
    if (end != columns && *end == '\0' && n > 0) return static_cast<std::size_t>(n);
  }
  return 120;
}

}  // namespace rmaflow::cli
