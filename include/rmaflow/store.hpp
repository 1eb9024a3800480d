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
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rmaflow/errors.hpp"
#include "rmaflow/failure.hpp"
#include "rmaflow/shared_json.hpp"
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

// An open incident: a cursor whose step failed for good (or could not run) and that waits
// for an operator.
struct Incident {
  std::string step;
  Failure error;
  int attempts = 0;
  TimePoint opened_at;
  bool compensating = false;  // it was undoing a step
  // Where the workflow's `incidents:` routes sent it when it opened; empty when none matched.
  std::string team;
  std::optional<TimePoint> due_at;  // opened_at plus the route's sla
};

// A compensation a cursor is running: the main line undoing the instance, or a branch undoing
// its own steps before it ends.
struct CompensationRun {
  std::string then;       // how it ends once nothing is left to undo: a status, or a branch's label
  std::string reason;
  std::string from_step;  // where it began (an end step, the failing step): where it ends
};

// One position in an instance: the main line, or a branch of a fan-out step. Everything the
// engine needs to resume a cursor is here; nothing about it lives elsewhere.
struct Cursor {
  // "" for the main line; "<fan-out step>[<key>]" for a branch; a nested branch appends
  // "/<fan-out step>[<key>]" to its parent's.
  std::string branch;
  int index = 0;  // a branch's place in its fan-out step's input order
  std::string step;
  Phase phase = Phase::idle;
  int attempt = 0;                    // attempts started at the current visit of the step
  std::optional<TimePoint> deadline;  // of the current phase: attempt timeout, retry due, wait end
  nlohmann::json input;               // the current task's rendered input; null when none
  // A branch's own context keys: the element (.<as>), .branch {key, index} and its steps'
  // results. Null on the main line, whose keys are the instance's context. Shared by the
  // cursor's copies until changed, so that a copy kept to compare against is alike at a glance
  // (SharedJson::shares) while the branch leaves it as it was.
  SharedJson scope{nlohmann::json()};
  std::optional<Incident> incident;            // set while it waits for an operator
  std::optional<CompensationRun> compensation;  // set while it undoes steps
  nlohmann::json match;   // waiting: the match value a signal must carry; null when none
  std::string child;      // calling: the child instance it waits for
  std::string label;      // ended: how it ended (a branch's end status; the instance's status)
  nlohmann::json output;  // ended: its end step's output
  bool pivot = false;     // a pivot step of this branch has succeeded
};

// A completed step that compensation may have to undo.
struct SagaEntry {
  std::string step;
  std::string branch;
  int visit = 0;
  nlohmann::json input;       // the compensation's input, rendered when the step completed
  std::string render_error;   // why that input did not render (reported if it is ever needed)
  std::string child;          // a call step: the child instance whose steps are undone
  // The step's last attempt never reported (it timed out, or the instance stopped waiting for
  // it): whether it had an effect is unknown, so it is undone too (see docs/dsl.md).
  bool outcome_unknown = false;
};

struct Saga {
  std::vector<SagaEntry> done;  // newest last
  bool pivot = false;           // a top-level pivot succeeded: nothing before it is undone
};

// The call step that started a child instance.
struct ParentRef {
  std::string instance_id;
  std::string step;
  std::string branch;
};

// The current state of one instance.
struct InstanceRow {
  std::string id;
  std::string workflow;
  int version = 0;
  InstanceStatus status = InstanceStatus::running;
  std::string step;            // where the main line stands (its end step, once finished)
  std::string business_key;    // empty when none
  std::string correlation_id;
  std::string input_hash;      // SHA-256 hex of the start input's canonical JSON
  std::int64_t last_seq = 0;   // seq of its newest event
  TimePoint created_at;
  TimePoint updated_at;
  std::optional<TimePoint> ended_at;
  std::optional<TimePoint> deadline;  // the earliest deadline of its cursors
  std::optional<TimePoint> paused_at; // set while an operator has it paused (ActionKind::pause)
  SharedJson context;                 // .input, .instance, results; an object
  std::map<std::string, int> visits;  // "step" or "step[key]..." -> times entered
  std::vector<Cursor> cursors;        // the main line first, then branches in creation order
  Saga saga;
  // For a commit: the visits, saga and cursors already encoded, written in their place. A big
  // instance's row carries them so (Instance::encoded_row), with no copies of its cursors and
  // saga, and only the main line's counts ("step") left in `visits`.
  struct Encoded {
    std::string visits;   // store::encode_visits
    std::string saga;     // store::encode_saga, the entries' texts kept
    std::string cursors;  // store::append_cursor's, as a JSON array
  };
  std::optional<Encoded> encoded;
  std::optional<ParentRef> parent;    // set for a child started by a call step
  // The bytes of text its visits, saga and cursors were stored as, as a store read them (0 for
  // a row not read from a store; a commit tells its own in CommitReceipt).
  std::size_t state_bytes = 0;
  // Set by the engine on a row it hands to a commit when the row's context is the value an
  // earlier commit of the same instance carried: a store may leave the stored context as it is.
  // A row built or read any other way leaves it false, and its context is written.
  bool context_unchanged = false;

