// Store: where definitions, instances, their event history and durable timers live.
//
// The engine is the only writer: every transition reaches the store through commit(), which
// applies a WriteBatch atomically (all of it or nothing), so transitions of many instances
// share one transaction (group commit). Readers (CLI, API threads) open their own Store on
// the same database.
//
// Thread-safety: a Store object is used by one thread at a time.
// Errors: every failure is an rmaflow::Error (Errc::storage, or Errc::conflict where stated).
// A failed commit() leaves the database as it was before the call.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "rmaflow/status.hpp"
#include "rmaflow/time.hpp"

namespace rmaflow {

struct DefinitionRow {
  std::string name;
  int version = 0;
  std::string content_hash;  // SHA-256 hex of the canonical content
  std::string source;        // the YAML text
  std::string input_schema;  // resolved JSON Schema text; empty when none
  std::string file;          // where it was deployed from, for messages
  TimePoint deployed_at;
};

// The current state of one instance. JSON-valued fields hold JSON text.
struct InstanceRow {
  std::string id;
  std::string workflow;
  int version = 0;
  InstanceStatus status = InstanceStatus::running;
  Phase phase = Phase::idle;
  std::string step;            // the current step (the last one, once finished)
  int attempt = 0;             // attempts started at the current visit of the step
  std::string visits = "{}";   // JSON object: step name -> times entered
  std::string context = "{}";  // JSON object: .input, .instance, results
  std::string step_input;      // JSON of the current task's rendered input; empty when none
  std::string business_key;    // empty when none
  std::string correlation_id;
  std::string input_hash;      // SHA-256 hex of the start input, for idempotent start
  std::string incident;        // JSON object when suspended; empty otherwise
  std::int64_t last_seq = 0;   // seq of its newest event
  TimePoint created_at;
  TimePoint updated_at;
  std::optional<TimePoint> ended_at;
  std::optional<TimePoint> deadline;  // the current phase's deadline: attempt timeout, retry due, wait end
  // JSON object: the compensation record (completed steps to undo, newest last; whether a
  // pivot has passed; the compensation in progress and the status it ends in).
  std::string saga = "{}";
};

struct EventRow {
  std::string instance_id;
  std::int64_t seq = 0;  // 1, 2, 3, ... per instance, no gaps
  EventType type = EventType::instance_started;
  std::string step;
  TimePoint at;
  std::string data = "{}";  // JSON object
};

// A durable timer; at most one per (instance, name). Names: "retry", "wait", "timeout".
struct TimerRow {
  std::string instance_id;
  std::string name;
  TimePoint due;
};

// A signal delivered to an instance. Stored the moment it is accepted, deduplicated by
// (instance, idempotency key), kept until a wait step consumes it (oldest first).
struct SignalRow {
  std::int64_t seq = 0;  // arrival order across the database; assigned by the store on insert
  std::string instance_id;
  std::string name;
  std::string idempotency_key;
  std::string payload = "null";  // JSON
  TimePoint received_at;
  std::optional<TimePoint> consumed_at;
};

struct SignalConsumed {
  std::string instance_id;
  std::string idempotency_key;
  TimePoint at;
};

// An operator command written by a client that is not the engine (the CLI working offline on
// the database, or another process): the engine applies pending ones in id order and records
// the outcome. `kind`: signal, retry, skip, goto, cancel, patch, resolve. A pending command
// may be withdrawn while no engine runs (outcome "withdrawn ...").
struct CommandRow {
  std::int64_t id = 0;  // assigned by the store on insert
  std::string instance_id;
  std::string kind;
  std::string body = "{}";  // JSON: actor, reason and the command's arguments
  TimePoint created_at;
  std::optional<TimePoint> applied_at;
  std::string outcome;  // empty while pending; "applied" or "refused: <reason>"
};

struct CommandDone {
  std::int64_t id = 0;
  TimePoint applied_at;
  std::string outcome;
};

struct WriteBatch {
  std::vector<InstanceRow> instances;  // inserted or replaced whole, by id
  std::vector<EventRow> events;        // appended
  std::vector<TimerRow> timers_set;    // inserted or replaced, by (instance, name)
  std::vector<std::pair<std::string, std::string>> timers_cleared;  // (instance, name)
  std::vector<SignalRow> signals_added;        // seq is assigned by the store
  std::vector<SignalConsumed> signals_consumed;
  std::vector<CommandDone> commands_done;

