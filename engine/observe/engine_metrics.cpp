#include "engine/observe/engine_metrics.hpp"

#include <array>
#include <type_traits>

#include <fmt/format.h>

#include "engine/observe/instance_index.hpp"

namespace rmaflow::observe {

namespace {

// A channel label comes from outside (the RMA's input): only short plain words are labels, and
// only so many per milestone, so that hostile input cannot grow /metrics without bound.
constexpr std::size_t kMaxChannelBytes = 32;
constexpr std::size_t kMaxChannels = 16;

bool plain_word(std::string_view s) {
  if (s.empty() || s.size() > kMaxChannelBytes) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

double seconds_between(TimePoint from, TimePoint to) {
  return std::chrono::duration<double>(to - from).count();
}

// The error code of an attempt_failed event's data.
std::string error_code(std::string_view data) {
  auto parsed = nlohmann::json::parse(data, nullptr, false);
  if (!parsed.is_object()) return "unknown";
  auto error = parsed.find("error");
  if (error == parsed.end() || !error->is_object()) return "unknown";
  auto code = error->value("code", std::string("unknown"));
  return plain_word(code) ? code : "other";
}

}  // namespace

EngineMetrics::EngineMetrics(DefinitionLookup definitions) : definitions_(std::move(definitions)) {}

void EngineMetrics::observe(const CommitFacts& facts) {
  std::lock_guard lock(mu_);
  commit_seconds_.observe(std::chrono::duration<double>(facts.took()).count());
  commit_events_.observe(static_cast<double>(facts.events_committed()));
  const auto& rows = facts.rows();
  for (const auto& e : facts.events()) observe(facts.view(rows[e.row]), facts.view(e));
  for (const auto& r : rows) {
    if (!held_in_memory(r.status)) {
      if (auto it = open_.find(facts.text(r.id)); it != open_.end()) open_.erase(it);
    }
  }
}

ById<EngineMetrics::Open>& EngineMetrics::branches_of(std::string_view instance_id) {
  auto instance = open_.find(instance_id);
  if (instance == open_.end())
    instance = open_.emplace(std::string(instance_id), ById<Open>{}).first;
  return instance->second;
}

void EngineMetrics::observe(const RowView& row, const EventView& event) {
  switch (event.type) {
    case EventType::step_entered: {
      auto& branches = branches_of(event.instance_id);
      auto open = branches.find(event.branch);
      if (open == branches.end()) open = branches.emplace(std::string(event.branch), Open{}).first;
      open->second = Open{std::string(event.step), event.at, std::nullopt};
      break;
    }
    case EventType::attempt_started: {
      auto& branches = branches_of(event.instance_id);
      if (auto open = branches.find(event.branch); open != branches.end()) {
        open->second.attempt = event.at;
      } else {  // resumed after a restart: the step's start is not known, the attempt's is
        branches.emplace(std::string(event.branch),
                         Open{std::string(event.step), event.at, event.at});
      }
      break;
    }
    case EventType::step_completed:
      call_ended(row, event, "ok");
      step_ended(row, event, "completed");
      // A wait left by its timeout did not reach what it waited for.
      if (event.branch.empty() && !event.timed_out) milestone(row, event);
      break;
    case EventType::compensation_step_completed:
      call_ended(row, event, "ok");
      break;
    case EventType::attempt_failed:
      call_ended(row, event, "error");
      ++adapter_errors_[{std::string(row.workflow), std::string(event.step),
                         error_code(event.data)}];
      break;
    case EventType::catch_routed:
      step_ended(row, event, "caught");
      break;
    case EventType::incident_opened:
      step_ended(row, event, "incident");
      break;
    case EventType::instance_ended:
      milestone(row, event);
      break;
    default:
      break;
  }
}

void EngineMetrics::step_ended(const RowView& row, const EventView& event, const char* outcome) {
  auto instance = open_.find(event.instance_id);
  if (instance == open_.end()) return;
  auto open = instance->second.find(event.branch);
  if (open == instance->second.end() || open->second.step != event.step) return;
  step_seconds_
      .try_emplace({std::string(row.workflow), std::string(event.step), outcome}, latency_buckets())
      .first->second.observe(seconds_between(open->second.entered, event.at));
  instance->second.erase(open);
}

void EngineMetrics::call_ended(const RowView& row, const EventView& event, const char* outcome) {
  auto instance = open_.find(event.instance_id);
  if (instance == open_.end()) return;
  auto open = instance->second.find(event.branch);
  if (open == instance->second.end() || !open->second.attempt) return;
  call_seconds_
      .try_emplace({std::string(row.workflow), std::string(event.step), outcome}, latency_buckets())
      .first->second.observe(seconds_between(*open->second.attempt, event.at));
  open->second.attempt.reset();
}

void EngineMetrics::milestone(const RowView& row, const EventView& event) {
  if (!definitions_) return;
  std::string workflow(row.workflow);
  auto definition = definitions_(workflow, row.version);
  if (!definition) return;
  for (const auto& m : definition->milestones) {
    if (m.step != event.step) continue;
    if (event.visits > 1) continue;  // reached before
    milestone_seconds_
        .try_emplace({workflow, m.name, channel_of(row, workflow, m.name)}, milestone_buckets())
        .first->second.observe(seconds_between(row.created_at, event.at));
  }
}

std::string EngineMetrics::channel_of(const RowView& row, const std::string& workflow,
                                      const std::string& milestone) {
  std::string channel = "none";
  if (row.has_channel) {
    channel = plain_word(row.channel) ? std::string(row.channel) : "other";
  }
  if (milestone_seconds_.count({workflow, milestone, channel}) > 0) return channel;
  auto& known = channels_[{workflow, milestone}];
  if (known >= kMaxChannels) return "other";
  ++known;
  return channel;
}

namespace {

// A family of samples keyed by three label values, named by `names`: histograms, or counters.
template <typename Value>
void write_series(std::string& out, const char* name, const char* type, const char* help,
                  const std::map<std::tuple<std::string, std::string, std::string>, Value>& series,
                  const std::array<const char*, 3>& names) {
  write_family(out, name, type, help);
  for (const auto& [key, value] : series) {
    const auto& [a, b, c] = key;
    auto label_text = labels({{names[0], a}, {names[1], b}, {names[2], c}});
    if constexpr (std::is_same_v<Value, Histogram>) {
      value.write(out, name, label_text);
    } else {
      out += fmt::format("{}{{{}}} {}\n", name, label_text, value);
    }
  }
}

}  // namespace

void EngineMetrics::write(std::string& out) const {
  std::lock_guard lock(mu_);
  write_family(out, "rmaflow_commit_duration_seconds", "histogram",
               "How long the engine's commits took (one transaction of many transitions).");
  commit_seconds_.write(out, "rmaflow_commit_duration_seconds", "");
  write_family(out, "rmaflow_commit_events", "histogram", "Transitions per commit.");
  commit_events_.write(out, "rmaflow_commit_events", "");
  write_series(out, "rmaflow_step_duration_seconds", "histogram",
               "From entering a step to its end (completed, caught, incident), by workflow, step "
               "and outcome; engine time, retries included.",
               step_seconds_, {"workflow", "step", "outcome"});
  write_series(out, "rmaflow_adapter_call_duration_seconds", "histogram",
               "From an attempt's start to its outcome (ok, error), by workflow and step.",
               call_seconds_, {"workflow", "step", "outcome"});
  write_series(out, "rmaflow_adapter_errors_total", "counter",
               "Failed attempts by workflow, step and error code.", adapter_errors_,
               {"workflow", "step", "code"});
  write_series(out, "rmaflow_milestone_seconds", "histogram",
               "From an instance's start to a business milestone its workflow declares "
               "(milestones:), by workflow, milestone and the RMA's channel; engine time.",
               milestone_seconds_, {"workflow", "milestone", "channel"});
}

}  // namespace rmaflow::observe