  // The main line; an instance always has one once started.
  const Cursor& main() const { return cursors.front(); }
  // The cursor at `branch`, or null.
  const Cursor* cursor(const std::string& branch) const;
  // Every open incident, the main line's first.
  std::vector<const Cursor*> incidents() const;
};

struct EventRow {
  std::string instance_id;
  std::int64_t seq = 0;  // 1, 2, 3, ... per instance, no gaps
  EventType type = EventType::instance_started;
  std::string step;
  std::string branch;  // the branch it happened in ("inspect_lines[L1]"); empty: the main line
  TimePoint at;
  std::string data = "{}";  // JSON object
};

// A durable timer; at most one per (instance, branch, name). Names: "retry", "wait".
struct TimerRow {
  std::string instance_id;
  std::string branch;  // the branch whose step set it; empty: the main line
  std::string name;
  TimePoint due;
};

// A signal delivered to an instance. Stored the moment it is accepted, deduplicated by
// (instance, idempotency key), kept until a wait step consumes it (oldest first).
struct SignalRow {
  std::int64_t seq = 0;  // arrival order across the database; assigned by the store on insert
  std::string instance_id;
  std::string name;
  nlohmann::json match;  // reaches only a wait whose match value equals it; null: none
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

// An instance's search attributes (Definition::attributes) as now evaluated: they replace
// what was indexed for it. `values` is an object of strings, numbers and booleans.
struct AttributeUpdate {
  std::string instance_id;
  nlohmann::json values = nlohmann::json::object();
};

// A search attribute's string value is indexed up to this many bytes; a longer one is not.
inline constexpr std::size_t kMaxAttributeBytes = 256;

// One condition on a search attribute: `name op value`, op one of = >= > <= <. A number
// compares with numbers only; a string (a time in RFC 3339 UTC too) with strings, as text.
struct AttributeCondition {
  std::string name;
  std::string op = "=";
  nlohmann::json value;  // a string or a number
};

// "customer_id=C-105", "value>=500", "returned_at<2026-06-01T00:00:00Z": the value is a number
// when it reads as one, else text ("\"500\"" in JSON quotes is the text 500). Throws
// Error(invalid_argument) naming what is wrong.
AttributeCondition parse_attribute_condition(std::string_view text);

// The most conditions on search attributes one filter takes: each is a subquery of the list's
// statement, and SQLite refuses a statement past a thousand of them, as an error of its own.
inline constexpr std::size_t kMaxAttributeConditions = 16;
// Throws Error(invalid_argument) naming the bound when `conditions` has more.
void check_attribute_count(const std::vector<AttributeCondition>& conditions);

struct InstanceFilter {
  std::vector<InstanceStatus> statuses;  // any of these; empty = all
  std::string workflow;                  // empty = all
  std::optional<int> version;
  std::string step;                      // any cursor (main line or branch) stands there
  std::string business_key;
  std::string parent_id;                 // children of this instance
  bool with_incident = false;            // only instances with an open incident on some cursor
  std::optional<bool> paused;            // only paused (true) or only unpaused (false) ones
  std::string after_id;                  // keyset cursor: ids strictly greater
  std::size_t limit = 100;
  std::optional<TimePoint> created_from;    // created at or after
  std::optional<TimePoint> created_before;  // created strictly before
  std::optional<TimePoint> deadline_before; // its current phase's deadline is at or before
  std::vector<AttributeCondition> attributes;  // all of them hold
};

// A bulk job (Engine::start_job): one operator action, or a signal, applied at a bounded rate
// to every instance a filter matches, in id order. The job's progress (the last instance it
// dealt with) is written in the same commit as each instance's action and its item, so that a
// job resumed after a restart touches no instance twice. While several nodes share the
// database, the node that holds the job's shard drives it, and passes each instance of
// another node's on to that node in the same commit (WriteBatch::commands_added); that node
// writes the item with the action.
enum class JobState { running, finished, cancelled };
std::string_view to_string(JobState state);
std::optional<JobState> parse_job_state(std::string_view text);

struct JobRow {
  std::string id;
  std::string action;     // retry, skip, cancel, resolve, pause, resume, signal
  InstanceFilter filter;  // as the job applies it: its defaults filled in, limit unused
  nlohmann::json args = nlohmann::json::object();  // the action's (signal: name, payload)
  std::string actor;
  std::string reason;
  double per_second = 10;
  JobState state = JobState::running;
  TimePoint created_at;
  TimePoint updated_at;
  std::optional<TimePoint> ended_at;
  std::string cursor;  // the last instance dealt with; empty before the first
  // How many instances it has dealt with: applied or refused here, or passed on to their node.
  std::int64_t dealt = 0;
  // The items' tallies. The store counts them: a job row is inserted with none, each item
  // inserted counts into its job's, and writing a job row over a stored one keeps them.
  std::int64_t applied = 0;
  std::int64_t refused = 0;
  std::string cancelled_by;  // the actor who cancelled it, and why
  std::string cancel_reason;
};

// What a job did to one instance.
struct JobItemRow {
  std::string job_id;
  std::string instance_id;
  bool applied = false;
  std::string detail;  // applied: the status and step after it; refused: why
  TimePoint at;
};

// A filter as JSON ({status: [...], workflow, version, step, business_key, incident, paused,
// created_from, created_before, attributes: ["name op value", ...]}), as jobs store it.
nlohmann::json filter_to_json(const InstanceFilter& filter);
// Throws Error(invalid_argument) naming what is wrong.
InstanceFilter filter_from_json(const nlohmann::json& json);

struct WriteBatch {
  std::vector<InstanceRow> instances;    // inserted or replaced whole, by id
  std::vector<EventRow> events;          // appended
  std::vector<TimerRow> timers_set;      // inserted or replaced, by (instance, name)
  std::vector<TimerRow> timers_cleared;  // by (instance, branch, name); `due` is ignored
  std::vector<SignalRow> signals_added;  // seq is assigned by the store
  std::vector<SignalConsumed> signals_consumed;
  std::vector<CommandDone> commands_done;
  std::vector<AttributeUpdate> attributes;
  std::vector<JobRow> jobs;                // inserted or replaced by id (but for the tallies)
  std::vector<JobItemRow> job_items;       // inserted; one per (job, instance); counted in its job
  std::vector<CommandRow> commands_added;  // queued for another node (ids from the store)

