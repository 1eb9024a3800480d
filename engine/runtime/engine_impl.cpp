#include "engine/runtime/engine_impl.hpp"

#include <fmt/format.h>

#include <boost/asio/post.hpp>
#include <limits>

#include "rmaflow/versions.hpp"

namespace rmaflow {

namespace asio = boost::asio;

namespace {

// How often a node looks for the commands other nodes passed on to it (EngineOptions::
// command_poll, which is 250 ms by default, is for the offline CLI's).
constexpr std::chrono::milliseconds kNodeCommandPoll{50};

std::uint64_t pick_seed(std::uint64_t seed) {
  return seed != 0 ? seed : std::random_device{}() * 0x9E3779B97F4A7C15ULL ^ std::random_device{}();
}

}  // namespace

EngineImpl::EngineImpl(EngineOptions options)
    : options_(std::move(options)),
      heartbeat_(io_),
      lease_timer_(io_),
      machine_(*this, options_.max_steps_per_turn),
      command_poll_(io_),
      job_tick_(io_),
      limit_wake_(io_),
      ids_(pick_seed(options_.seed)),
      rng_(pick_seed(options_.seed)) {
  if (options_.store) {
    store_ = std::move(options_.store);
  } else {
    store_ = open_store(options_.db_path, StoreOptions{.sync = options_.sync,
                                                       .read_only = false,
                                                       .engine = true,
                                                       .node = options_.node,
                                                       .lease = options_.lease});
    quarantine_.emplace(quarantine_record_path(options_.db_path, options_.node));
  }
  store_->prepare_for_commits();
  held_.keep_waiting(options_.keep_waiting_bytes, options_.keep_waiting_least);
  clock_ = options_.clock ? options_.clock : system_clock();
  adapters_ = options_.adapters ? options_.adapters : std::make_shared<AdapterRegistry>();
  limiter_.emplace(adapters_->limits());
  definitions_.emplace(*store_, store_mu_);
  timers_.emplace(
      io_, *clock_, *store_, store_mu_, options_.timer_window, [this] { fire_due_timers(); },
      [this] { return commit_->holding(); });
  commit_.emplace(
      io_, *store_, store_mu_, options_.max_batch_events, health_, [this] { timers_->arm_wake(); },
      [this] { fire_due_timers(); },
      [this](const WriteBatch& writes, const CommitDone& done) {
        held_.recount(writes.instances, done.receipt.state_bytes);
        if (options_.on_commit) options_.on_commit(writes, done.took);
      });
  batch().encode_cursors_from(options_.keep_cursor_texts_least);
  if (is_node()) {
    // A node's requests about other nodes' instances wait for their owner this long at most.
    forwarder_ = std::make_unique<Forwarder>(options_.db_path, Duration(30'000));
    // A caller waits on each command another node passes on: they are looked for sooner than
    // the offline CLI's (one indexed query of the pending ones).
    options_.command_poll = std::min(options_.command_poll, kNodeCommandPoll);
  }
  recover();
  started_ = adapters_->all();
  for (const auto& adapter : started_) adapter->start(*this);
}

EngineImpl::~EngineImpl() {
  for (const auto& adapter : started_) adapter->stop();
}

DeployResult EngineImpl::deploy(std::shared_ptr<const Definition> def) {
  if (!def) throw Error(Errc::invalid_argument, "deploy() needs a loaded definition");
  // An action this engine cannot run is refused now, not when an instance reaches it.
  if (auto unknown = check_actions(*def, *adapters_); !unknown.empty()) {
    throw DefinitionError(std::move(unknown));
  }
  bool created = definitions_->deploy(def, clock_->now());
  return DeployResult{def->name, def->version, created};
}

// ---- instances in memory ---------------------------------------------------------------

std::unique_ptr<Instance> EngineImpl::load_instance(InstanceRow row) {
  auto def = definitions_->get(row.workflow, row.version);
  if (!def) {
    throw Error(Errc::storage, fmt::format("instance {} runs on workflow {} version {}, which "
                                           "is not in the database",
                                           row.id, row.workflow, row.version));
  }
  auto inst = Instance::from_row(std::move(row), std::move(def));
  new_generation(*inst);
  return inst;
}

void EngineImpl::new_generation(Instance& inst) {
  const std::uint64_t base = ++loads_ << 32;
  for (auto& c : inst.cursors) c.generation = base;
}

Instance* EngineImpl::acquire(const std::string& id) {
  if (Instance* inst = held_.find(id)) return inst;
  if (auto kept = held_.take_kept(id)) {
    // As if its row were read back: nothing addressed to it before is taken for its cursors',
    // and what is not in the row is found again.
    new_generation(*kept);
    kept->pending_signals.clear();
    kept->signals_loaded = false;
    const auto context_bytes = kept->held_context_bytes;
    const auto state_bytes = kept->held_state_bytes;
    return &held_.hold(std::move(kept), context_bytes, state_bytes);
  }
  std::optional<InstanceRow> row;
  {
    std::lock_guard lock(store_mu_);
    row = store_->get_instance(id);
  }
  if (!row || is_final(row->status)) return nullptr;
  if (!holds(store_->held_shards(), id)) throw RoutedElsewhere(id, shard_of(id));
  return &held_.hold_loaded(load_instance(std::move(*row)));
}

Instance& EngineImpl::acquire_unfinished(const std::string& id, std::string_view refusal) {
  if (Instance* inst = acquire(id)) return *inst;
  std::optional<InstanceRow> row;
  {
    std::lock_guard lock(store_mu_);
    row = store_->get_instance(id);
  }
  if (!row) throw Error(Errc::not_found, fmt::format("no instance {}", id));
  throw Error(Errc::refused, fmt::format("instance {} is {}: a finished instance {}", id,
                                         to_string(row->status), refusal));
}

void EngineImpl::settle(Instance& inst) {
  inst.refresh_status();
  if (inst.row.status == InstanceStatus::running ||
      inst.row.status == InstanceStatus::compensating) {
    return;
  }
  // Waiting, suspended or finished: rows (and a timer), not memory, once committed; a big
  // waiting one kept decoded aside (HeldInstances::let_go_if_unchanged).
  batch().then(
      [this, id = inst.row.id, epoch = inst.epoch] { held_.let_go_if_unchanged(id, epoch); });
}

Instance* EngineImpl::find_any(const std::string& id) {
  return held_.find(id);
}

Duration EngineImpl::random_up_to(Duration max) {
  std::uniform_int_distribution<Duration::rep> pick(0, max.count());
  return Duration(pick(rng_));
}

// ---- driving ---------------------------------------------------------------------------

bool EngineImpl::must_keep_running() const {
  // Under a manual clock the caller drives time and answers: nothing is waited for.
  if (clock_->is_manual()) return false;
  // An adapter's own timers (events it will send days from now) are not waited for: it
  // stores them and re-arms them when the next engine starts.
  return in_flight_ > 0 || timers_->count(TimerKind::retry) > 0;
}

void EngineImpl::run_until_idle() {
  for (;;) {
    fire_due_timers();
    io_.restart();
    if (io_.poll() > 0) continue;
    if (commit_->writing()) {
      // Wait for its completion (posted by the writer) rather than spin.
      io_.restart();
      io_.run_one();
      continue;
    }
    if (!batch().empty() || timers_->has_ready()) continue;
    prune_stale_timers();
    if (!must_keep_running()) return;
    // Block until an adapter answers or the next timer is due (the wake timer is armed).
    timers_->arm_wake();
    io_.restart();
    io_.run_one();
  }
}

void EngineImpl::run_virtual(TimePoint until) {
  auto* manual = dynamic_cast<ManualClock*>(clock_.get());
  if (manual == nullptr) {
    throw Error(Errc::invalid_argument, "run_virtual() needs an engine on a manual clock");
  }
  for (;;) {
    run_until_idle();
    // A call out with no simulated latency pending is answered by another thread: jumping
    // the clock now would time it out. Wait for its answer instead.
    if (in_flight_ > 0 && timers_->count(TimerKind::host) == 0) {
      io_.restart();
      io_.run_one();
      continue;
    }
    auto next = next_timer();
    if (!next || *next > until) return;
    // Every timer due by now has fired; one still reported as due is a leftover row that no
    // longer applies, and jumping to it would not move the clock.
    if (*next <= manual->now()) return;
    manual->set(*next);
  }
}

void EngineImpl::run() {
  commit_->serve();
  run_guard_.emplace(io_.get_executor());
  io_.restart();
  fire_due_timers();
  timers_->arm_wake();
  arm_command_poll();
  arm_job_tick();
  arm_heartbeat();
  // A node takes its first leases a second after it starts, by when nodes started together
  // see each other and share the shards out.
  if (is_node()) arm_lease_keeping(std::chrono::seconds(1));
  io_.run();
}

void EngineImpl::arm_heartbeat() {
  health_.beat();
  heartbeat_.expires_after(std::chrono::seconds(1));
  heartbeat_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) arm_heartbeat();
  });
}

