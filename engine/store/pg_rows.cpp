#include "engine/store/pg_rows.hpp"

#include "engine/store/state_codec.hpp"

namespace rmaflow::store {

PgParams pg_definition_params(const DefinitionRow& row) {
  PgParams p;
  p.add(row.name).add(row.version).add(row.content_hash).add(row.source);
  p.add(row.input_schema).add(row.file).add(row.deployed_at);
  return p;
}

PgParams pg_instance_params(const InstanceRow& row, EncodedInstance encoded) {
  PgParams p;
  p.add(row.id).add(row.workflow).add(row.version).add(static_cast<int>(row.status));
  p.add(row.step).add(std::move(encoded.visits).take()).add(row.context.text());
  p.add(row.business_key).add(row.correlation_id).add(row.input_hash).add(row.last_seq);
  p.add(row.created_at).add(row.updated_at).add(row.ended_at).add(row.deadline);
  p.add(std::move(encoded.saga).take()).add(std::move(encoded.cursors).take());
  p.add(row.parent ? row.parent->instance_id : "");
  p.add(row.parent ? row.parent->step : "").add(row.parent ? row.parent->branch : "");
  p.add(row.paused_at);
  return p;
}

PgParams pg_event_params(const EventRow& row) {
  PgParams p;
  p.add(row.instance_id).add(row.seq).add(static_cast<int>(row.type)).add(row.step);
  p.add(row.at).add(row.data).add(row.branch);
  return p;
}

PgParams pg_timer_params(const TimerRow& row) {
  PgParams p;
  p.add(row.instance_id).add(row.branch).add(row.name).add(row.due);
  return p;
}

PgParams pg_signal_params(const SignalRow& row) {
  PgParams p;
  p.add(row.instance_id).add(row.name).add(row.idempotency_key).add(row.payload);
  p.add(row.received_at).add(row.consumed_at).add(row.match.is_null() ? "" : row.match.dump());
  return p;
}

PgParams pg_command_params(const CommandRow& row) {
  PgParams p;
  p.add(row.instance_id).add(row.kind).add(row.body).add(row.created_at);
  p.add(row.applied_at).add(row.outcome);
  return p;
}

PgParams pg_job_params(const JobRow& row) {
  PgParams p;
  p.add(row.id).add(row.action).add(filter_to_json(row.filter).dump()).add(row.args.dump());
  p.add(row.actor).add(row.reason).add(row.per_second).add(std::string(to_string(row.state)));
  p.add(row.created_at).add(row.updated_at).add(row.ended_at).add(row.cursor);
  p.add(0).add(0);  // the tallies are counted from the items (JobRow::applied)
  p.add(row.cancelled_by).add(row.cancel_reason);
  p.add(row.dealt);
  return p;
}

PgParams pg_job_item_params(const JobItemRow& row) {
  PgParams p;
  p.add(row.job_id).add(row.instance_id).add(row.applied ? 1 : 0).add(row.detail).add(row.at);
  return p;
}

void pg_add_attribute_value(PgParams& params, const nlohmann::json& value) {
  if (value.is_number_integer()) {
    params.add("integer").add(value.get<std::int64_t>()).add_null();
  } else if (value.is_number()) {
    params.add("real").add(value.get<double>()).add_null();
  } else if (value.is_boolean()) {
    params.add("text").add_null().add(value.get<bool>() ? "true" : "false");
  } else {
    params.add("text").add_null().add(value.is_string() ? value.get<std::string>() : value.dump());
  }
}

nlohmann::json pg_read_attribute_value(const PgColumns& row, int column) {
  auto kind = row.text(column);
  if (kind == "integer") return row.int64(column + 1);
  if (kind == "real") return row.real(column + 1);
  return row.text(column + 2);
}

}  // namespace rmaflow::store