  bool empty() const {
    return instances.empty() && events.empty() && timers_set.empty() && timers_cleared.empty() &&
           signals_added.empty() && signals_consumed.empty() && commands_done.empty() &&
           attributes.empty() && jobs.empty() && job_items.empty() && commands_added.empty();
  }
  void clear() {
    instances.clear();
    events.clear();
    timers_set.clear();
    timers_cleared.clear();
    signals_added.clear();
    signals_consumed.clear();
    commands_done.clear();
    attributes.clear();
    jobs.clear();
    job_items.clear();
    commands_added.clear();
  }
};

// What a commit stored, told to its caller: for each of the batch's instance rows, in order,
// the bytes of text its state beside the context was stored as (InstanceRow::state_bytes).
struct CommitReceipt {
  std::vector<std::size_t> state_bytes;
};

// How many instances of one workflow have one status and started and ended in which interval
// of a recent window: the counts an overview is drawn from.
struct InstanceTally {
  std::string workflow;
  InstanceStatus status = InstanceStatus::running;
  int started_bucket = -1;  // the interval after `since` it was created in; -1: before `since`
  int ended_bucket = -1;    // the interval after `since` it ended in; -1: before, or unfinished
  std::int64_t count = 0;
};

// Where a page of the audit trail ends: the next page holds older entries only.
struct AuditCursor {
  TimePoint at;
  std::string instance_id;
  std::int64_t seq = 0;
};

// Which operator actions (events operator_action, across instances) to read.
struct AuditFilter {
  std::string actor;                // empty = all
  std::string action;               // retry, skip, goto, ...; empty = all
  std::string instance_id;          // empty = all
  std::optional<TimePoint> from;    // at or after
  std::optional<TimePoint> before;  // strictly before
  std::optional<AuditCursor> older_than;
  std::size_t limit = 100;
};

enum class PutResult { inserted, unchanged };

// How many cursors of unfinished instances of one workflow version stand at one step, the
// instances being in one status.
struct StepCount {
  std::string workflow;
  int version = 0;
  std::string step;
  InstanceStatus status = InstanceStatus::running;
  std::int64_t count = 0;
};

// ---- Several engines on one database -------------------------------------------------------
// On PostgreSQL, several engines (nodes) may share one database (StoreOptions::node). They
// share its instances out by shard: an instance's shard follows from its id, and each node
// owns the instances of the shards it holds a lease on (docs/postgresql.md).
inline constexpr int kShards = 32;
using ShardMask = std::uint32_t;  // bit s: shard s
inline constexpr ShardMask kAllShards = 0xFFFFFFFFu;

// An instance id's shard: the value of its last character in Crockford base32 (instance ids
// end in a random one); 0 for an id that ends otherwise.
int shard_of(std::string_view instance_id);
// The shard every start with this business key goes to, so that one node decides them all.
int shard_of_key(std::string_view workflow, std::string_view business_key);
inline bool holds(ShardMask mask, int shard) {
  return (mask >> shard) & 1u;
}
inline bool holds(ShardMask mask, std::string_view instance_id) {
  return holds(mask, shard_of(instance_id));
}

// What one round of lease keeping changed (Store::keep_leases()).
struct LeaseRound {
  ShardMask gained = 0;  // taken this round: their instances are this node's from now on
  ShardMask lost = 0;    // another node took them over: this node must stop (LeaseLost)
  // Held beyond this node's share while a live node holds less than its own (it joined late,
  // or came back): the engine gives them up (release_leases()) once nothing of theirs is
  // uncommitted, and that node takes them.
  ShardMask surplus = 0;
};

// A node as the database knows it (Store::nodes()).
struct NodeRow {
  std::string name;
  std::string session;  // this run of the node: a restarted node has a new one
  TimePoint started_at;
  TimePoint heartbeat_at;
  ShardMask held = 0;
  std::int64_t takeovers = 0;  // shards it took over from a node whose lease expired
};

// A node's store found that another node holds a lease it had: the node must not commit for
// those instances any more (commit() refuses), and stops.
class LeaseLost : public Error {
 public:
  explicit LeaseLost(const std::string& message) : Error(Errc::conflict, message) {}
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
  virtual CommitReceipt commit(const WriteBatch& batch) = 0;
  // Called by an engine about to commit batches, before its first: makes ready what keeps its
  // commits short (a SQLite store lays its write-ahead log's file out; PostgreSQL needs
  // nothing). A saving only: whatever it cannot do, the commits do without.
  virtual void prepare_for_commits() {}

