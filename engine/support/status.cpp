#include "rmaflow/status.hpp"

#include "engine/support/name_table.hpp"

#include <array>
#include <utility>

namespace rmaflow {

namespace {

constexpr NameTable<InstanceStatus, 10> kStatuses{{
    {InstanceStatus::running, "running"},
    {InstanceStatus::waiting, "waiting"},
    {InstanceStatus::suspended, "suspended"},
    {InstanceStatus::compensating, "compensating"},
    {InstanceStatus::completed, "completed"},
    {InstanceStatus::rejected, "rejected"},
    {InstanceStatus::expired, "expired"},
    {InstanceStatus::cancelled, "cancelled"},
    {InstanceStatus::failed, "failed"},
    {InstanceStatus::compensated, "compensated"},
}};

constexpr NameTable<EventType, 25> kEvents{{
    {EventType::instance_started, "instance_started"},
    {EventType::step_entered, "step_entered"},
    {EventType::attempt_started, "attempt_started"},
    {EventType::step_completed, "step_completed"},
    {EventType::attempt_failed, "attempt_failed"},
    {EventType::retry_scheduled, "retry_scheduled"},
    {EventType::catch_routed, "catch_routed"},
    {EventType::incident_opened, "incident_opened"},
    {EventType::instance_ended, "instance_ended"},
    {EventType::signal_received, "signal_received"},
    {EventType::signal_consumed, "signal_consumed"},
    {EventType::timer_set, "timer_set"},
    {EventType::timer_fired, "timer_fired"},
    {EventType::compensation_started, "compensation_started"},
    {EventType::compensation_step_completed, "compensation_step_completed"},
    {EventType::compensation_finished, "compensation_finished"},
    {EventType::attempt_reinvoked, "attempt_reinvoked"},
    {EventType::operator_action, "operator_action"},
    {EventType::incident_resolved, "incident_resolved"},
    {EventType::command_refused, "command_refused"},
    {EventType::branches_started, "branches_started"},
    {EventType::branch_started, "branch_started"},
    {EventType::branch_ended, "branch_ended"},
    {EventType::child_started, "child_started"},
    {EventType::child_ended, "child_ended"},
}};

}  // namespace

std::string_view to_string(InstanceStatus s) { return name_of(kStatuses, s); }

std::optional<InstanceStatus> parse_instance_status(std::string_view s) {
  return value_of(kStatuses, s);
}

std::string_view to_string(Phase p) {
  switch (p) {
    case Phase::idle: return "idle";
    case Phase::invoking: return "invoking";
    case Phase::backoff: return "backoff";
    case Phase::waiting: return "waiting";
    case Phase::joining: return "joining";
    case Phase::calling: return "calling";
    case Phase::pending: return "pending";
    case Phase::ended: return "ended";
    case Phase::held: return "held";
  }
  return "unknown";
}

std::string_view to_string(EventType t) { return name_of(kEvents, t); }

std::optional<EventType> parse_event_type(std::string_view s) { return value_of(kEvents, s); }

std::span<const EventType> all_event_types() {
  static const auto kAll = [] {
    std::array<EventType, kEvents.size()> all{};
    for (std::size_t i = 0; i < kEvents.size(); ++i) all[i] = kEvents[i].first;
    return all;
  }();
  return kAll;
}

}  // namespace rmaflow
