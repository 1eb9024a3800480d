// The Engine implementation: one thread drives an Asio io_context; every handler moves
// instances through the StepMachine, which records transitions in the GroupCommit's batch; a
// flush commits the batch in one transaction and then runs its deferred effects.
//
// Its jobs, and where each lives:
//   engine_impl.cpp      opening, driving (run, run_until_idle, run_virtual), instances in memory,
//                        the heartbeat (engine_health)
//   recovery.cpp         resuming what was unfinished when the process stopped; quarantining the
//                        instance the last two processes died on (quarantine)
//   engine_start.cpp     starting instances (idempotent by business key)
//   engine_signals.cpp   accepting signals, and which signals an instance can take
//   engine_commands.cpp  operator actions, from callers and from the database's command queue
//   engine_jobs.cpp      bulk jobs: an action applied over a filter at a bounded rate
//   engine_calls.cpp     invoking adapters and taking their outcomes; adapters' host services
//   engine_children.cpp  child instances started by call steps
//   engine_ends.cpp      instance ends: a child's parent goes on, callers awaiting the end
//   definition_cache     deployed versions and their input schemas
//   group_commit         the batch and its commit, written on a thread of its own while the
//                        next batch is built, kept and retried when it fails while serving
//   timer_service        timers in memory, the timer window and the wake-up
//
// Threads: everything here runs on the engine thread (the one in run*()), except what
// Engine's contract lets other threads call (deploy, start, signal, act, stop, stats,
// next_timer), which post to it or take the store lock, and the commit writer GroupCommit owns.
// The store is used under store_mu_ (a StoreGate) by the engine thread, the commit writer,
// deploy() and next_timer().
#pragma once

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "engine/runtime/batch.hpp"
#include "engine/runtime/call_limiter.hpp"
#include "engine/runtime/definition_cache.hpp"
#include "engine/runtime/engine_health.hpp"
#include "engine/runtime/forwarder.hpp"
#include "engine/runtime/group_commit.hpp"
#include "engine/runtime/held_instances.hpp"
#include "engine/runtime/instance.hpp"
#include "engine/runtime/pending_reply.hpp"
#include "engine/runtime/quarantine.hpp"
#include "engine/runtime/step_machine.hpp"
#include "engine/runtime/store_gate.hpp"
#include "engine/runtime/timer_service.hpp"
#include "engine/support/ids.hpp"
#include "rmaflow/engine.hpp"

namespace rmaflow {

// Thrown by a request's handler when the instance (or, for a start, the shard its business
// key belongs to) is another node's: the request goes to that node (Forwarder). An Error, so
// that a path that cannot pass it on refuses the request instead.
class RoutedElsewhere : public Error {
 public:
  RoutedElsewhere(std::string instance_id, int shard);
  std::string instance_id;  // empty for a start
  int shard = 0;
};

// How a request is passed on to the node that owns its instance: the command that asks that
// node for the same (built on the engine thread), and the answer read from its outcome.
template <typename Result>
struct Route {
  std::function<CommandRow(const RoutedElsewhere&)> command;
  std::function<Result(const CommandRow& done, Store& store)> answer;
};

class EngineImpl final : public Engine, private MachineHost, private AdapterHost {
 public:
  explicit EngineImpl(EngineOptions options);
  ~EngineImpl() override;

  using Engine::act;
  using Engine::signal;
  using Engine::start;
  DeployResult deploy(std::shared_ptr<const Definition> definition) override;
  void start(StartRequest request, ReplyFn<StartResult> done) override;
  void signal(SignalRequest request, ReplyFn<SignalResult> done) override;
  void act(OperatorAction action, ReplyFn<ActionResult> done) override;
  void start_job(JobRequest request, ReplyFn<JobRow> done) override;
  void await_end(std::string instance_id, Duration timeout, ReplyFn<InstanceRow> done) override;
  void cancel_job(std::string id, std::string actor, std::string reason,
                  ReplyFn<JobRow> done) override;
  void run_until_idle() override;
  void run_virtual(TimePoint until) override;
  void run() override;
  void stop() override;
  std::optional<TimePoint> next_timer() const override { return timers_->next(); }
  EngineStats stats() const override;
  std::vector<LimitState> call_limits() const override { return limiter_->snapshot(); }
  std::optional<QueuedCall> queued_call(const std::string& id) const override {
    return limiter_->queued(id);
  }
  Store& store() override { return *store_; }

 private:
  using WorkGuard = boost::asio::executor_work_guard<boost::asio::io_context::executor_type>;

