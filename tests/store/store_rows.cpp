#include "tests/store/store_rows.hpp"

namespace rmaflow::testing {

InstanceRow instance_row(const std::string& id, std::int64_t ms) {
  InstanceRow row;
  row.id = id;
  row.workflow = "returns";
  row.version = 1;
  row.status = InstanceStatus::running;
  row.step = "authorize";
  row.visits = {{"authorize", 1}};
  row.context = {{"input", {{"rma_id", id}}}};
  Cursor line;
  line.step = "authorize";
  line.phase = Phase::invoking;
  line.attempt = 2;
  line.input = {{"invoice_id", "INV-1"}};
  line.deadline = from_millis(ms + 30'000);
  row.cursors = {line};
  row.correlation_id = "corr-" + id;
  row.input_hash = "hash-" + id;
  row.last_seq = 1;
  row.created_at = from_millis(ms);
  row.updated_at = from_millis(ms + 5);
  row.deadline = from_millis(ms + 30'000);
  return row;
}

EventRow event_row(const std::string& instance_id, std::int64_t seq) {
  EventRow row;
  row.instance_id = instance_id;
  row.seq = seq;
  row.type = seq == 1 ? EventType::instance_started : EventType::step_entered;
  row.step = "authorize";
  row.at = from_millis(1'700'000'000'000 + seq);
  row.data = R"({"seq":)" + std::to_string(seq) + "}";
  return row;
}

TimerRow timer_row(const std::string& instance_id, const std::string& name, std::int64_t due_ms) {
  return TimerRow{instance_id, "", name, from_millis(due_ms)};
}

DefinitionRow definition_row(const std::string& name, int version, const std::string& hash) {
  DefinitionRow row;
  row.name = name;
  row.version = version;
  row.content_hash = hash;
  row.source = "workflow: " + name + "\nversion: " + std::to_string(version) + "\n";
  row.input_schema = R"({"type":"object"})";
  row.file = "workflows/" + name + ".yaml";
  row.deployed_at = from_millis(1'700'000'000'000 + version);
  return row;
}

SignalRow signal_row(const std::string& instance_id, const std::string& name,
                     const std::string& key, std::int64_t ms) {
  SignalRow row;
  row.instance_id = instance_id;
  row.name = name;
  row.idempotency_key = "key-" + key;
  row.payload = R"({"by":")" + key + R"(","amount":12.5})";
  row.received_at = from_millis(ms);
  return row;
}

CommandRow command_row(const std::string& instance_id, std::int64_t ms) {
  CommandRow row;
  row.instance_id = instance_id;
  row.kind = "retry";
  row.body = R"({"actor":"ops","reason":"carrier back up"})";
  row.created_at = from_millis(ms);
  return row;
}

StoreOptions sync_option(SyncMode sync) {
  StoreOptions options;
  options.sync = sync;
  return options;
}

StoreOptions read_only_option() {
  StoreOptions options;
  options.read_only = true;
  return options;
}

WriteBatch start_batch(const std::string& id, int events) {
  WriteBatch batch;
  batch.instances.push_back(instance_row(id));
  batch.instances.back().last_seq = events;
  for (int seq = 1; seq <= events; ++seq) batch.events.push_back(event_row(id, seq));
  return batch;
}

}  // namespace rmaflow::testing
