// How the rows of rmaflow/store.hpp map to table columns.
//
// Each row type has one column list (row_columns.hpp, used for SELECT and INSERT alike), a
// reader for a statement positioned on a row selected with that list, and a binder for an
// INSERT whose parameters ?1..?N follow that list.
//
// The binders bind text without copying: the row must outlive the statement's execution.
#pragma once

#include <SQLiteCpp/Column.h>
#include <SQLiteCpp/Statement.h>

#include "engine/store/row_columns.hpp"
#include "engine/store/state_codec.hpp"
#include "rmaflow/store.hpp"

namespace rmaflow::store {

// SQLite keeps an instance's context in a table of its own, instance_contexts (schema 13): the
// instance's row is rewritten at every step, its context only when it changed. The column
// holding it, and the SELECT list read_instance expects: kInstanceColumns with the context
// read from its table, for a query whose FROM names `instances`.
inline constexpr std::string_view kContextColumn = "context";
const std::string& sqlite_instance_columns();

DefinitionRow read_definition(const SQLite::Statement& s);
InstanceRow read_instance(const SQLite::Statement& s);
EventRow read_event(const SQLite::Statement& s);
TimerRow read_timer(const SQLite::Statement& s);
SignalRow read_signal(const SQLite::Statement& s);    // column 0 is seq
CommandRow read_command(const SQLite::Statement& s);  // column 0 is id
JobRow read_job(const SQLite::Statement& s);
JobItemRow read_job_item(const SQLite::Statement& s);

void bind_definition(SQLite::Statement& s, const DefinitionRow& row);
// `encoded` is encode_instance(row); both must outlive the statement's execution. The
// parameters are numbered as kInstanceColumns lists the columns; the context's number is left
// unbound, as the row's statement leaves it out (its own table's statement binds it).
void bind_instance(SQLite::Statement& s, const InstanceRow& row, const EncodedInstance& encoded);
// Binds the row's kEventColumnCount parameters from number `first` on (a statement inserting
// several rows numbers each row's after the one before).
void bind_event(SQLite::Statement& s, const EventRow& row, int first = 1);
void bind_timer(SQLite::Statement& s, const TimerRow& row);
// seq is not bound; `match` is the row's match value as text ("" for none), kept alive by the
// caller.
void bind_signal(SQLite::Statement& s, const SignalRow& row, const std::string& match);
std::string match_text(const nlohmann::json& match);
void bind_command(SQLite::Statement& s, const CommandRow& row);  // id is not bound
// A job row's JSON columns, encoded for binding.
struct EncodedJob {
  std::string filter;
  std::string args;
};
EncodedJob encode_job(const JobRow& row);
void bind_job(SQLite::Statement& s, const JobRow& row, const EncodedJob& encoded);
void bind_job_item(SQLite::Statement& s, const JobItemRow& row);

// For the updates of a batch: UPDATE ... SET consumed_at = ?1 WHERE instance_id = ?2 AND
// idempotency_key = ?3, and SET applied_at = ?1, outcome = ?2 WHERE id = ?3.
void bind_signal_consumed(SQLite::Statement& s, const SignalConsumed& row);
void bind_command_done(SQLite::Statement& s, const CommandDone& row);
// A search attribute's value (a string, number or boolean) as its column stores it: text, an
// integer or a real; a boolean as the text true or false.
void bind_attribute_value(SQLite::Statement& s, int index, const nlohmann::json& value);

}  // namespace rmaflow::store
