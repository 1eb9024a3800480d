// Engine: runs workflow instances durably.
//
// The engine owns one writer Store and runs every instance as a state machine on one thread.
// Each transition is appended to the instance's history and applied to its row in the same
// transaction; transitions of many instances share a transaction (group commit). Nothing is
// acknowledged to a caller and no adapter is invoked before the transition that caused it is
// committed. Opening an engine on an existing database resumes every unfinished instance.
//
// Thread-safety: deploy(), start(), signal(), act() and stop() may be called from any thread.
// run() and run_until_idle() drive the engine on the calling thread; call one of them from one
// thread.
// Errors: a failed commit is fatal to the engine (run*, throws Error(storage)); the database
// keeps the last committed state and a new engine resumes from it.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "rmaflow/adapter.hpp"
#include "rmaflow/clock.hpp"
#include "rmaflow/definition.hpp"
#include "rmaflow/store.hpp"

namespace rmaflow {

struct EngineOptions {
  // The database: a location open_store() opens as the engine's store (a SQLite file, with
  // `sync`, or a postgresql:// URI), or a Store built by the caller.
  std::string db_path;
  SyncMode sync = SyncMode::full;
  std::unique_ptr<Store> store;

  std::shared_ptr<Clock> clock;                 // default: the system clock
  std::shared_ptr<AdapterRegistry> adapters;    // default: only `builtin`
  std::uint64_t seed = 0;                       // for retry jitter; 0 = random
  std::size_t max_batch_events = 8192;          // a commit is cut once this many events wait
  // Durable wait timers are held in memory only when due within this window (refilled as time
  // passes), so an instance waiting for weeks costs nothing but its rows.
  Duration timer_window = Duration(10 * 60 * 1000);
  // A start that would create an instance while this many run (held in memory: running or
  // compensating; waiting ones are rows only) is refused with Errc::busy, the same start
  // answered as before when its business key is already started; 0: no bound. Memory is what
  // it bounds: a flood of starts while the systems called answer slowly would otherwise hold
  // every instance begun (about 6 KB each). Starts passed on by another node are not counted
  // against it: that node took them.
  std::size_t max_running = 0;
  // The same for the bytes of text the instances running at once are stored as (their
  // contexts, and their cursors, visits and sagas): a start whose input would take the sum past
  // it is refused with Errc::busy, unless nothing runs (so that no start is refused for ever);
  // 0: no bound. In memory an instance holds several times that text (10 to 14 times for a
  // return's lines, held at one call or in a branch each), so that a flood of starts with big
  // inputs, which max_running alone lets hold 100,000 inputs of a megabyte, is bounded by what
  // they hold. An instance is counted for its row as last committed (its steps' results and
  // its branches included) or as loaded, a start for its input until then; children started
  // by call steps are counted, never refused.
  std::uint64_t max_running_bytes = 0;
  // Waiting instances whose rows are at least keep_waiting_least bytes (a return of about a
  // hundred lines or more) are kept decoded after their commits, up to this many bytes of them
  // counted as max_running_bytes counts (about ten times that in memory), the least recently
  // used let go first: a signal to one of them then costs its step, not reading and decoding
  // its whole row again. They are not running, and neither bound counts them. 0 keeps none.
  std::uint64_t keep_waiting_bytes = 8 << 20;
  std::uint64_t keep_waiting_least = 64 << 10;
  // Instances whose state (cursors, visits, saga) was last stored as at least this many bytes
  // keep each cursor's text between their commits: a commit encodes only the cursors that
  // changed (a scan of one line of a big return, one of thousands), on the engine thread,
  // rather than every cursor on the commit's. Smaller ones are copied and encoded as before.
  std::uint64_t keep_cursor_texts_least = 64 << 10;
  // Stops the set/switch steps of one instance from looping forever without a task or wait.
  int max_steps_per_turn = 1000;
  // Called on the engine thread with the engine's own time between an adapter's outcome
  // arriving and the instance's next adapter call going out (the per-step overhead).
  std::function<void(std::chrono::nanoseconds)> on_step_latency;
  // Called on the engine thread after each commit with what it made durable (its events and the
  // rows of the instances they belong to) and how long the commit took; never for a commit
  // that failed. Logs, metrics and trace export are fed from here, so they report only
  // transitions that happened. It must not block the engine: cheap, bounded work only.
  std::function<void(const WriteBatch&, std::chrono::nanoseconds)> on_commit;
  // The share of instances whose traces are exported (trace_sampled() in trace_id.hpp), as
  // adapter calls tell the services they call (Invocation::trace_sampled).
  double trace_sample = 1.0;
  // While run() runs, operator commands other processes queue in the database (the offline
  // CLI) are picked up this often; zero: only when the engine opens. A node looks every 50 ms
  // at most, for the requests other nodes pass on.
  std::chrono::milliseconds command_poll{250};
  // Several engines on one PostgreSQL database (StoreOptions::node): this engine's node name
  // and how long its leases last. A node owns the instances of the shards it holds leases on;
  // requests about others' instances go through the command queue to their owner, and it
  // stops (run() throws LeaseLost) once another node has taken one of its shards over.
  std::string node = {};
  Duration lease = Duration(10'000);
};

// The answer to a request made with a callback: its result, or the Error a future would throw.
template <typename Result>
struct Reply {
  std::optional<Result> result;
  std::exception_ptr error;  // holds an rmaflow::Error when there is no result
  bool ok() const { return result.has_value(); }
};

// Called exactly once with the answer, on the engine thread (or, when the engine is destroyed
// before answering, on the thread destroying it, with an Error(storage)). It must not block.
template <typename Result>
using ReplyFn = std::function<void(Reply<Result>)>;

struct DeployResult {
  std::string workflow;
  int version = 0;
  bool created = false;  // false: the identical definition was already deployed
};

struct StartRequest {
  std::string workflow;
  std::optional<int> version;               // default: the newest deployed version
  nlohmann::json input = nlohmann::json::object();
  std::optional<std::string> business_key;  // default: the workflow's business_key expression
  std::string correlation_id;               // default: the instance id
};

struct StartResult {
  std::string instance_id;
  int version = 0;
  bool created = false;  // false: an instance with this business key and input already existed
};

// An operator's repair of one instance; recorded in its history with actor and reason.
//   retry    a suspended step (or a compensation) again now, or a pending retry at once;
//            args {input?}: replaces the step's input
//   skip     a suspended or waiting task/wait step (or a failed compensation) as if it had
//            succeeded; args {output?}: lands at the step's result
//   goto     move to another step of the same flow; args {step}
//   cancel   end it `cancelled`; args {compensate?: bool} runs its compensations first
//   patch    apply a JSON merge patch to the context (not .input or .instance); args {patch}
//   resolve  close the incident and end it `failed` (a branch: end that branch `failed` and let
//            its fan-out step go on): dealt with outside rmaflow
//   migrate  move a waiting instance to another version of its workflow (see migration.hpp);
//            args {to, steps?: {old: new}}
//   pause    hold the whole instance where it is: no step begins, no attempt starts and no
//            timer fires until it is resumed; attempts in flight finish and are recorded, and
//            signals are accepted and kept for it
//   resume   let a paused instance go on: timers that came due while paused fire now, the
//            steps and attempts it held begin, and the signals kept for it are consumed
enum class ActionKind {
  retry,
  skip,
  goto_step,
  cancel,
  patch,
  resolve,
  migrate,
  pause,
  resume,
  redrive,  // reopens a finished instance at a step (the one that failed by default)
};

std::string_view to_string(ActionKind kind);
std::optional<ActionKind> parse_action_kind(std::string_view text);

struct OperatorAction {
  std::string instance_id;
  ActionKind kind = ActionKind::retry;
  std::string actor;
  std::string reason;
  nlohmann::json args = nlohmann::json::object();
  // The branch retry, skip, goto and resolve apply to: its path ("inspect_lines[L1]") or just
  // its key ("L1") when that is unique. Empty: the main line, or for retry, skip and resolve the
  // one cursor with an open incident. cancel, patch and migrate apply to the whole instance.
  std::string branch;
  std::string job;  // the bulk job that applies it, if any (recorded with it)
};

struct ActionResult {
  std::string instance_id;
  InstanceStatus status = InstanceStatus::running;  // right after the action
  std::string step;    // where the main line stands
  std::string branch;  // the branch it applied to; empty: the main line or the whole instance
};

// A bulk job (JobRow in store.hpp): `action` applied to every instance `filter` matches, one
// after another in id order, at most `per_second` a second, while run() runs.
//   action  retry, skip, cancel, resolve, pause, resume (operator actions, as act() applies
//           them) or signal
//   filter  narrows the instances the action takes by default (job_scope); instances created
//           after the job started are left alone
//   args    cancel: {compensate?: bool}; signal: {name, payload?, match?}; the others none
// Each instance the job deals with gets an item (applied, or refused and why) in the commit
// that applies the action, and an applied action is recorded in the instance's history with
// the job's id. A job resumes after a restart where it stood and touches no instance twice.
struct JobRequest {
  std::string action;
  InstanceFilter filter;
  nlohmann::json args = nlohmann::json::object();
  std::string actor;
  std::string reason;
  double per_second = 10;  // from 0.1 to 1000
};

// The bulk job actions, as JobRequest::action names them.
inline constexpr std::array<std::string_view, 7> kJobActions = {
    "retry", "skip", "cancel", "resolve", "pause", "resume", "signal"};

// The instances a job's action applies to: `filter`, with the action's statuses when it names
// none (retry, resolve: suspended; skip: suspended, waiting; cancel: running, waiting,
// suspended; pause: every unfinished one not paused; resume: the paused; signal: waiting).
InstanceFilter job_scope(std::string_view action, InstanceFilter filter);
// Throws ArgumentError (errors.hpp) naming the field of `request` that is wrong.
void check_job_request(const JobRequest& request);

// What one limit (an adapter's, or one operation's) is doing, for metrics.
struct LimitState {
  std::string adapter;
  std::string operation;  // empty: the adapter as a whole
  CallLimit limit;
  std::size_t in_flight = 0;
  std::size_t queued = 0;
  std::uint64_t waited = 0;   // calls that had to wait, since the engine opened
  double waited_seconds = 0;  // their waits, in all
};

// A call an instance is waiting with: its place in its adapter's queue (1 = next).
struct QueuedCall {
  std::string adapter;
  std::string operation;
  std::string branch;
  TimePoint since;
  std::size_t position = 0;
};

struct EngineStats {
  std::uint64_t commits = 0;
  std::uint64_t events = 0;
  std::uint64_t invocations = 0;
  std::size_t active_instances = 0;  // held in memory
  std::size_t max_running = 0;       // EngineOptions::max_running (0: no bound)
  std::uint64_t held_bytes = 0;      // the instances held, as max_running_bytes counts them
  std::uint64_t max_running_bytes = 0;  // EngineOptions::max_running_bytes (0: no bound)
  // The big waiting instances kept decoded (EngineOptions::keep_waiting_bytes), as held_bytes
  // counts them; neither bound counts them.
  std::uint64_t kept_waiting_bytes = 0;
  std::uint64_t keep_waiting_bytes = 0;  // EngineOptions::keep_waiting_bytes (0: none kept)
  // busy: past max_running or max_running_bytes, since the engine opened
  std::uint64_t starts_refused = 0;
  std::size_t in_flight = 0;         // adapter calls not yet answered
  // Timers held in memory: the timeouts of calls out, retries, waits due soon, adapters' own.
  std::size_t timers_in_memory = 0;
  // Liveness, for health checks: while run() runs, the engine's thread renews its heartbeat at
  // least every second, so an old heartbeat means the thread is stuck. While commits fail (a
  // full disk, an I/O error) they are retried: storage_failing says so, with the last error.
  std::chrono::steady_clock::time_point heartbeat{};
  bool storage_failing = false;
  std::string storage_error;
  std::uint64_t failed_commits = 0;  // since the engine opened
  NodeRow node;  // when it is one of several nodes on its database: its name and leases
};

class Engine {
 public:
  // Opens the store, loads what must resume. Throws Error.
  static std::unique_ptr<Engine> open(EngineOptions options);
  virtual ~Engine() = default;

