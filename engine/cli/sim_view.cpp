#include "engine/cli/sim_view.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

namespace rmaflow::cli {

namespace {

constexpr std::int64_t kDayMs = 86'400'000;

std::string action_of(const Definition& d, const std::string& step, bool compensation) {
  const Step* s = d.find(step);
  const TaskStep* task = s ? s->task() : nullptr;
  if (task == nullptr) return "";
  if (compensation && task->compensate)
    return task->compensate->adapter + "." + task->compensate->operation;
  return task->adapter + "." + task->operation;
}

// One line for the events a reader of a simulation cares about; "" for the others.
std::string describe(const EventRow& e, const Definition& d) {
  auto data = nlohmann::json::parse(e.data, nullptr, false);
  auto text = [&](const char* key) { return data.value(key, std::string()); };
  switch (e.type) {
    case EventType::instance_started: return "started";
    case EventType::step_entered: {
      const Step* s = d.find(e.step);
      const auto* wait = s ? std::get_if<WaitStep>(&s->body) : nullptr;
      if (wait == nullptr) return "";
      if (wait->signal.empty()) return "waiting " + format_duration(wait->duration.value_or(Duration{}));
      return "waiting for " + wait->signal +
             (wait->timeout ? " (timeout " + format_duration(*wait->timeout) + ")" : "");
    }
    case EventType::step_completed: {
      if (data.contains("signal")) return "signal " + text("signal") + " consumed";
      if (data.value("timed_out", false)) return "timed out, to " + text("next");
      if (data.contains("waited")) return "waited " + text("waited");
      if (data.contains("next")) return "to " + text("next");
      if (data.contains("output")) {
        std::vector<std::string> keys;
        for (const auto& [key, value] : data["output"].items()) keys.push_back(key);
        return fmt::format("set {}", fmt::join(keys, ", "));
      }
      return action_of(d, e.step, false) + " ok";
    }
    case EventType::attempt_failed:
      return fmt::format("{} failed: {} (attempt {})", action_of(d, e.step, false),
                         data["error"].value("code", "?"), data.value("attempt", 0));
    case EventType::retry_scheduled: return "retry in " + text("delay");
    case EventType::catch_routed:
      return fmt::format("caught {}, to {}", data["error"].value("code", "?"), text("next"));
    case EventType::incident_opened:
      return fmt::format("suspended: {}: {}", data["error"].value("code", "?"),
                         data["error"].value("message", ""));
    case EventType::signal_received: return "signal " + text("signal") + " arrived";
    case EventType::compensation_started: return "compensating (" + text("reason") + ")";
    case EventType::compensation_step_completed: return "undone: " + action_of(d, e.step, true) + " ok";
    case EventType::instance_ended: return "ended " + text("status");
    default: return "";
  }
}

}  // namespace

std::string format_offset(Duration d) {
  auto ms = d.count();
  std::int64_t days = ms / kDayMs;
  ms %= kDayMs;
  auto hms = fmt::format("+{}d {:02}:{:02}:{:02}", days, ms / 3'600'000, ms / 60'000 % 60,
                         ms / 1000 % 60);
  return ms % 1000 == 0 ? hms : fmt::format("{}.{:03}", hms, ms % 1000);
}

std::string simulation_text(const Scenario& s, const Definition& d, const SimulationResult& r) {
  std::string out = fmt::format("scenario: {} ({} version {})\n", s.name, d.name, d.version);
  auto path = r.path();
  for (const auto& e : r.history) {
    auto line = describe(e, d);
    if (line.empty()) continue;
    // After compensating, the engine's row (and its last event) names the last step undone;
    // the end reads better at the end step the path reached.
    const std::string& step =
        e.type == EventType::instance_ended && !path.empty() ? path.back() : e.step;
    out += fmt::format("  {:>17}  {:<22} {}\n", format_offset(e.at - r.start), step, line);
  }
  out += fmt::format("path: {}\n", fmt::join(path, " > "));
  // A finished instance's row names the last step it touched (a compensated one, maybe);
  // the path says where it ended.
  std::string state = r.row.ended_at
                          ? fmt::format("{} after {}", to_string(r.row.status),
                                        format_offset(*r.row.ended_at - r.start).substr(1))
                          : fmt::format("{} at step {}, still at {}", to_string(r.row.status),
                                        r.row.step, format_offset(s.until).substr(1));
  auto wall = std::chrono::duration_cast<std::chrono::microseconds>(r.wall).count();
  out += fmt::format("status: {} of virtual time ({}.{:03} ms wall)\n", state, wall / 1000,
                     wall % 1000);
  auto compensated = r.compensated();
  out += fmt::format("compensations: {}\n",
                     compensated.empty() ? "none" : fmt::format("{}", fmt::join(compensated, ", ")));
  std::vector<std::string> effects, unscripted;
  for (const auto* c : r.effects()) effects.push_back(c->action);
  for (const auto& c : r.calls)
    if (!c.scripted && std::find(unscripted.begin(), unscripted.end(), c.action) == unscripted.end())
      unscripted.push_back(c.action);
  out += fmt::format("effects: {}\n", effects.empty() ? "none" : fmt::format("{}", fmt::join(effects, ", ")));
  if (!unscripted.empty())
    out += fmt::format("unscripted (answered {{}}): {}\n", fmt::join(unscripted, ", "));
  for (const auto& note : r.notes) out += "note: " + note + "\n";
  out += "context:\n" + r.row.context->dump(2) + "\n";
  return out;
}

nlohmann::ordered_json simulation_json(const Scenario& s, const Definition& d,
                                       const SimulationResult& r,
                                       const std::vector<Mismatch>& mismatches) {
  auto effects = nlohmann::ordered_json::array();
  for (const auto* c : r.effects()) {
    effects.push_back({{"at", format_offset(c->at - r.start)},
                       {"step", c->step},
                       {"action", c->action},
                       {"compensation", c->compensation},
                       {"input", c->input},
                       {"result", *c->outcome.result}});
  }
  auto failed = nlohmann::ordered_json::array();
  for (const auto& m : mismatches) failed.push_back({{"what", m.what}, {"lines", m.lines}});
  nlohmann::ordered_json out = {
      {"scenario", s.name},
      {"file", s.file},
      {"workflow", d.name},
      {"version", d.version},
      {"status", to_string(r.row.status)},
      {"step", r.row.step},
      {"ended_after", r.row.ended_at
                          ? nlohmann::ordered_json(format_offset(*r.row.ended_at - r.start))
                          : nlohmann::ordered_json(nullptr)},
      {"path", r.path()},
      {"compensated", r.compensated()},
      {"effects", std::move(effects)},
      {"notes", r.notes},
      {"context", r.row.context.get()},
      {"wall_ms", std::chrono::duration<double, std::milli>(r.wall).count()},
      {"expectations",
       {{"stated", s.expect.any()}, {"met", mismatches.empty()}, {"failed", failed}}}};
  return out;
}

std::string mismatches_text(const std::vector<Mismatch>& mismatches, const std::string& indent) {
  std::string out;
  for (const auto& m : mismatches) {
    if (m.lines.size() == 1) {
      out += fmt::format("{}{}: {}\n", indent, m.what, m.lines.front());
      continue;
    }
    out += fmt::format("{}{}:\n", indent, m.what);
    for (const auto& line : m.lines) out += fmt::format("{}  {}\n", indent, line);
  }
  return out;
}

}  // namespace rmaflow::cli