  bool empty() const {
    return instances.empty() && events.empty() && timers_set.empty() && timers_cleared.empty() &&
           signals_added.empty() && signals_consumed.empty() && commands_done.empty();
  }
  void clear() {
    instances.clear();
    events.clear();
    timers_set.clear();
    timers_cleared.clear();
    signals_added.clear();
    signals_consumed.clear();
    commands_done.clear();
  }
};

struct InstanceFilter {
  std::vector<InstanceStatus> statuses;  // any of these; empty = all
  std::string workflow;                  // empty = all
  std::optional<int> version;
  std::string step;
  std::string business_key;
  std::string after_id;                  // keyset cursor: ids strictly greater
  std::size_t limit = 100;
  std::optional<TimePoint> created_from;    // created at or after
  std::optional<TimePoint> created_before;  // created strictly before
};

enum class PutResult { inserted, unchanged };

// How many unfinished instances of one workflow version stand at one step, in one status.
struct StepCount {
  std::string workflow;
  int version = 0;
  std::string step;
  InstanceStatus status = InstanceStatus::running;
  std::int64_t count = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  // Stores a definition. Returns unchanged when the same name, version and content hash is
  // already there; throws Error(conflict) when the same name and version has other content.
  virtual PutResult put_definition(const DefinitionRow& row) = 0;
  virtual std::optional<DefinitionRow> get_definition(const std::string& name, int version) = 0;
  virtual std::optional<DefinitionRow> latest_definition(const std::string& name) = 0;
  virtual std::vector<DefinitionRow> list_definitions() = 0;

  // Applies the batch in one transaction, durably per the store's synchronous setting.
  virtual void commit(const WriteBatch& batch) = 0;

  virtual std::optional<InstanceRow> get_instance(const std::string& id) = 0;
  virtual std::optional<InstanceRow> find_by_business_key(const std::string& workflow,
                                                          const std::string& key) = 0;
  // Ordered by id (ids sort by creation time).
  virtual std::vector<InstanceRow> list_instances(const InstanceFilter& filter) = 0;
  // How many instances have each status (statuses without any are left out).
  virtual std::map<InstanceStatus, std::int64_t> count_by_status() = 0;
  // Instances the engine must hold in memory to resume: status running or compensating.
  virtual std::vector<InstanceRow> active_instances() = 0;
  // The whole history of an instance, by seq.
  virtual std::vector<EventRow> history(const std::string& id) = 0;
  // Unfinished instances counted by (workflow, version, step, status), in that order; only
  // `workflow`'s when it is not empty.
  virtual std::vector<StepCount> count_unfinished(const std::string& workflow) = 0;

  // Timers due at or before `until`, earliest first, at most `limit`.
  virtual std::vector<TimerRow> due_timers(TimePoint until, std::size_t limit) = 0;

  // Signals. A signal added to a batch twice with the same (instance, key) is a storage error:
  // the engine checks find_signal() first.
  virtual std::optional<SignalRow> find_signal(const std::string& instance_id,
                                               const std::string& idempotency_key) = 0;
  // The oldest unconsumed signal named `name` for the instance.
  virtual std::optional<SignalRow> oldest_pending_signal(const std::string& instance_id,
                                                         const std::string& name) = 0;
  // Every signal of the instance, by seq.
  virtual std::vector<SignalRow> signals(const std::string& instance_id) = 0;