  // MachineHost
  TimePoint now() const override { return clock_->now(); }
  bool call_limited(const std::string& adapter, const std::string& operation) const override {
    return limiter_->limited(adapter, operation);
  }
  Batch& batch() override { return commit_->batch(); }
  void invoke_after_commit(Instance& inst, const LiveCursor& cursor) override;
  void arm_after_commit(TimerEntry entry) override;
  Duration random_up_to(Duration max) override;
  void load_signals(Instance& inst) override;
  std::shared_ptr<const Definition> find_definition(const std::string& workflow,
                                                    int version) override {
    return definitions_->get(workflow, version);
  }
  std::optional<int> latest_version(const std::string& workflow) override {
    return definitions_->latest(workflow);
  }
  std::string create_child(Instance& parent, const std::string& branch,
                           std::shared_ptr<const Definition> workflow,
                           nlohmann::json input) override;
  void begin_child(const std::string& child_id) override;
  void instance_ended(Instance& inst) override;
  // A child ended: its parent's call step goes on.
  void child_ended(Instance& child);
  void cancel_child(const std::string& child_id, bool compensate,
                    const std::string& reason) override;
  bool compensate_child(const std::string& child_id, const std::string& reason) override;

  // AdapterHost
  const Clock& clock() const override { return *clock_; }
  void call_at(TimePoint due, std::function<void()> fn) override;
  void deliver_signal(SignalRequest request, SignalDone done) override;

  // recovery.cpp
  void recover();
  // Holds in memory the rows' instances that are not yet and whose shard is in `shards`;
  // returns their ids.
  std::vector<std::string> load_active(std::vector<InstanceRow> rows, ShardMask shards);
  // Arms the loaded instances' retry timers and resumes them, in id order.
  void resume_loaded(std::vector<std::string> ids);
  // Several nodes (engine_nodes.cpp): renews this node's leases and takes its share; throws
  // LeaseLost when another node took one of its shards over.
  void keep_leases();
  // While run() runs, as a node: keep_leases() after `after`, then three times a lease.
  void arm_lease_keeping(std::chrono::milliseconds after);
  // Takes up the instances, timers and commands of shards just taken.
  void adopt(ShardMask gained);
  // Gives shards up to a node short of its share, once nothing of theirs is uncommitted.
  void give_up(ShardMask shards);
  // The shard a new instance without a business key goes to: the held ones in turn.
  int home_shard();
  bool is_node() const { return !options_.node.empty(); }
  // Quarantines the instance the last two processes died on, if it is in `shards`: at
  // recovery, or on a node when it takes the suspect's shard (before resuming anything).
  void quarantine_suspect(ShardMask shards);
  // Marks `id` as the instance the engine's thread works on (quarantine.hpp).
  QuarantineRecord::Scope processing(const std::string& id) {
    return QuarantineRecord::Scope(quarantine_ ? &*quarantine_ : nullptr, id);
  }
  // While run() runs: renews the heartbeat every second (engine_health.hpp).
  void arm_heartbeat();

  // Instances in memory (engine_impl.cpp).
  // An instance rebuilt from its row, on the definition it is pinned to. Throws Error(storage).
  std::unique_ptr<Instance> load_instance(InstanceRow row);
  // Gives every cursor of an instance loaded (or kept decoded and held again) a generation no
  // call or timer given out before carries.
  void new_generation(Instance& inst);
  // The instance, from memory or loaded from the store (then held until it settles); null
  // when there is no such instance or it is finished.
  Instance* acquire(const std::string& id);
  // acquire(), or Error(not_found) / Error(refused: "a finished instance <refusal>").
  Instance& acquire_unfinished(const std::string& id, std::string_view refusal);
  // Derives the instance's status from its cursors and, once the batch commits, drops it from
  // memory unless it can make progress by itself.
  void settle(Instance& inst);
  Instance* find_any(const std::string& id);

