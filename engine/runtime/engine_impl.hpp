// The Engine implementation: one thread drives an Asio io_context; every handler records
// transitions in a Batch; a flush commits the batch in one transaction and then runs its
// deferred effects (group commit).
#pragma once

#include <atomic>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/system_timer.hpp>

#include "engine/dsl/input_schema.hpp"
#include "engine/runtime/batch.hpp"
#include "engine/runtime/engine_lock.hpp"
#include "engine/runtime/instance.hpp"
#include "engine/runtime/pending_reply.hpp"
#include "engine/runtime/step_machine.hpp"
#include "engine/runtime/timer_queue.hpp"
#include "engine/support/ids.hpp"
#include "rmaflow/engine.hpp"

namespace rmaflow {

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
  void run_until_idle() override;
  void run_virtual(TimePoint until) override;
  void run() override;
  void stop() override;
  std::optional<TimePoint> next_timer() const override;
  EngineStats stats() const override;
  Store& store() override { return *store_; }

 private:
  using WorkGuard = boost::asio::executor_work_guard<boost::asio::io_context::executor_type>;

  // MachineHost
  TimePoint now() const override { return clock_->now(); }
  Batch& batch() override { return batch_; }
  void invoke_after_commit(Instance& inst) override;
  void arm_after_commit(TimerEntry entry) override;
  void release_after_commit(Instance& inst) override;
  Duration random_up_to(Duration max) override;
  void load_signals(Instance& inst) override;
  std::shared_ptr<const Definition> find_definition(const std::string& workflow,
                                                    int version) override {
    return definition(workflow, version);
  }

  // AdapterHost
  const Clock& clock() const override { return *clock_; }
  void call_at(TimePoint due, std::function<void()> fn) override;
  void deliver_signal(SignalRequest request, SignalDone done) override;

  void recover();
  // An instance rebuilt from its row, on the definition it is pinned to. Throws Error(storage).
  std::unique_ptr<Instance> load_instance(InstanceRow row);
  // Applies operator commands written to the database by other processes (the offline CLI),
  // at most `limit` of them, each once (engine_commands.cpp).
  void apply_pending_commands(std::size_t limit);
  // While run() runs: applies newly queued commands every options_.command_poll.
  void arm_command_poll();
  // Runs `handle` on the engine thread; its result answers `done` once the batch it wrote to is
  // committed (for a request that changed nothing, once the batch before it is); an Error it
  // throws answers at once.
  template <typename Result, typename Handle>
  void submit(Handle handle, ReplyFn<Result> done);
  StartResult handle_start(StartRequest request);
  // Throws InvalidInput naming the field when `input` fails the definition's input schema.
  void check_input(const Definition& def, const nlohmann::json& input);
  // Records the signal; returns the answer to give once committed. Throws Error.
  SignalResult handle_signal(const SignalRequest& request);
  ActionResult handle_action(const OperatorAction& action);
  // The instance, from memory or loaded from the store (then held until it settles); null
  // when there is no such instance or it is finished.
  Instance* acquire(const std::string& id);
  // acquire(), or Error(not_found) / Error(refused: "a finished instance <refusal>").
  Instance& acquire_unfinished(const std::string& id, std::string_view refusal);
  // Drops an instance that cannot progress by itself (waiting, suspended, finished) from
  // memory once the batch commits.
  void settle(Instance& inst);
  // The definition an instance runs on: from the cache, else loaded from the store.
  std::shared_ptr<const Definition> definition(const std::string& workflow, int version);
  std::optional<int> latest_version(const std::string& workflow);

  void invoke(Instance& inst);
  void complete(const std::string& id, std::uint64_t generation, Outcome outcome);
  void fire_due_timers();
  // Drops entries at the front that no longer apply (the attempt, retry or wait moved on).
  void prune_stale_timers();
  Instance* find_active(const std::string& id, std::uint64_t generation);
  Instance* find_any(const std::string& id);  // in memory, whatever its generation

  // Commits the batch (if it holds anything) and runs its effects. Throws Error(storage).
  void flush();
  void request_flush();
  void arm_wake();
  bool has_ready_timers() const;
  // Loads the durable wait timers due within the window when the window runs short.
  void refill_timers();
  bool must_keep_running() const;

  EngineOptions options_;
  std::optional<EngineLock> lock_;  // taken before the store opens, released after it closes
  std::unique_ptr<Store> store_;
  mutable std::mutex store_mu_;  // the store is used by the engine thread and by deploy()
  std::shared_ptr<Clock> clock_;
  std::shared_ptr<AdapterRegistry> adapters_;
  std::vector<std::shared_ptr<Adapter>> started_;  // stopped when the engine closes

  boost::asio::io_context io_;
  boost::asio::system_timer wake_;
  boost::asio::steady_timer command_poll_;
  std::int64_t last_command_ = 0;  // commands up to this id were handled
  std::optional<TimePoint> wake_armed_for_;
  std::optional<WorkGuard> inflight_guard_;
  std::optional<WorkGuard> run_guard_;

  std::map<std::pair<std::string, int>, std::shared_ptr<const Definition>> definitions_;
  std::map<std::string, int> latest_;  // workflow -> newest deployed version
  std::map<const Definition*, std::shared_ptr<const InputSchema>> input_schemas_;  // compiled once

  std::unordered_map<std::string, std::unique_ptr<Instance>> active_;
  struct PendingKey {
    std::string instance_id;
    std::string input_hash;
    int version;
    nlohmann::json input;  // canonical, to name what differs in a conflicting start
  };
  std::unordered_map<std::string, PendingKey> pending_keys_;  // uncommitted starts by key

  Batch batch_;
  StepMachine machine_;
  TimerQueue timers_;
  TimePoint loaded_until_ = TimePoint::min();  // wait timers due by then are in timers_
  IdGenerator ids_;
  std::mt19937_64 rng_;
  bool flush_requested_ = false;
  std::size_t in_flight_ = 0;
  std::atomic<bool> stopping_{false};

  std::atomic<std::uint64_t> commits_{0};
  std::atomic<std::uint64_t> events_{0};
  std::atomic<std::uint64_t> invocations_{0};
  std::atomic<std::size_t> active_count_{0};
  std::atomic<std::size_t> in_flight_count_{0};
};

// The key pending_keys_ files a start under.
inline std::string pending_key(const std::string& workflow, const std::string& business_key) {
  return workflow + '\n' + business_key;
}

template <typename Result, typename Handle>
void EngineImpl::submit(Handle handle, ReplyFn<Result> done) {
  auto reply = std::make_shared<PendingReply<Result>>(std::move(done));
  boost::asio::post(io_, [this, handle = std::move(handle), reply]() mutable {
    std::optional<Result> result;
    try {
      result = handle();
    } catch (const Error&) {
      reply->fail(std::current_exception());
      return;
    }
    batch_.then([reply, result = std::move(*result)]() mutable { reply->give(std::move(result)); });
    request_flush();
  });
}

}  // namespace rmaflow