  // Stores a definition (idempotent). Throws Error(conflict) for the same name and version
  // with other content, DefinitionError when an action or compensation names an adapter or
  // operation the engine's adapters do not have (check_actions).
  virtual DeployResult deploy(std::shared_ptr<const Definition> definition) = 0;

  // Starts an instance. Answered once the start is committed, or with an Error: not_found
  // (workflow), invalid_input (not an object, fails the schema), conflict (same business key,
  // other input). Requires the engine to be running (run/run_until_idle).
  virtual void start(StartRequest request, ReplyFn<StartResult> done) = 0;
  std::future<StartResult> start(StartRequest request);

  // Delivers a signal. Answered once the signal is durably stored (and, when the instance
  // waits for it, consumed), or with an Error: not_found (no such instance), refused (the
  // instance is finished), invalid_argument (no name). Requires the engine to be running,
  // like start().
  virtual void signal(SignalRequest request, ReplyFn<SignalResult> done) = 0;
  std::future<SignalResult> signal(SignalRequest request);

  // Applies an operator action. Answered with the instance's status once the action is
  // committed, or with an Error: not_found (instance, step), refused (makes no sense in its
  // state; the message says why), invalid_argument (a missing reason or malformed args).
  virtual void act(OperatorAction action, ReplyFn<ActionResult> done) = 0;
  std::future<ActionResult> act(OperatorAction action);