  // Requests (engine_start.cpp, engine_signals.cpp, engine_commands.cpp).
  // Runs `handle` on the engine thread; its result answers `done` once the batch it wrote to is
  // committed (for a request that changed nothing, once the batch before it is); an Error it
  // throws answers at once.
  // A handler that throws RoutedElsewhere has the request passed on along `route` (refused
  // when there is none).
  template <typename Result, typename Handle>
  void submit(Handle handle, ReplyFn<Result> done, Route<Result> route = {});
  // How a node passes each kind of request on (engine_nodes.cpp).
  Route<StartResult> start_route(const StartRequest& request);
  Route<SignalResult> signal_route(const SignalRequest& request);
  Route<ActionResult> act_route(const OperatorAction& action);
  // `id`: the instance's id when another node chose it (a start passed on, engine_nodes.cpp).
  StartResult handle_start(StartRequest request, const std::string& id = {});
  // Refuses (Errc::busy) a start of `workflow` with an input of `input_bytes` (its JSON text)
  // that would take the instances held past max_running or max_running_bytes.
  void check_room(const std::string& workflow, std::size_t input_bytes);
  // A new instance of `def` with `input` (`input_bytes` of JSON text), in memory, not yet begun.
  Instance& create_instance(std::string id, std::shared_ptr<const Definition> def,
                            nlohmann::json input, std::size_t input_bytes, std::string business_key,
                            std::string input_hash, std::string correlation_id);
  SignalResult handle_signal(const SignalRequest& request);
  // A signal for another node's instance: refused here for what its definition alone decides
  // (as its owner would refuse it), else passed on (RoutedElsewhere).
  void check_signal_elsewhere(const std::string& id, const std::string& name);
  ActionResult handle_action(const OperatorAction& action);
  // A redrive: loads the finished instance and the history of its last run, plans and applies.
  ActionResult handle_redrive(const OperatorAction& action);
  // Applies operator commands written to the database by other processes (the offline CLI),
  // at most `limit` of them, each once.
  void apply_pending_commands(std::size_t limit);
  // While run() runs: applies newly queued commands every options_.command_poll.
  void arm_command_poll();

  // Bulk jobs (engine_jobs.cpp).
  JobRow handle_start_job(JobRequest request);
  JobRow handle_cancel_job(const std::string& id, const std::string& actor,
                           const std::string& reason);
  // Cancelling a job another node drives: passed on to it (engine_nodes.cpp).
  Route<JobRow> cancel_job_route(const std::string& id, const std::string& actor,
                                 const std::string& reason);
  // Loads the running jobs of `shards` that are not loaded yet: this engine drives them.
  void load_jobs(ShardMask shards);

  // Awaiting ends (engine_children.cpp).
  void handle_await_end(const std::string& id, Duration timeout,
                        std::shared_ptr<PendingReply<InstanceRow>> reply);
  // The waiter's time is up: answered with the instance's row as committed, if still waiting.
  void end_wait_expired(const std::string& id, std::uint64_t waiter);
  // Arms the host timer for the earliest timeout of a wait, unless one fires by then.
  void arm_end_wait_timer();
  void end_wait_timer_fired(TimePoint due);
  // The instance's row as committed. Throws Error(not_found).
  InstanceRow committed_row(const std::string& id);
  // While run() runs and a job is running: applies each job's share every tick.
  void arm_job_tick();
  void run_jobs();
  // Deals with one instance: applies the job's action and records its item, or passes the
  // instance on to the node that owns it; records the job's progress either way.
  void apply_job_item(JobRow& job, const std::string& instance_id);
  // Applies the job's action to one instance of this engine's: its item, not yet recorded.
  JobItemRow deal_with(const JobRow& job, const std::string& instance_id);
  // Another node's job passed one of this node's instances on (`body` names the job): applies
  // the action and records the item; returns the command's outcome.
  std::string apply_job_command(const CommandRow& command, const nlohmann::json& body);
  // Whether every item of a job that has dealt with every instance is written (on a node,
  // the items of instances passed on come from their nodes' commits).
  bool job_drained(const JobRow& job);

  // Adapter calls and timers (engine_calls.cpp).
  // Makes the call now, or queues it behind its adapter's limits.
  void invoke(Instance& inst, LiveCursor& cursor);
  // Sends the call to the adapter; `limited`: its limiter slots are released when answered.
  void dispatch(Instance& inst, LiveCursor& cursor, bool limited);
  // Sends the queued calls whose turn has come, and wakes up for the next.
  void run_due_calls();
  void complete(const std::string& id, const std::string& branch, std::uint64_t generation,
                Outcome outcome);
  void fire_due_timers();
  // Drops timers at the front that no longer apply (the attempt, retry or wait moved on).
  void prune_stale_timers();
  // The cursor an outcome or timer is for, if it is still at that generation.
  LiveCursor* find_cursor(Instance* inst, const std::string& branch, std::uint64_t generation);

  bool must_keep_running() const;

  EngineOptions options_;
  std::optional<QuarantineRecord> quarantine_;  // for a database opened by its location
  std::unique_ptr<Store> store_;
  mutable StoreGate store_mu_;  // the store is used under it (store_gate.hpp)
  std::shared_ptr<Clock> clock_;
  std::shared_ptr<AdapterRegistry> adapters_;
  std::vector<std::shared_ptr<Adapter>> started_;  // stopped when the engine closes

