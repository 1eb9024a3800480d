// How the rows of rmaflow/store.hpp map to table columns.
//
// Each row type has one column list (used for SELECT and INSERT alike), a reader for a
// statement positioned on a row selected with that list, and a binder for an INSERT whose
// parameters ?1..?N follow that list. Keeping the three together is what keeps them in step.
//
// The binders bind text without copying: the row must outlive the statement's execution.
#pragma once

#include <SQLiteCpp/Column.h>
#include <SQLiteCpp/Statement.h>

#include "rmaflow/store.hpp"

namespace rmaflow::store {

inline constexpr const char* kDefinitionColumns =
    "name, version, content_hash, source, input_schema, file, deployed_at";
inline constexpr int kDefinitionColumnCount = 7;

inline constexpr const char* kInstanceColumns =
    "id, workflow, version, status, phase, step, attempt, visits, context, step_input, "
    "business_key, correlation_id, input_hash, incident, last_seq, created_at, updated_at, "
    "ended_at, deadline";
inline constexpr int kInstanceColumnCount = 19;

inline constexpr const char* kEventColumns = "instance_id, seq, type, step, at, data";
inline constexpr int kEventColumnCount = 6;

inline constexpr const char* kTimerColumns = "instance_id, name, due";
inline constexpr int kTimerColumnCount = 3;

DefinitionRow read_definition(const SQLite::Statement& s);
InstanceRow read_instance(const SQLite::Statement& s);
EventRow read_event(const SQLite::Statement& s);
TimerRow read_timer(const SQLite::Statement& s);

void bind_definition(SQLite::Statement& s, const DefinitionRow& row);
void bind_instance(SQLite::Statement& s, const InstanceRow& row);
void bind_event(SQLite::Statement& s, const EventRow& row);
void bind_timer(SQLite::Statement& s, const TimerRow& row);

}  // namespace rmaflow::store
