#include "tests/store/store_rows.hpp"

#include <SQLiteCpp/SQLiteCpp.h>

#include <chrono>
#include <cstdio>

#include "engine/store/schema.hpp"
#include "engine/store/state_codec.hpp"

namespace rmaflow::testing {

InstanceRow instance_row(const std::string& id, std::int64_t ms) {
  InstanceRow row;
  row.id = id;
  row.workflow = "returns";
  row.version = 1;
  row.status = InstanceStatus::running;
  row.step = "authorize";
  row.visits = {{"authorize", 1}};
  row.context = nlohmann::json{{"input", {{"rma_id", id}}}};
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

void check_same_instance(const InstanceRow& got, const InstanceRow& want) {
  CHECK(got.id == want.id);
  CHECK(got.workflow == want.workflow);
  CHECK(got.version == want.version);
  CHECK(got.status == want.status);
  CHECK(got.step == want.step);
  CHECK(got.visits == want.visits);
  CHECK(got.context == want.context);
  CHECK(got.business_key == want.business_key);
  CHECK(got.correlation_id == want.correlation_id);
  CHECK(got.input_hash == want.input_hash);
  CHECK(got.last_seq == want.last_seq);
  CHECK(got.created_at == want.created_at);
  CHECK(got.updated_at == want.updated_at);
  CHECK(got.ended_at == want.ended_at);
  CHECK(got.deadline == want.deadline);
  CHECK(got.paused_at == want.paused_at);
  CHECK(store::encode_saga(got.saga) == store::encode_saga(want.saga));
  CHECK(store::encode_cursors(got.cursors) == store::encode_cursors(want.cursors));
  REQUIRE(got.parent.has_value() == want.parent.has_value());
  if (want.parent) {
    CHECK(got.parent->instance_id == want.parent->instance_id);
    CHECK(got.parent->step == want.parent->step);
    CHECK(got.parent->branch == want.parent->branch);
  }
}

std::vector<std::string> ids_of(const std::vector<InstanceRow>& rows) {
  std::vector<std::string> ids;
  for (const auto& row : rows) ids.push_back(row.id);
  return ids;
}

double commit_rate(Store& s, int batches, int pool) {
  constexpr int kInstancesPerBatch = 250;
  constexpr int kEventsPerInstance = 4;

  // Rows are built before the clock starts: only the store is measured.
  std::vector<WriteBatch> work(batches);
  std::vector<std::int64_t> last_seq(pool, 0);
  for (int b = 0; b < batches; ++b) {
    for (int k = 0; k < kInstancesPerBatch; ++k) {
      const int n = (b * kInstancesPerBatch + k) % pool;
      char id[32];
      std::snprintf(id, sizeof id, "01JDQX3Z8M4K7V2N9P%08d", n);
      for (int e = 0; e < kEventsPerInstance; ++e) {
        work[b].events.push_back(event_row(id, ++last_seq[n]));
      }
      work[b].instances.push_back(instance_row(id));
      work[b].instances.back().last_seq = last_seq[n];
      work[b].timers_set.push_back(timer_row(id, "timeout", 1'700'000'000'000 + b));
    }
  }
  std::int64_t events = 0;
  const auto start = std::chrono::steady_clock::now();
  for (const WriteBatch& batch : work) {
    s.commit(batch);
    events += static_cast<std::int64_t>(batch.events.size());
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return static_cast<double>(events) / seconds;
}

void old_sqlite_database(const std::string& path, int version, const std::string& rows) {
  SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
  db.exec("PRAGMA journal_mode = WAL");
  store::migrate(db, path, version);
  REQUIRE(store::stored_schema_version(db) == version);
  db.exec(rows);
}

}  // namespace rmaflow::testing
