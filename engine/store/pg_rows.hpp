// How the rows of rmaflow/store.hpp map to PostgreSQL columns: each row type is read from a
// result row selected with its column list (row_columns.hpp) by its reader in row_readers.hpp,
// and written with the parameters $1..$N of an INSERT that follows that list. The JSON columns hold
// the text state_codec.hpp writes, as in SQLite, so that a database copies between the two stores
// column for column.
#pragma once

#include "engine/store/pg_connection.hpp"
#include "engine/store/row_columns.hpp"
#include "engine/store/row_readers.hpp"
#include "rmaflow/store.hpp"

namespace rmaflow::store {

// One row of a result, as the readers of row_readers.hpp read it: pg_read_all(result,
// read_event_columns<PgColumns>).
struct PgColumns {
  const PgResult& r;
  int row;
  std::string text(int i) const { return r.text(row, i); }
  std::int64_t int64(int i) const { return r.int64(row, i); }
  int integer(int i) const { return r.integer(row, i); }
  double real(int i) const { return r.real(row, i); }
  bool is_null(int i) const { return r.is_null(row, i); }
};

PgParams pg_definition_params(const DefinitionRow& row);
// `encoded` is encode_instance(row).
PgParams pg_instance_params(const InstanceRow& row, EncodedInstance encoded);
PgParams pg_event_params(const EventRow& row);
PgParams pg_timer_params(const TimerRow& row);
PgParams pg_signal_params(const SignalRow& row);    // seq is left to the database
PgParams pg_command_params(const CommandRow& row);  // id is left to the database
PgParams pg_job_params(const JobRow& row);
PgParams pg_job_item_params(const JobItemRow& row);

// A search attribute's value as its row stores it: (kind, number_value, text_value) with kind
// integer, real or text, as SQLite types it; a boolean is the text true or false.
void pg_add_attribute_value(PgParams& params, const nlohmann::json& value);
// The value back from those three columns, starting at `column`.
nlohmann::json pg_read_attribute_value(const PgColumns& row, int column);

// Every row of `r`, through `read` (called with a PgColumns).
template <class Read>
auto pg_read_all(const PgResult& r, Read read) {
  std::vector<decltype(read(PgColumns{r, 0}))> rows;
  rows.reserve(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) rows.push_back(read(PgColumns{r, i}));
  return rows;
}

// The first row of `r`, if any.
template <class Read>
auto pg_read_one(const PgResult& r, Read read) -> std::optional<decltype(read(PgColumns{r, 0}))> {
  if (r.rows() == 0) return std::nullopt;
  return read(PgColumns{r, 0});
}

}  // namespace rmaflow::store