void EngineImpl::arm_lease_keeping(std::chrono::milliseconds after) {
  lease_timer_.expires_after(after);
  lease_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    keep_leases();
    // Three renewals a lease (at least one a second): a late one or two lose nothing.
    arm_lease_keeping(
        std::min<std::chrono::milliseconds>(std::chrono::seconds(1), options_.lease / 3));
  });
}

void EngineImpl::stop() {
  asio::post(io_, [this] {
    commit_->flush();
    if (is_node()) {
      // Others take this node's instances over at once instead of when its leases expire.
      try {
        std::lock_guard lock(store_mu_);
        store_->release_leases();
      } catch (const Error&) {
        // They expire instead.
      }
    }
    run_guard_.reset();
    timers_->cancel();
    command_poll_.cancel();
    job_tick_.cancel();
    limit_wake_.cancel();
    heartbeat_.cancel();
    lease_timer_.cancel();
    commit_->cancel();
    io_.stop();
  });
}

EngineStats EngineImpl::stats() const {
  EngineStats s;
  s.commits = commit_->commits();
  s.events = commit_->events();
  s.invocations = invocations_;
  s.active_instances = held_.size();
  s.held_bytes = held_.bytes();
  s.kept_waiting_bytes = held_.kept_bytes();
  s.keep_waiting_bytes = options_.keep_waiting_bytes;
  s.max_running = options_.max_running;
  s.max_running_bytes = options_.max_running_bytes;
  s.starts_refused = starts_refused_;
  s.in_flight = in_flight_count_;
  s.timers_in_memory = timers_ ? timers_->held() : 0;
  health_.describe(s);
  s.node = store_->node();
  return s;
}

}  // namespace rmaflow
