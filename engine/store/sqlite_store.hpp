// SqliteStore: the Store on one SQLite database file, through one connection.
//
// The engine's SqliteStore (StoreOptions::engine) holds an EngineLock beside the file for as
// long as it is open; other writable ones (the offline CLI queueing commands) and read-only
// ones may be opened beside it by other processes and threads and see every committed batch.
// Thread-safety: as Store, one thread at a time.
#pragma once

#include <SQLiteCpp/Database.h>

#include <optional>
#include <string>

#include "engine/store/batch_writer.hpp"
#include "engine/store/checkpointer.hpp"
#include "engine/store/engine_lock.hpp"
#include "engine/store/statement_cache.hpp"
#include "rmaflow/store.hpp"

namespace rmaflow::store {

class SqliteStore final : public Store {
 public:
  // See open_sqlite_store() in rmaflow/store.hpp.
  SqliteStore(const std::string& path, const StoreOptions& options);

  PutResult put_definition(const DefinitionRow& row) override;
  std::optional<DefinitionRow> get_definition(const std::string& name, int version) override;
  std::optional<DefinitionRow> latest_definition(const std::string& name) override;
  std::vector<DefinitionRow> list_definitions() override;

  CommitReceipt commit(const WriteBatch& batch) override;
  void prepare_for_commits() override;

  std::optional<InstanceRow> get_instance(const std::string& id) override;
  std::optional<InstanceRow> find_by_business_key(const std::string& workflow,
                                                  const std::string& key) override;
  void read_together(const std::function<void()>& reads) override;
  std::vector<InstanceRow> list_instances(const InstanceFilter& filter) override;
  std::map<InstanceStatus, std::int64_t> count_by_status() override;
  std::vector<InstanceRow> active_instances() override;
  std::vector<EventRow> history(const std::string& id) override;
  std::vector<StepCount> count_unfinished(const std::string& workflow) override;
  std::vector<InstanceTally> tally_instances(TimePoint since, Duration bucket) override;
  std::vector<EventRow> audit_trail(const AuditFilter& filter) override;
  std::vector<TimerRow> due_timers(TimePoint until, std::size_t limit) override;

  std::optional<SignalRow> find_signal(const std::string& instance_id,
                                       const std::string& idempotency_key) override;
  std::optional<SignalRow> oldest_pending_signal(const std::string& instance_id,
                                                 const std::string& name) override;
  std::vector<SignalRow> signals(const std::string& instance_id) override;
  nlohmann::json attributes(const std::string& instance_id) override;

  std::int64_t add_command(const CommandRow& command) override;
  std::vector<CommandRow> pending_commands(std::size_t limit) override;
  std::optional<CommandRow> get_command(std::int64_t id) override;
  std::vector<CommandRow> list_commands(const std::string& instance_id, bool pending_only,
                                        std::size_t limit) override;
  bool withdraw_command(std::int64_t id, TimePoint at, const std::string& outcome) override;
  std::optional<JobRow> get_job(const std::string& id) override;
  std::vector<JobRow> list_jobs(const std::string& before_id, std::size_t limit) override;
  std::vector<JobRow> running_jobs() override;
  std::vector<JobItemRow> job_items(const std::string& job_id, const std::string& after_instance,
                                    bool refused_only, std::size_t limit) override;

  // The value of a PRAGMA on this store's connection ("journal_mode", "synchronous"), for
  // diagnostics and tests.
  std::string pragma(const std::string& name);

 private:
  void require_writable(const char* action) const;

  std::string path_;
  std::optional<EngineLock> lock_;  // an engine's store: taken before the database opens
  SQLite::Database db_;
  std::optional<BatchWriter> writer_;  // absent when read-only
  std::optional<Checkpointer> checkpointer_;  // an engine's store only
  StatementCache statements_{db_};            // the reads' statements (goes before db_)
};

}  // namespace rmaflow::store
