#include "engine/store/row_codec.hpp"

#include <fmt/format.h>

#include <optional>

#include "engine/store/row_readers.hpp"
#include "rmaflow/errors.hpp"

namespace rmaflow::store {

namespace {

// A SQLite statement's current row, as row_readers.hpp reads it.
struct SqliteColumns {
  const SQLite::Statement& s;
  std::string text(int i) const { return s.getColumn(i).getString(); }
  std::int64_t int64(int i) const { return s.getColumn(i).getInt64(); }
  double real(int i) const { return s.getColumn(i).getDouble(); }
  bool is_null(int i) const { return s.getColumn(i).isNull(); }
};

void bind_time(SQLite::Statement& s, int i, TimePoint t) {
  s.bind(i, static_cast<std::int64_t>(to_millis(t)));
}

void bind_optional_time(SQLite::Statement& s, int i, const std::optional<TimePoint>& t) {
  if (t) {
    bind_time(s, i, *t);
  } else {
    s.bind(i);  // NULL
  }
}

}  // namespace

const std::string& sqlite_instance_columns() {
  static const std::string columns = [] {
    std::string list;
    for (auto column : split_columns(kInstanceColumns)) {
      if (!list.empty()) list += ", ";
      if (column == kContextColumn) {
        list += "(SELECT c.context FROM instance_contexts AS c WHERE c.instance_id = instances.id)";
      } else {
        list += column;
      }
    }
    return list;
  }();
  return columns;
}

DefinitionRow read_definition(const SQLite::Statement& s) {
  return read_definition_columns(SqliteColumns{s});
}

InstanceRow read_instance(const SQLite::Statement& s) {
  return read_instance_columns(SqliteColumns{s});
}

EventRow read_event(const SQLite::Statement& s) {
  return read_event_columns(SqliteColumns{s});
}

TimerRow read_timer(const SQLite::Statement& s) {
  return read_timer_columns(SqliteColumns{s});
}

SignalRow read_signal(const SQLite::Statement& s) {
  return read_signal_columns(SqliteColumns{s});
}

CommandRow read_command(const SQLite::Statement& s) {
  return read_command_columns(SqliteColumns{s});
}

JobRow read_job(const SQLite::Statement& s) {
  return read_job_columns(SqliteColumns{s});
}

JobItemRow read_job_item(const SQLite::Statement& s) {
  return read_job_item_columns(SqliteColumns{s});
}

void bind_definition(SQLite::Statement& s, const DefinitionRow& row) {
  s.bindNoCopy(1, row.name);
  s.bind(2, row.version);
  s.bindNoCopy(3, row.content_hash);
  s.bindNoCopy(4, row.source);
  s.bindNoCopy(5, row.input_schema);
  s.bindNoCopy(6, row.file);
  bind_time(s, 7, row.deployed_at);
}

void bind_instance(SQLite::Statement& s, const InstanceRow& row, const EncodedInstance& encoded) {
  static const std::string kNone;
  s.bindNoCopy(1, row.id);
  s.bindNoCopy(2, row.workflow);
  s.bind(3, row.version);
  s.bind(4, static_cast<int>(row.status));
  s.bindNoCopy(5, row.step);
  s.bindNoCopy(6, encoded.visits.get());
  // 7: the context, in instance_contexts.
  s.bindNoCopy(8, row.business_key);
  s.bindNoCopy(9, row.correlation_id);
  s.bindNoCopy(10, row.input_hash);
  s.bind(11, static_cast<std::int64_t>(row.last_seq));
  bind_time(s, 12, row.created_at);
  bind_time(s, 13, row.updated_at);
  bind_optional_time(s, 14, row.ended_at);
  bind_optional_time(s, 15, row.deadline);
  s.bindNoCopy(16, encoded.saga.get());
  s.bindNoCopy(17, encoded.cursors.get());
  s.bindNoCopy(18, row.parent ? row.parent->instance_id : kNone);
  s.bindNoCopy(19, row.parent ? row.parent->step : kNone);
  s.bindNoCopy(20, row.parent ? row.parent->branch : kNone);
  bind_optional_time(s, 21, row.paused_at);
}

void bind_event(SQLite::Statement& s, const EventRow& row, int first) {
  s.bindNoCopy(first, row.instance_id);
  s.bind(first + 1, static_cast<std::int64_t>(row.seq));
  s.bind(first + 2, static_cast<int>(row.type));
  s.bindNoCopy(first + 3, row.step);
  bind_time(s, first + 4, row.at);
  s.bindNoCopy(first + 5, row.data);
  s.bindNoCopy(first + 6, row.branch);
}

void bind_timer(SQLite::Statement& s, const TimerRow& row) {
  s.bindNoCopy(1, row.instance_id);
  s.bindNoCopy(2, row.branch);
  s.bindNoCopy(3, row.name);
  bind_time(s, 4, row.due);
}

std::string match_text(const nlohmann::json& match) {
  return match.is_null() ? std::string() : match.dump();
}

void bind_signal(SQLite::Statement& s, const SignalRow& row, const std::string& match) {
  s.bindNoCopy(1, row.instance_id);
  s.bindNoCopy(2, row.name);
  s.bindNoCopy(3, row.idempotency_key);
  s.bindNoCopy(4, row.payload);
  bind_time(s, 5, row.received_at);
  bind_optional_time(s, 6, row.consumed_at);
  s.bindNoCopy(7, match);
}

void bind_command(SQLite::Statement& s, const CommandRow& row) {
  s.bindNoCopy(1, row.instance_id);
  s.bindNoCopy(2, row.kind);
  s.bindNoCopy(3, row.body);
  bind_time(s, 4, row.created_at);
  bind_optional_time(s, 5, row.applied_at);
  s.bindNoCopy(6, row.outcome);
}

EncodedJob encode_job(const JobRow& row) {
  return {filter_to_json(row.filter).dump(), row.args.dump()};
}

void bind_job(SQLite::Statement& s, const JobRow& row, const EncodedJob& encoded) {
  s.bindNoCopy(1, row.id);
  s.bindNoCopy(2, row.action);
  s.bindNoCopy(3, encoded.filter);
  s.bindNoCopy(4, encoded.args);
  s.bindNoCopy(5, row.actor);
  s.bindNoCopy(6, row.reason);
  s.bind(7, row.per_second);
  s.bind(8, std::string(to_string(row.state)));
  bind_time(s, 9, row.created_at);
  bind_time(s, 10, row.updated_at);
  bind_optional_time(s, 11, row.ended_at);
  s.bindNoCopy(12, row.cursor);
  s.bind(13, 0);  // the tallies are counted from the items (JobRow::applied)
  s.bind(14, 0);
  s.bindNoCopy(15, row.cancelled_by);
  s.bindNoCopy(16, row.cancel_reason);
  s.bind(17, row.dealt);
}

void bind_job_item(SQLite::Statement& s, const JobItemRow& row) {
  s.bindNoCopy(1, row.job_id);
  s.bindNoCopy(2, row.instance_id);
  s.bind(3, row.applied ? 1 : 0);
  s.bindNoCopy(4, row.detail);
  bind_time(s, 5, row.at);
}

void bind_signal_consumed(SQLite::Statement& s, const SignalConsumed& row) {
  bind_time(s, 1, row.at);
  s.bindNoCopy(2, row.instance_id);
  s.bindNoCopy(3, row.idempotency_key);
}

void bind_command_done(SQLite::Statement& s, const CommandDone& row) {
  bind_time(s, 1, row.applied_at);
  s.bindNoCopy(2, row.outcome);
  s.bind(3, static_cast<std::int64_t>(row.id));
}

void bind_attribute_value(SQLite::Statement& s, int index, const nlohmann::json& value) {
  if (value.is_number_integer()) {
    s.bind(index, value.get<std::int64_t>());
  } else if (value.is_number()) {
    s.bind(index, value.get<double>());
  } else if (value.is_boolean()) {
    s.bind(index, value.get<bool>() ? "true" : "false");
  } else {
    s.bind(index, value.is_string() ? value.get<std::string>() : value.dump());
  }
}

}  // namespace rmaflow::store
