// The column list of each row type of rmaflow/store.hpp: one list per table, used for SELECT
// and INSERT alike and shared by both stores (row_codec.hpp for SQLite, pg_rows.hpp for
// PostgreSQL), whose readers and binders follow its order.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace rmaflow::store {

// The names of a comma-separated column list, in order.
inline std::vector<std::string_view> split_columns(std::string_view columns) {
  std::vector<std::string_view> names;
  while (!columns.empty()) {
    auto comma = columns.find(',');
    auto column = columns.substr(0, comma);
    while (!column.empty() && column.front() == ' ') column.remove_prefix(1);
    names.push_back(column);
    columns = comma == std::string_view::npos ? std::string_view() : columns.substr(comma + 1);
  }
  return names;
}

// "a = excluded.a, b = excluded.b" for the comma-separated `columns`: the SET of an upsert
// (INSERT ... ON CONFLICT DO UPDATE) that takes each of them from the row being written, in
// both stores' SQL.
inline std::string set_from_excluded(std::string_view columns) {
  std::string set;
  for (auto column : split_columns(columns)) {
    if (!set.empty()) set += ", ";
    set.append(column).append(" = excluded.").append(column);
  }
  return set;
}

inline constexpr const char* kDefinitionColumns =
    "name, version, content_hash, source, input_schema, file, deployed_at";
inline constexpr int kDefinitionColumnCount = 7;

inline constexpr const char* kInstanceColumns =
    "id, workflow, version, status, step, visits, context, business_key, correlation_id, "
    "input_hash, last_seq, created_at, updated_at, ended_at, deadline, saga, cursors, "
    "parent_id, parent_step, parent_branch, paused_at";
inline constexpr int kInstanceColumnCount = 21;
// What a write of an instance's row over the stored one sets: every column but the key (a row
// is replaced whole). PostgreSQL's; SQLite's leaves the context out, to instance_contexts
// (batch_writer.cpp).
inline constexpr const char* kInstanceUpdatedColumns =
    "workflow, version, status, step, visits, context, business_key, correlation_id, "
    "input_hash, last_seq, created_at, updated_at, ended_at, deadline, saga, cursors, "
    "parent_id, parent_step, parent_branch, paused_at";

inline constexpr const char* kEventColumns = "instance_id, seq, type, step, at, data, branch";
inline constexpr int kEventColumnCount = 7;

inline constexpr const char* kTimerColumns = "instance_id, branch, name, due";
inline constexpr int kTimerColumnCount = 4;

// Signals and commands get their key (seq, id) from the database on insert, so their column lists
// leave it out; their readers expect it first: SELECT seq, <kSignalColumns> ...
inline constexpr const char* kSignalColumns =
    "instance_id, name, idempotency_key, payload, received_at, consumed_at, match";
inline constexpr int kSignalColumnCount = 7;

inline constexpr const char* kCommandColumns =
    "instance_id, kind, body, created_at, applied_at, outcome";
inline constexpr int kCommandColumnCount = 6;

inline constexpr const char* kJobColumns =
    "id, action, filter, args, actor, reason, per_second, state, created_at, updated_at, "
    "ended_at, cursor, applied, refused, cancelled_by, cancel_reason, dealt";
// What a write of a job's row over the stored one sets: all but its key and its tallies,
// which its items keep (JobRow::applied).
inline constexpr const char* kJobUpdatedColumns =
    "action, filter, args, actor, reason, per_second, state, created_at, updated_at, ended_at, "
    "cursor, cancelled_by, cancel_reason, dealt";
inline constexpr int kJobColumnCount = 17;

inline constexpr const char* kJobItemColumns = "job_id, instance_id, applied, detail, at";
inline constexpr int kJobItemColumnCount = 5;

}  // namespace rmaflow::store