  virtual std::optional<InstanceRow> get_instance(const std::string& id) = 0;
  virtual std::optional<InstanceRow> find_by_business_key(const std::string& workflow,
                                                          const std::string& key) = 0;
  // Runs `reads`, and the reads it makes through this store see one committed state: a view
  // put together from several reads (an instance, its commands, its children) is not torn by
  // a commit between them: one read transaction (on PostgreSQL, REPEATABLE READ); a call
  // inside a transaction joins it. For reads only; what `reads` throws is thrown on, the
  // transaction ended.
  virtual void read_together(const std::function<void()>& reads) { reads(); }
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

  // Every instance counted by workflow and status, and by the `bucket`-long intervals after
  // `since` in which it started and ended; one row per combination that has instances.
  virtual std::vector<InstanceTally> tally_instances(TimePoint since, Duration bucket) = 0;
  // Operator actions across instances, newest first (by time, then instance and seq, both
  // descending), as their operator_action events.
  virtual std::vector<EventRow> audit_trail(const AuditFilter& filter) = 0;

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
  // Its search attributes as indexed (AttributeUpdate::values); an empty object when none.
  virtual nlohmann::json attributes(const std::string& instance_id) = 0;

  // Commands. add_command() commits on its own (a client writes it while an engine may run,
  // waiting for the engine's transaction if it must) and returns the id.
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

  // Bulk jobs (JobRow); written by commits only.
  virtual std::optional<JobRow> get_job(const std::string& id) = 0;
  // Newest first, those with ids before `before_id` (all when empty), at most `limit`.
  virtual std::vector<JobRow> list_jobs(const std::string& before_id, std::size_t limit) = 0;
  virtual std::vector<JobRow> running_jobs() = 0;
  // A job's items by instance id, those after `after_instance`, at most `limit`; only the
  // refused ones when `refused_only`.
  virtual std::vector<JobItemRow> job_items(const std::string& job_id,
                                            const std::string& after_instance, bool refused_only,
                                            std::size_t limit) = 0;

