// Reading the rows of rmaflow/store.hpp from a result row selected with their column list
// (row_columns.hpp), for both stores: `Columns` gives column i of the row as text(i),
// int64(i), real(i) and is_null(i). A corrupt JSON column throws Error(storage) naming the
// instance (state_codec.hpp).
#pragma once

#include <fmt/format.h>

#include <optional>

#include "engine/store/state_codec.hpp"
#include "rmaflow/errors.hpp"
#include "rmaflow/store.hpp"

namespace rmaflow::store {

template <class Columns>
std::optional<TimePoint> optional_time(const Columns& s, int i) {
  if (s.is_null(i)) return std::nullopt;
  return from_millis(s.int64(i));
}

template <class Columns>
DefinitionRow read_definition_columns(const Columns& s) {
  DefinitionRow row;
  row.name = s.text(0);
  row.version = static_cast<int>(s.int64(1));
  row.content_hash = s.text(2);
  row.source = s.text(3);
  row.input_schema = s.text(4);
  row.file = s.text(5);
  row.deployed_at = from_millis(s.int64(6));
  return row;
}

template <class Columns>
InstanceRow read_instance_columns(const Columns& s) {
  InstanceRow row;
  row.id = s.text(0);
  row.workflow = s.text(1);
  row.version = static_cast<int>(s.int64(2));
  row.status = static_cast<InstanceStatus>(s.int64(3));
  row.step = s.text(4);
  // The state columns, decoded and counted (InstanceRow::state_bytes).
  auto state = [&](int column, auto decode) {
    const auto text = s.text(column);
    row.state_bytes += text.size();
    return decode(text, row.id);
  };
  row.visits = state(5, decode_visits);
  {
    // Kept with its text: written back unchanged, it is not encoded again.
    std::string text(s.text(6));
    auto context = nlohmann::json::parse(text, nullptr, false);
    if (!context.is_object()) {
      throw Error(
          Errc::storage,
          fmt::format("instance {} has a corrupt context column: it is not a JSON object", row.id));
    }
    row.context = SharedJson(std::move(context), std::move(text));
  }
  row.business_key = s.text(7);
  row.correlation_id = s.text(8);
  row.input_hash = s.text(9);
  row.last_seq = s.int64(10);
  row.created_at = from_millis(s.int64(11));
  row.updated_at = from_millis(s.int64(12));
  row.ended_at = optional_time(s, 13);
  row.deadline = optional_time(s, 14);
  row.saga = state(15, decode_saga);
  row.cursors = state(16, decode_cursors);
  if (row.cursors.empty() || !row.cursors.front().branch.empty()) {
    throw Error(
        Errc::storage,
        fmt::format("instance {} has a corrupt cursors column: its main line is missing", row.id));
  }
  if (auto parent = s.text(17); !parent.empty()) {
    row.parent = ParentRef{parent, s.text(18), s.text(19)};
  }
  row.paused_at = optional_time(s, 20);
  return row;
}

template <class Columns>
EventRow read_event_columns(const Columns& s) {
  EventRow row;
  row.instance_id = s.text(0);
  row.seq = s.int64(1);
  row.type = static_cast<EventType>(s.int64(2));
  row.step = s.text(3);
  row.at = from_millis(s.int64(4));
  row.data = s.text(5);
  row.branch = s.text(6);
  return row;
}

template <class Columns>
TimerRow read_timer_columns(const Columns& s) {
  TimerRow row;
  row.instance_id = s.text(0);
  row.branch = s.text(1);
  row.name = s.text(2);
  row.due = from_millis(s.int64(3));
  return row;
}

template <class Columns>
SignalRow read_signal_columns(const Columns& s) {
  SignalRow row;
  row.seq = s.int64(0);
  row.instance_id = s.text(1);
  row.name = s.text(2);
  row.idempotency_key = s.text(3);
  row.payload = s.text(4);
  row.received_at = from_millis(s.int64(5));
  row.consumed_at = optional_time(s, 6);
  if (auto match = s.text(7); !match.empty()) {
    row.match = nlohmann::json::parse(match, nullptr, false);
    if (row.match.is_discarded()) row.match = nullptr;
  }
  return row;
}

template <class Columns>
CommandRow read_command_columns(const Columns& s) {
  CommandRow row;
  row.id = s.int64(0);
  row.instance_id = s.text(1);
  row.kind = s.text(2);
  row.body = s.text(3);
  row.created_at = from_millis(s.int64(4));
  row.applied_at = optional_time(s, 5);
  row.outcome = s.text(6);
  return row;
}

template <class Columns>
JobRow read_job_columns(const Columns& s) {
  JobRow row;
  row.id = s.text(0);
  row.action = s.text(1);
  row.filter = filter_from_json(nlohmann::json::parse(s.text(2)));
  row.args = nlohmann::json::parse(s.text(3));
  row.actor = s.text(4);
  row.reason = s.text(5);
  row.per_second = s.real(6);
  row.state = parse_job_state(s.text(7)).value_or(JobState::cancelled);
  row.created_at = from_millis(s.int64(8));
  row.updated_at = from_millis(s.int64(9));
  row.ended_at = optional_time(s, 10);
  row.cursor = s.text(11);
  row.applied = s.int64(12);
  row.refused = s.int64(13);
  row.cancelled_by = s.text(14);
  row.cancel_reason = s.text(15);
  row.dealt = s.int64(16);
  return row;
}

template <class Columns>
JobItemRow read_job_item_columns(const Columns& s) {
  JobItemRow row;
  row.job_id = s.text(0);
  row.instance_id = s.text(1);
  row.applied = s.int64(2) != 0;
  row.detail = s.text(3);
  row.at = from_millis(s.int64(4));
  return row;
}

}  // namespace rmaflow::store
