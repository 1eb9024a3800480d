#include "engine/store/pg_batch_writer.hpp"

#include <fmt/format.h>

#include "engine/store/pg_pipeline.hpp"
#include "engine/store/pg_rows.hpp"

namespace rmaflow::store {

namespace {

std::string pg_insert_sql(const char* table, const char* columns, int count) {
  std::string params;
  for (int i = 1; i <= count; ++i) params += fmt::format("{}${}", i == 1 ? "" : ", ", i);
  return fmt::format("INSERT INTO {} ({}) VALUES ({})", table, columns, params);
}

// INSERT ... ON CONFLICT (key) DO UPDATE SET each of `updated` (comma-separated).
std::string pg_upsert_sql(const char* table, const char* columns, int count, const char* key,
                          const char* updated) {
  return fmt::format("{} ON CONFLICT ({}) DO UPDATE SET {}", pg_insert_sql(table, columns, count),
                     key, set_from_excluded(updated));
}

const PgStatement kUpsertInstance{"rmaflow_upsert_instance",
                                  pg_upsert_sql("instances", kInstanceColumns, kInstanceColumnCount,
                                                "id", kInstanceUpdatedColumns)};
const PgStatement kInsertEvent{"rmaflow_insert_event",
                               pg_insert_sql("events", kEventColumns, kEventColumnCount)};
const PgStatement kDeleteTimer{
    "rmaflow_delete_timer",
    "DELETE FROM timers WHERE instance_id = $1 AND branch = $2 AND name = $3"};
const PgStatement kUpsertTimer{
    "rmaflow_upsert_timer",
    pg_upsert_sql("timers", kTimerColumns, kTimerColumnCount, "instance_id, branch, name", "due")};
const PgStatement kInsertSignal{"rmaflow_insert_signal",
                                pg_insert_sql("signals", kSignalColumns, kSignalColumnCount)};
const PgStatement kConsumeSignal{
    "rmaflow_consume_signal",
    "UPDATE signals SET consumed_at = $1"
    " WHERE instance_id = $2 AND idempotency_key = $3 AND consumed_at IS NULL"};
const PgStatement kClearAttributes{"rmaflow_clear_attributes",
                                   "DELETE FROM instance_attributes WHERE instance_id = $1"};
const PgStatement kInsertAttribute{
    "rmaflow_insert_attribute",
    "INSERT INTO instance_attributes (instance_id, name, kind, number_value, text_value)"
    " VALUES ($1, $2, $3, $4::numeric, $5)"};
const PgStatement kUpsertJob{
    "rmaflow_upsert_job",
    pg_upsert_sql("jobs", kJobColumns, kJobColumnCount, "id", kJobUpdatedColumns)};
const PgStatement kInsertJobItem{"rmaflow_insert_job_item",
                                 pg_insert_sql("job_items", kJobItemColumns, kJobItemColumnCount)};
const PgStatement kCountJobItem{
    "rmaflow_count_job_item",
    "UPDATE jobs SET applied = applied + $2, refused = refused + $3 WHERE id = $1"};
const PgStatement kInsertCommand{"rmaflow_insert_command",
                                 pg_insert_sql("commands", kCommandColumns, kCommandColumnCount)};
const PgStatement kFinishCommand{
    "rmaflow_finish_command",
    "UPDATE commands SET applied_at = $1, outcome = $2 WHERE id = $3 AND outcome = ''"};

}  // namespace

CommitReceipt pg_apply_batch(PgConnection& c, const WriteBatch& batch,
                             const std::function<void(PgPipeline&)>& first) {
  // Refused before anything is sent: the batch fails whole either way.
  for (const auto& row : batch.commands_done) {
    if (row.outcome.empty()) {
      throw Error(Errc::storage,
                  fmt::format("cannot commit to {}: command {} is marked done without an outcome",
                              c.display(), row.id));
    }
  }
  PgPipeline p(c);
  if (first) first(p);
  CommitReceipt receipt;
  receipt.state_bytes.reserve(batch.instances.size());
  for (const auto& row : batch.instances) {
    auto encoded = encode_instance(row);
    receipt.state_bytes.push_back(encoded.bytes());
    p.send(kUpsertInstance, pg_instance_params(row, std::move(encoded)));
  }
  for (const auto& row : batch.events) p.send(kInsertEvent, pg_event_params(row));
  for (const auto& timer : batch.timers_cleared) {
    p.send(kDeleteTimer, PgParams().add(timer.instance_id).add(timer.branch).add(timer.name));
  }
  for (const auto& row : batch.timers_set) p.send(kUpsertTimer, pg_timer_params(row));
  for (const auto& row : batch.signals_added) p.send(kInsertSignal, pg_signal_params(row));
  for (const auto& row : batch.signals_consumed) {
    p.send(kConsumeSignal, PgParams().add(row.at).add(row.instance_id).add(row.idempotency_key),
           [&c, &row](const PgResult& result) {
             if (result.affected() == 1) return;
             throw Error(Errc::storage,
                         fmt::format("cannot commit to {}: instance {} has no pending signal "
                                     "with key {}",
                                     c.display(), row.instance_id, row.idempotency_key));
           });
  }
  for (const auto& update : batch.attributes) {
    p.send(kClearAttributes, PgParams().add(update.instance_id));
    for (const auto& [name, value] : update.values.items()) {
      PgParams params;
      params.add(update.instance_id).add(name);
      pg_add_attribute_value(params, value);
      p.send(kInsertAttribute, params);
    }
  }
  for (const auto& row : batch.jobs) p.send(kUpsertJob, pg_job_params(row));
  for (const auto& row : batch.job_items) {
    p.send(kInsertJobItem, pg_job_item_params(row));
    p.send(kCountJobItem,
           PgParams().add(row.job_id).add(row.applied ? 1 : 0).add(row.applied ? 0 : 1));
  }
  for (const auto& row : batch.commands_added) p.send(kInsertCommand, pg_command_params(row));
  for (const auto& row : batch.commands_done) {
    p.send(kFinishCommand, PgParams().add(row.applied_at).add(row.outcome).add(row.id),
           [&c, &row](const PgResult& result) {
             if (result.affected() == 1) return;
             throw Error(Errc::storage, fmt::format("cannot commit to {}: there is no pending "
                                                    "command {}",
                                                    c.display(), row.id));
           });
  }
  p.finish();
  return receipt;
}

}  // namespace rmaflow::store