  // Several engines on one database (StoreOptions::node). A store that is not a node's owns
  // every instance, and these do nothing.
  // The shards this store's engine owns. Any thread may ask.
  virtual ShardMask held_shards() const { return kAllShards; }
  // Renews the node's leases and takes expired ones, up to its share of the live nodes (all
  // that are expired for longer than a lease, whatever its share); the engine calls it three
  // times a lease, and at least every second. A node's active_instances(), due_timers() and
  // pending_commands() hold only its shards' rows, and its commit() throws LeaseLost, writing
  // nothing, once another node holds one of its leases.
  virtual LeaseRound keep_leases() { return {}; }
  // Gives the leases on `shards` up at once, so that others need not wait for them to expire.
  // All of them: the node is stopping, and commits nothing more.
  virtual void release_leases(ShardMask shards = kAllShards) { (void)shards; }
  // The nodes that renewed a lease within the last minute, by name; empty when not shared.
  virtual std::vector<NodeRow> nodes() { return {}; }
  // This store's node: empty name when it is not one.
  virtual NodeRow node() const { return {}; }
};

// Calls `visit` for each instance `filter` matches, in id order, a page at a time, until it
// returns false. `filter.limit` is ignored.
void for_each_instance(Store& store, InstanceFilter filter,
                       const std::function<bool(InstanceRow& row)>& visit);

// How durably a SQLite store commits (its `synchronous` setting). A PostgreSQL store leaves
// it to the server's `synchronous_commit` (docs/operations.md).
enum class SyncMode { full, normal };

struct StoreOptions {
  SyncMode sync = SyncMode::full;
  bool read_only = false;  // open an existing database for queries only
  // The store of the database's one engine: while it is open no other engine store can open
  // (a file lock beside a SQLite file, an advisory lock on PostgreSQL), and a crashed holder
  // never blocks its successor. Opening throws Error(conflict) naming the holder.
  bool engine = false;
  // With `engine`, on PostgreSQL: the engine joins the database's nodes under this name
  // instead of holding the database alone, and owns the instances of the shards it holds
  // leases on (Store::keep_leases()). Empty: the database's only engine.
  std::string node = {};
  // How long a node's lease lasts unless renewed: a node that stops renewing (killed, paused,
  // cut off) loses its instances to the others this long after its last renewal.
  Duration lease = Duration(10'000);
};

// Opens the store at `location`, creating and migrating its schema as needed: a
// `postgresql://` (or `postgres://`) URI names a PostgreSQL database, anything else a SQLite
// file. Every place that opens a store goes through here. Throws Error(storage) when the
// database is not an rmaflow database or is newer than this binary, Error(conflict) as
// StoreOptions::engine says, Error(invalid_argument) for a malformed URI.
std::unique_ptr<Store> open_store(const std::string& location, const StoreOptions& options = {});

// True when `location` names a PostgreSQL database rather than a SQLite file.
bool is_postgres_location(std::string_view location);
// `location` as it may be shown (logs, messages): a URI without its password.
std::string display_location(std::string_view location);

// Opens (creating and migrating as needed) the PostgreSQL database `uri` names
// (postgresql://user@host:port/db, or ?host=/socket/dir). Throws Error(invalid_argument) for a
// malformed URI, Error(storage) when the server cannot be reached or the database is not an
// rmaflow database or is newer than this binary, Error(conflict) as StoreOptions::engine says.
// Messages name the database by its URI without the password.
std::unique_ptr<Store> open_postgres_store(const std::string& uri,
                                           const StoreOptions& options = {});

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
  CommitReceipt commit(const WriteBatch& b) override { return target_->commit(b); }
  void prepare_for_commits() override { target_->prepare_for_commits(); }
  std::optional<InstanceRow> get_instance(const std::string& id) override {
    return target_->get_instance(id);
  }
  std::optional<InstanceRow> find_by_business_key(const std::string& w,
                                                  const std::string& k) override {
    return target_->find_by_business_key(w, k);
  }
  void read_together(const std::function<void()>& reads) override { target_->read_together(reads); }
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
  std::vector<InstanceTally> tally_instances(TimePoint since, Duration bucket) override {
    return target_->tally_instances(since, bucket);
  }
  std::vector<EventRow> audit_trail(const AuditFilter& f) override { return target_->audit_trail(f); }
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
  nlohmann::json attributes(const std::string& id) override { return target_->attributes(id); }
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
  std::optional<JobRow> get_job(const std::string& id) override { return target_->get_job(id); }
  std::vector<JobRow> list_jobs(const std::string& before_id, std::size_t limit) override {
    return target_->list_jobs(before_id, limit);
  }
  std::vector<JobRow> running_jobs() override { return target_->running_jobs(); }
  std::vector<JobItemRow> job_items(const std::string& job_id, const std::string& after,
                                    bool refused_only, std::size_t limit) override {
    return target_->job_items(job_id, after, refused_only, limit);
  }

 protected:
  Store& target() { return *target_; }

 private:
  std::unique_ptr<Store> target_;
};

}  // namespace rmaflow
