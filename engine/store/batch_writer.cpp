#include "engine/store/batch_writer.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <utility>

#include "engine/store/row_codec.hpp"
#include "rmaflow/errors.hpp"

namespace rmaflow::store {

namespace {

// Inserts `rows` rows of `count` columns each, their parameters numbered one row after the
// other.
std::string insert_sql(const char* table, const char* columns, int count, int rows = 1) {
  std::string values;
  for (int row = 0; row < rows; ++row) {
    values += row == 0 ? "(" : ", (";
    for (int i = 1; i <= count; ++i) {
      values += fmt::format("{}?{}", i == 1 ? "" : ", ", row * count + i);
    }
    values += ")";
  }
  return fmt::format("INSERT INTO {} ({}) VALUES {}", table, columns, values);
}

// A batch's events go in this many to a statement (the rest one by one): a step's few
// events each cost SQLite a statement's run, and several rows to a run cost a quarter less
// (docs/performance.md).
constexpr std::size_t kEventsPerInsert = 16;

// A job row is replaced but for its tallies, which its items keep (kJobUpdatedColumns).
std::string upsert_job_sql() {
  return insert_sql("jobs", kJobColumns, kJobColumnCount) + " ON CONFLICT (id) DO UPDATE SET " +
         set_from_excluded(kJobUpdatedColumns);
}

// An instance row is replaced whole: every column but the key (the first) takes the new value.
// The context is not in it (instance_contexts); the parameters keep kInstanceColumns' numbers,
// as bind_instance binds them, with the context's left out.
std::string upsert_instance_sql() {
  std::vector<std::string_view> columns;
  std::vector<std::string> params;
  int number = 0;
  for (auto column : split_columns(kInstanceColumns)) {
    ++number;
    if (column == kContextColumn) continue;
    columns.push_back(column);
    params.push_back(fmt::format("?{}", number));
  }
  auto updated = fmt::format("{}", fmt::join(columns.begin() + 1, columns.end(), ", "));
  return fmt::format("INSERT INTO instances ({}) VALUES ({}) ON CONFLICT (id) DO UPDATE SET {}",
                     fmt::join(columns, ", "), fmt::join(params, ", "), set_from_excluded(updated));
}

// A context is written when it differs from the stored one: most steps leave it as it was, and
// its row (kilobytes for a return's lines) is then neither rewritten nor logged.
constexpr const char* kUpsertContextSql =
    "INSERT INTO instance_contexts (instance_id, context) VALUES (?1, ?2)"
    " ON CONFLICT (instance_id) DO UPDATE SET context = excluded.context"
    " WHERE context <> excluded.context";

std::string upsert_timer_sql() {
  return insert_sql("timers", kTimerColumns, kTimerColumnCount) +
         " ON CONFLICT (instance_id, branch, name) DO UPDATE SET due = excluded.due";
}

// Runs a write statement once with the parameters `bind` sets and returns the number of rows
// it changed. The reset comes first so that a statement left failed by an earlier,
// rolled-back batch is usable again.
template <class Row, class Bind>
int run(SQLite::Statement& statement, const Row& row, Bind bind) {
  statement.tryReset();
  bind(statement, row);
  return statement.exec();
}

}  // namespace

BatchWriter::BatchWriter(SQLite::Database& db, std::string path)
    : path_(std::move(path)),
      upsert_instance_(db, upsert_instance_sql()),
      upsert_context_(db, kUpsertContextSql),
      insert_event_(db, insert_sql("events", kEventColumns, kEventColumnCount)),
      insert_events_(db, insert_sql("events", kEventColumns, kEventColumnCount,
                                    static_cast<int>(kEventsPerInsert))),
      upsert_timer_(db, upsert_timer_sql()),
      delete_timer_(db, "DELETE FROM timers WHERE instance_id = ?1 AND branch = ?2 AND name = ?3"),
      insert_signal_(db, insert_sql("signals", kSignalColumns, kSignalColumnCount)),
      consume_signal_(db,
                      "UPDATE signals SET consumed_at = ?1"
                      " WHERE instance_id = ?2 AND idempotency_key = ?3 AND consumed_at IS NULL"),
      finish_command_(db,
                      "UPDATE commands SET applied_at = ?1, outcome = ?2"
                      " WHERE id = ?3 AND outcome = ''"),
      clear_attributes_(db, "DELETE FROM instance_attributes WHERE instance_id = ?1"),
      insert_attribute_(db,
                        "INSERT INTO instance_attributes (instance_id, name, value) VALUES (?1, "
                        "?2, ?3)"),
      upsert_job_(db, upsert_job_sql()),
      insert_job_item_(db, insert_sql("job_items", kJobItemColumns, kJobItemColumnCount)),
      count_job_item_(db,
                      "UPDATE jobs SET applied = applied + ?2, refused = refused + ?3"
                      " WHERE id = ?1"),
      insert_command_(db, insert_sql("commands", kCommandColumns, kCommandColumnCount)) {}

CommitReceipt BatchWriter::apply(const WriteBatch& batch) {
  CommitReceipt receipt;
  receipt.state_bytes.reserve(batch.instances.size());
  for (const auto& row : batch.instances) {
    auto encoded = encode_instance(row);
    receipt.state_bytes.push_back(encoded.bytes());
    run(upsert_instance_, row,
        [&](SQLite::Statement& s, const InstanceRow& r) { bind_instance(s, r, encoded); });
    if (row.context_unchanged) continue;
    upsert_context_.tryReset();
    upsert_context_.bindNoCopy(1, row.id);
    upsert_context_.bindNoCopy(2, row.context.text());
    upsert_context_.exec();
  }
  // In order: a batch's events keep the order they were recorded in.
  const auto& events = batch.events;
  std::size_t next = 0;
  for (; events.size() - next >= kEventsPerInsert; next += kEventsPerInsert) {
    insert_events_.tryReset();
    for (std::size_t i = 0; i < kEventsPerInsert; ++i) {
      bind_event(insert_events_, events[next + i], static_cast<int>(i) * kEventColumnCount + 1);
    }
    insert_events_.exec();
  }
  for (; next < events.size(); ++next) {
    run(insert_event_, events[next],
        [](SQLite::Statement& s, const EventRow& row) { bind_event(s, row); });
  }
  for (const auto& timer : batch.timers_cleared) {
    delete_timer_.tryReset();
    delete_timer_.bindNoCopy(1, timer.instance_id);
    delete_timer_.bindNoCopy(2, timer.branch);
    delete_timer_.bindNoCopy(3, timer.name);
    delete_timer_.exec();
  }
  for (const auto& row : batch.timers_set) run(upsert_timer_, row, bind_timer);
  for (const auto& row : batch.signals_added) {
    auto match = match_text(row.match);
    run(insert_signal_, row,
        [&](SQLite::Statement& s, const SignalRow& r) { bind_signal(s, r, match); });
  }
  for (const auto& row : batch.signals_consumed) {
    if (run(consume_signal_, row, bind_signal_consumed) != 1) {
      throw Error(Errc::storage,
                  fmt::format("cannot commit to {}: instance {} has no pending signal with key {}",
                              path_, row.instance_id, row.idempotency_key));
    }
  }
  for (const auto& update : batch.attributes) {
    clear_attributes_.tryReset();
    clear_attributes_.bindNoCopy(1, update.instance_id);
    clear_attributes_.exec();
    for (const auto& [name, value] : update.values.items()) {
      insert_attribute_.tryReset();
      insert_attribute_.bindNoCopy(1, update.instance_id);
      insert_attribute_.bind(2, name);
      bind_attribute_value(insert_attribute_, 3, value);
      insert_attribute_.exec();
    }
  }
  for (const auto& row : batch.jobs) {
    auto encoded = encode_job(row);
    run(upsert_job_, row, [&](SQLite::Statement& s, const JobRow& r) { bind_job(s, r, encoded); });
  }
  for (const auto& row : batch.job_items) {
    run(insert_job_item_, row, bind_job_item);
    count_job_item_.tryReset();
    count_job_item_.bindNoCopy(1, row.job_id);
    count_job_item_.bind(2, row.applied ? 1 : 0);
    count_job_item_.bind(3, row.applied ? 0 : 1);
    count_job_item_.exec();
  }
  for (const auto& row : batch.commands_added) run(insert_command_, row, bind_command);
  for (const auto& row : batch.commands_done) {
    if (row.outcome.empty()) {
      throw Error(Errc::storage,
                  fmt::format("cannot commit to {}: command {} is marked done without an outcome",
                              path_, row.id));
    }
    if (run(finish_command_, row, bind_command_done) != 1) {
      throw Error(Errc::storage, fmt::format("cannot commit to {}: there is no pending command {}",
                                             path_, row.id));
    }
  }
  return receipt;
}

}  // namespace rmaflow::store