  boost::asio::io_context io_;
  EngineHealth health_;
  boost::asio::steady_timer heartbeat_;
  boost::asio::steady_timer lease_timer_;  // a node's lease keeping (keep_leases)
  std::optional<DefinitionCache> definitions_;
  std::optional<GroupCommit> commit_;
  std::optional<TimerService> timers_;
  StepMachine machine_;
  boost::asio::steady_timer command_poll_;
  // Queued commands applied whose outcome waits in the batch for its commit.
  std::unordered_set<std::int64_t> applying_;
  std::unique_ptr<Forwarder> forwarder_;  // when a node: requests for other nodes' instances
  int last_home_ = kShards - 1;
  // Instances loaded so far: each load's cursors count their generations from a range of its
  // own, so an outcome or timer of an earlier load of the same instance is never mistaken for
  // one of this load's.
  std::uint64_t loads_ = 0;
  struct RunningJob {
    JobRow row;
    double allowance = 0;  // instances it may deal with now (a token bucket)
  };
  std::map<std::string, RunningJob> jobs_;  // running jobs, by id
  // Callers awaiting an instance's end (await_end), by instance id; each answered once, by the
  // end's commit or its timeout, whichever comes first.
  // Their timeouts, earliest first (instance id, waiter). One host timer at a time stands for
  // them all, armed for the earliest: a wait its end answers leaves nothing queued behind it.
  using EndWaitExpiries = std::multimap<TimePoint, std::pair<std::string, std::uint64_t>>;
  struct EndWaiter {
    std::uint64_t id = 0;
    std::shared_ptr<PendingReply<InstanceRow>> reply;
    EndWaitExpiries::iterator expiry;
  };
  std::unordered_map<std::string, std::vector<EndWaiter>> end_waiters_;
  std::uint64_t next_end_waiter_ = 0;
  EndWaitExpiries end_wait_expiries_;
  std::optional<TimePoint> end_wait_timer_;  // when the host timer armed for them fires
  boost::asio::steady_timer job_tick_;
  std::optional<CallLimiter> limiter_;
  boost::asio::steady_timer limit_wake_;
  bool job_tick_armed_ = false;
  std::chrono::steady_clock::time_point last_job_tick_{};
  std::optional<WorkGuard> inflight_guard_;
  std::optional<WorkGuard> run_guard_;

  HeldInstances held_;
  struct PendingKey {
    std::string instance_id;
    std::string input_hash;
    int version;
    nlohmann::json input;  // canonical, to name what differs in a conflicting start
  };
  std::unordered_map<std::string, PendingKey> pending_keys_;  // uncommitted starts by key

  IdGenerator ids_;
  std::mt19937_64 rng_;
  std::size_t in_flight_ = 0;
  std::atomic<bool> stopping_{false};

  std::atomic<std::uint64_t> invocations_{0};
  // past options_.max_running or max_running_bytes
  std::atomic<std::uint64_t> starts_refused_{0};
  std::atomic<std::size_t> in_flight_count_{0};
};

// The key pending_keys_ files a start under.
inline std::string pending_key(const std::string& workflow, const std::string& business_key) {
  return workflow + '\n' + business_key;
}

template <typename Result, typename Handle>
void EngineImpl::submit(Handle handle, ReplyFn<Result> done, Route<Result> route) {
  auto reply = std::make_shared<PendingReply<Result>>(std::move(done));
  boost::asio::post(io_, [this, handle = std::move(handle), reply,
                          route = std::move(route)]() mutable {
    if (commit_->holding()) {  // no new work until the kept batch commits: nothing stored
      reply->fail(std::make_exception_ptr(
          Error(Errc::busy,
                "the database refuses writes for now (commits are being retried); "
                "try again shortly")));
      return;
    }
    std::optional<Result> result;
    try {
      result = handle();
    } catch (const RoutedElsewhere& routed) {
      if (!route.command || !forwarder_) {
        reply->fail(std::current_exception());
        return;
      }
      forwarder_->send(
          route.command(routed),
          [reply, answer = route.answer](const CommandRow& done, Store& store) {
            reply->give(answer(done, store));
          },
          [reply](std::exception_ptr error) { reply->fail(std::move(error)); });
      return;
    } catch (const Error&) {
      reply->fail(std::current_exception());
      return;
    }
    batch().then([reply, result = std::move(*result)]() mutable { reply->give(std::move(result)); });
    commit_->request();
  });
}

}  // namespace rmaflow