  // Commands. add_command() commits on its own (a client writes it while an engine may run;
  // WAL lets it wait for the engine's transaction) and returns the id.
  virtual std::int64_t add_command(const CommandRow& command) = 0;
  // Pending commands (no outcome yet), by id, at most `limit`.
  virtual std::vector<CommandRow> pending_commands(std::size_t limit) = 0;
  virtual std::optional<CommandRow> get_command(std::int64_t id) = 0;
  // Commands by id: only `instance_id`'s when it is not empty, only pending ones when
  // `pending_only`; the newest `limit` of them.
  virtual std::vector<CommandRow> list_commands(const std::string& instance_id, bool pending_only,
                                                std::size_t limit) = 0;
  // Gives a pending command the outcome `outcome` (it will not be applied), in its own
  // transaction, like add_command(). False when it is not pending (applied, refused, withdrawn
  // or unknown). Only while no engine runs on the database: an engine that read the command
  // expects to record its outcome.
  virtual bool withdraw_command(std::int64_t id, TimePoint at, const std::string& outcome) = 0;
};

// Calls `visit` for each instance `filter` matches, in id order, a page at a time, until it
// returns false. `filter.limit` is ignored.
void for_each_instance(Store& store, InstanceFilter filter,
                       const std::function<bool(InstanceRow& row)>& visit);

enum class SyncMode { full, normal };

struct StoreOptions {
  SyncMode sync = SyncMode::full;
  bool read_only = false;  // open an existing database for queries only
};

// Opens (creating and migrating as needed) a SQLite database in WAL mode. Throws
// Error(storage) when the file is not an rmaflow database or is newer than this binary.
std::unique_ptr<Store> open_sqlite_store(const std::string& path, const StoreOptions& options = {});

// Forwards every call to another Store, so that a test can override one method (fail the
// Nth commit, say) and keep the rest.
class StoreWrapper : public Store {
 public:
  explicit StoreWrapper(std::unique_ptr<Store> target) : target_(std::move(target)) {}
  PutResult put_definition(const DefinitionRow& r) override { return target_->put_definition(r); }
  std::optional<DefinitionRow> get_definition(const std::string& n, int v) override {
    return target_->get_definition(n, v);
  }
  std::optional<DefinitionRow> latest_definition(const std::string& n) override {
    return target_->latest_definition(n);
  }
  std::vector<DefinitionRow> list_definitions() override { return target_->list_definitions(); }
  void commit(const WriteBatch& b) override { target_->commit(b); }
  std::optional<InstanceRow> get_instance(const std::string& id) override {
    return target_->get_instance(id);
  }
  std::optional<InstanceRow> find_by_business_key(const std::string& w,
                                                  const std::string& k) override {
    return target_->find_by_business_key(w, k);
  }
  std::vector<InstanceRow> list_instances(const InstanceFilter& f) override {
    return target_->list_instances(f);
  }
  std::map<InstanceStatus, std::int64_t> count_by_status() override {
    return target_->count_by_status();
  }
  std::vector<InstanceRow> active_instances() override { return target_->active_instances(); }
  std::vector<EventRow> history(const std::string& id) override { return target_->history(id); }
  std::vector<StepCount> count_unfinished(const std::string& w) override {
    return target_->count_unfinished(w);
  }
  std::vector<TimerRow> due_timers(TimePoint until, std::size_t limit) override {
    return target_->due_timers(until, limit);
  }
  std::optional<SignalRow> find_signal(const std::string& id, const std::string& key) override {
    return target_->find_signal(id, key);
  }
  std::optional<SignalRow> oldest_pending_signal(const std::string& id,
                                                 const std::string& name) override {
    return target_->oldest_pending_signal(id, name);
  }
  std::vector<SignalRow> signals(const std::string& id) override { return target_->signals(id); }
  std::int64_t add_command(const CommandRow& c) override { return target_->add_command(c); }
  std::vector<CommandRow> pending_commands(std::size_t limit) override {
    return target_->pending_commands(limit);
  }
  std::optional<CommandRow> get_command(std::int64_t id) override {
    return target_->get_command(id);
  }
  std::vector<CommandRow> list_commands(const std::string& id, bool pending_only,
                                        std::size_t limit) override {
    return target_->list_commands(id, pending_only, limit);
  }
  bool withdraw_command(std::int64_t id, TimePoint at, const std::string& outcome) override {
    return target_->withdraw_command(id, at, outcome);
  }

 protected:
  Store& target() { return *target_; }

 private:
  std::unique_ptr<Store> target_;
};

}  // namespace rmaflow