  // Stores a bulk job (JobRequest) and answers with it once committed; it runs while run()
  // runs. Error(invalid_argument) for a malformed request.
  virtual void start_job(JobRequest request, ReplyFn<JobRow> done) = 0;
  std::future<JobRow> start_job(JobRequest request);
  // Ends a running job after the instance it is dealing with (recorded with who and why);
  // answers with the job once committed. Error(not_found), or Error(refused) when it ended.
  virtual void cancel_job(std::string id, std::string actor, std::string reason,
                          ReplyFn<JobRow> done) = 0;
  std::future<JobRow> cancel_job(std::string id, std::string actor, std::string reason);

  // Answers with the instance's row once its end is committed, or after `timeout` with its row
  // as then committed, whichever comes first; at once when it has ended already (or `timeout`
  // is not positive). How a client waits for an instance's end without polling (the API's
  // `GET /v1/instances/{id}?wait=`). Error(not_found) for an unknown instance. Requires the
  // engine to be running, like start().
  virtual void await_end(std::string instance_id, Duration timeout, ReplyFn<InstanceRow> done) = 0;
  std::future<InstanceRow> await_end(std::string instance_id, Duration timeout);

  // Runs on the calling thread until nothing can progress without an outside event: every
  // instance is finished, waiting or suspended, and no adapter call is in flight. Retry
  // delays are waited out on a real clock. On a manual clock it returns as soon as nothing is
  // ready to run: adapter calls still out and timers are the caller's to drive (answer them,
  // advance the clock, call again).
  virtual void run_until_idle() = 0;

  // Runs on the calling thread in virtual time (the engine's clock must be a ManualClock):
  // runs until idle, then moves the clock to the earliest pending timer and runs again, until
  // no timer remains at or before `until`. An adapter call answered from another thread (not
  // through AdapterHost::call_at) is waited for, not timed out by a clock jump. Weeks of
  // waits, retries and simulated latencies pass in milliseconds. Throws
  // Error(invalid_argument) on a real clock.
  virtual void run_virtual(TimePoint until) = 0;

  // Runs on the calling thread until stop() is called from any thread; commits in flight finish.
  virtual void run() = 0;
  virtual void stop() = 0;

  // The earliest pending timer, if any (a manual-clock driver advances to it).
  virtual std::optional<TimePoint> next_timer() const = 0;

  virtual EngineStats stats() const = 0;
  // The adapters' call limits and what each is doing; the call an instance waits with, if any.
  virtual std::vector<LimitState> call_limits() const = 0;
  virtual std::optional<QueuedCall> queued_call(const std::string& instance_id) const = 0;
  virtual Store& store() = 0;
};

}  // namespace rmaflow
