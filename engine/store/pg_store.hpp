// PgStore: the Store on a PostgreSQL database, through one libpq connection.
//
// Same contract as the SQLite store (rmaflow/store.hpp): a commit is one transaction, queries
// order as SQLite orders (text keys compare byte by byte: COLLATE "C"), failures are
// Error(storage) naming the database by its URI without the password. The engine's store
// (StoreOptions::engine) holds a session advisory lock for its lifetime: the server drops it
// when the connection ends, however the engine ends.
// Thread-safety: as Store, one thread at a time.
#pragma once

#include <atomic>
#include <optional>
#include <string>

#include "engine/store/pg_connection.hpp"
#include "rmaflow/store.hpp"

namespace rmaflow::store {

class PgPipeline;

class PgStore final : public Store {
 public:
  // See open_postgres_store() in rmaflow/store.hpp.
  PgStore(const std::string& uri, const StoreOptions& options);

  PutResult put_definition(const DefinitionRow& row) override;
  std::optional<DefinitionRow> get_definition(const std::string& name, int version) override;
  std::optional<DefinitionRow> latest_definition(const std::string& name) override;
  std::vector<DefinitionRow> list_definitions() override;

  CommitReceipt commit(const WriteBatch& batch) override;

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

  // Nodes sharing the database (pg_leases.cpp).
  ShardMask held_shards() const override { return held_.load(); }
  LeaseRound keep_leases() override;
  void release_leases(ShardMask shards = kAllShards) override;
  std::vector<NodeRow> nodes() override;
  NodeRow node() const override;

 private:
  void require_writable(const char* action) const;
  // Sets a (re)established session up: read-only transactions, the engine's lock.
  void set_up_session(PgConnection& connection);
  bool is_node() const { return !session_.empty(); }
  // A node's commit: refused unless every lease it holds is still its own (pg_leases.cpp).
  void check_fence() const;
  // Queues, first in a node's commit, the statement that locks its leases until the commit
  // ends and fails the commit (LeaseLost) when one of them has passed to another node.
  void send_fence(PgPipeline& pipeline) const;
  // `... AND <column>'s shard is held`, for a node's engine queries; "" otherwise.
  std::string held_filter(const char* id_column) const;
  void register_node();

  StoreOptions options_;
  PgConnection connection_;
  // A node: this run's lease owner, unique per run (empty when not a node).
  std::string session_;
  TimePoint started_at_{};
  std::atomic<ShardMask> held_{kAllShards};
  std::atomic<std::int64_t> takeovers_{0};
  bool fenced_ = false;  // a lease was lost: nothing more commits
};

}  // namespace rmaflow::store
