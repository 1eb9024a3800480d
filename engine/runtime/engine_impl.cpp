#include "engine/runtime/engine_impl.hpp"

#include <limits>

#include <boost/asio/post.hpp>
#include <fmt/format.h>

#include "engine/runtime/fault_points.hpp"
#include "engine/runtime/start_conflict.hpp"
#include "engine/support/canonical_json.hpp"
#include "engine/support/json_depth.hpp"
#include "engine/support/sha256.hpp"
#include "rmaflow/versions.hpp"

namespace rmaflow {

namespace asio = boost::asio;

namespace {

std::uint64_t pick_seed(std::uint64_t seed) {
  return seed != 0 ? seed : std::random_device{}() * 0x9E3779B97F4A7C15ULL ^ std::random_device{}();
}

// The business key an input maps to: given by the caller, or the workflow's expression.
std::string business_key_for(const Definition& def, const StartRequest& request) {
  if (request.business_key) return *request.business_key;
  if (!def.business_key) return {};
  nlohmann::json value;
  try {
    value = def.business_key->evaluate({{"input", request.input}});
  } catch (const Error& e) {
    throw Error(Errc::invalid_input,
                fmt::format("the business_key of workflow {} did not evaluate: {}", def.name,
                            e.what()));
  }
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number()) return value.dump();
  if (value.is_null()) return {};
  throw Error(Errc::invalid_input,
              fmt::format("the business_key of workflow {} must be a string or a number, not {}",
                          def.name, value.type_name()));
}

}  // namespace

EngineImpl::EngineImpl(EngineOptions options)
    : options_(std::move(options)),
      wake_(io_),
      command_poll_(io_),
      machine_(*this, options_.max_steps_per_turn),
      ids_(pick_seed(options_.seed)),
      rng_(pick_seed(options_.seed)) {
  if (options_.store) {
    store_ = std::move(options_.store);
  } else {
    lock_.emplace(options_.db_path);
    store_ = open_sqlite_store(options_.db_path, StoreOptions{options_.sync, false});
  }
  clock_ = options_.clock ? options_.clock : system_clock();
  adapters_ = options_.adapters ? options_.adapters : std::make_shared<AdapterRegistry>();
  for (const auto& row : store_->list_definitions()) {
    auto& v = latest_[row.name];
    v = std::max(v, row.version);
  }
  recover();
  started_ = adapters_->all();
  for (const auto& adapter : started_) adapter->start(*this);
}

EngineImpl::~EngineImpl() {
  for (const auto& adapter : started_) adapter->stop();
}

// ---- definitions -----------------------------------------------------------------------

DeployResult EngineImpl::deploy(std::shared_ptr<const Definition> def) {
  if (!def) throw Error(Errc::invalid_argument, "deploy() needs a loaded definition");
  // An action this engine cannot run is refused now, not when an instance reaches it.
  if (auto unknown = check_actions(*def, *adapters_); !unknown.empty()) {
    throw DefinitionError(std::move(unknown));
  }
  std::lock_guard lock(store_mu_);
  bool created = store_definition(*store_, *def, clock_->now()) == PutResult::inserted;
  definitions_.try_emplace({def->name, def->version}, def);
  auto& v = latest_[def->name];
  v = std::max(v, def->version);
  return DeployResult{def->name, def->version, created};
}

std::optional<int> EngineImpl::latest_version(const std::string& workflow) {
  std::lock_guard lock(store_mu_);
  auto it = latest_.find(workflow);
  if (it == latest_.end()) return std::nullopt;
  return it->second;
}

std::shared_ptr<const Definition> EngineImpl::definition(const std::string& workflow,
                                                         int version) {
  std::lock_guard lock(store_mu_);
  auto it = definitions_.find({workflow, version});
  if (it != definitions_.end()) return it->second;
  auto row = store_->get_definition(workflow, version);
  if (!row) return nullptr;
  auto loaded = load_deployed(*row);
  definitions_.emplace(std::pair{workflow, version}, loaded);
  return loaded;
}

// ---- recovery --------------------------------------------------------------------------

std::unique_ptr<Instance> EngineImpl::load_instance(InstanceRow row) {
  auto def = definition(row.workflow, row.version);
  if (!def) {
    throw Error(Errc::storage, fmt::format("instance {} runs on workflow {} version {}, which "
                                           "is not in the database",
                                           row.id, row.workflow, row.version));
  }
  return Instance::from_row(std::move(row), std::move(def));
}

void EngineImpl::recover() {
  for (auto& row : store_->active_instances()) {
    auto id = row.id;
    active_.emplace(id, load_instance(std::move(row)));
  }
  // Retry timers belong to instances in memory: their due time is the row's deadline. Wait
  // timers (of instances that are not in memory) come in through the window.
  for (auto& [id, inst] : active_) {
    if (inst->row.phase == Phase::backoff && inst->row.deadline) {
      timers_.push(TimerEntry{*inst->row.deadline, TimerKind::retry, id, {}});
    }
  }
  refill_timers();
  for (auto& [id, inst] : active_) machine_.resume(*inst);
  active_count_ = active_.size();
  apply_pending_commands(std::numeric_limits<std::size_t>::max());
  request_flush();
}

Instance* EngineImpl::acquire(const std::string& id) {
  if (auto it = active_.find(id); it != active_.end()) return it->second.get();
  std::optional<InstanceRow> row;
  {
    std::lock_guard lock(store_mu_);
    row = store_->get_instance(id);
  }
  if (!row || is_final(row->status)) return nullptr;
  auto& slot = active_[id];
  slot = load_instance(std::move(*row));
  active_count_ = active_.size();
  return slot.get();
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
  if (inst.row.status != InstanceStatus::running && inst.row.status != InstanceStatus::compensating) {
    release_after_commit(inst);
  }
}

// ---- starting instances ----------------------------------------------------------------

void EngineImpl::start(StartRequest request, ReplyFn<StartResult> done) {
  submit<StartResult>(
      [this, request = std::move(request)]() mutable { return handle_start(std::move(request)); },
      std::move(done));
}

void EngineImpl::check_input(const Definition& def, const nlohmann::json& input) {
  if (!def.input_schema) return;
  auto& schema = input_schemas_[&def];
  if (!schema) schema = std::make_shared<const InputSchema>(*def.input_schema);
  auto violations = schema->check(input);
  if (!violations.empty()) throw schema_violations(def.name, std::move(violations));
}

StartResult EngineImpl::handle_start(StartRequest request) {
  auto version = request.version ? request.version : latest_version(request.workflow);
  auto def = version ? definition(request.workflow, *version) : nullptr;
  if (!def) {
    throw Error(Errc::not_found,
                version && request.version
                    ? fmt::format("workflow {} has no version {}", request.workflow, *version)
                    : fmt::format("no workflow named {} is deployed", request.workflow));
  }
  if (!request.input.is_object()) {
    throw Error(Errc::invalid_input,
                fmt::format("the input of workflow {} must be a JSON object, not {}",
                            request.workflow, request.input.type_name()));
  }
  if (json_deeper_than(request.input)) {
    throw Error(Errc::invalid_input, fmt::format("the input of workflow {} nests deeper than {} "
                                                 "levels",
                                                 request.workflow, kMaxJsonDepth));
  }
  // By value: 1.0 is the integer 1 to the schema, and 329.0 the same price as 329.
  request.input = canonical_json(request.input);
  check_input(*def, request.input);
  std::string business_key = business_key_for(*def, request);
  std::string input_hash = sha256_hex(request.input.dump());

  if (!business_key.empty()) {
    auto key = pending_key(def->name, business_key);
    auto answer_existing = [&](const std::string& id, const std::string& hash, int v,
                               const nlohmann::json& input) {
      if (hash != input_hash) check_same_input(*def, id, business_key, input, request.input);
      return StartResult{id, v, false};
    };
    if (auto it = pending_keys_.find(key); it != pending_keys_.end()) {
      // Answered with the batch that carries the first start.
      const auto& first = it->second;
      return answer_existing(first.instance_id, first.input_hash, first.version, first.input);
    }
    std::optional<InstanceRow> existing;
    {
      std::lock_guard lock(store_mu_);
      existing = store_->find_by_business_key(def->name, business_key);
    }
    if (existing) {
      return answer_existing(existing->id, existing->input_hash, existing->version,
                             stored_input(*existing));
    }
  }

  auto now = clock_->now();
  auto inst = std::make_unique<Instance>();
  auto& row = inst->row;
  row.id = ids_.next(now);
  row.workflow = def->name;
  row.version = def->version;
  row.status = InstanceStatus::running;
  row.business_key = business_key;
  row.correlation_id = request.correlation_id.empty() ? row.id : request.correlation_id;
  row.input_hash = input_hash;
  row.created_at = now;
  row.updated_at = now;
  inst->definition = def;
  inst->context = {{"input", std::move(request.input)},
                   {"instance",
                    {{"id", row.id},
                     {"workflow", row.workflow},
                     {"version", row.version},
                     {"business_key", row.business_key},
                     {"correlation_id", row.correlation_id},
                     {"started_at", format_time(now)}}}};

  Instance& ref = *inst;
  active_.emplace(row.id, std::move(inst));
  active_count_ = active_.size();
  StartResult result{ref.row.id, def->version, true};
  if (!business_key.empty()) {
    auto key = pending_key(def->name, business_key);
    pending_keys_[key] = PendingKey{ref.row.id, input_hash, def->version, ref.context["input"]};
    batch_.then([this, key] { pending_keys_.erase(key); });
  }
  machine_.begin(ref);
  return result;
}

// ---- adapter calls ---------------------------------------------------------------------

void EngineImpl::invoke_after_commit(Instance& inst) {
  batch_.then([this, id = inst.row.id, generation = inst.generation] {
    if (Instance* inst = find_active(id, generation)) invoke(*inst);
  });
}

void EngineImpl::invoke(Instance& inst) {
  auto action = inst.action();
  auto now = clock_->now();
  TimePoint deadline = inst.row.deadline.value_or(now + action->timeout);
  timers_.push(TimerEntry{deadline, TimerKind::timeout, inst.row.id, {}});

  if (inst.outcome_at != std::chrono::steady_clock::time_point{} && options_.on_step_latency) {
    options_.on_step_latency(std::chrono::steady_clock::now() - inst.outcome_at);
  }

  Invocation call;
  call.instance_id = inst.row.id;
  call.workflow = inst.row.workflow;
  call.step = inst.row.step;
  call.operation = action->operation;
  call.compensation = inst.compensating();
  call.idempotency_key = inst.idempotency_key();
  call.correlation_id = inst.row.correlation_id;
  call.attempt = inst.row.attempt;
  call.input = inst.step_input;
  call.deadline = deadline;

  ++in_flight_;
  in_flight_count_ = in_flight_;
  if (!inflight_guard_) inflight_guard_.emplace(io_.get_executor());
  ++invocations_;
  Completion done = [this, id = inst.row.id, generation = inst.generation](Outcome outcome) {
    asio::post(io_, [this, id, generation, outcome = std::move(outcome)]() mutable {
      complete(id, generation, std::move(outcome));
    });
  };
  Adapter* adapter = adapters_->find(action->adapter);
  if (adapter == nullptr) {
    done(Outcome::failure("UnknownAdapter",
                          fmt::format("no adapter named {} is configured", action->adapter), false));
    return;
  }
  try {
    adapter->invoke(call, *this, std::move(done));
  } catch (const std::exception& e) {
    // The adapter broke its contract by throwing; `done` was moved, so report directly.
    asio::post(io_, [this, id = call.instance_id, generation = inst.generation,
                     message = std::string(e.what())] {
      complete(id, generation, Outcome::failure("AdapterError", message, false));
    });
  }
  fault_point("invoke.after");
}

void EngineImpl::complete(const std::string& id, std::uint64_t generation, Outcome outcome) {
  if (--in_flight_ == 0) inflight_guard_.reset();
  in_flight_count_ = in_flight_;
  Instance* inst = find_active(id, generation);
  if (inst == nullptr || inst->row.phase != Phase::invoking) return;  // stale: timed out, moved on
  inst->outcome_at = std::chrono::steady_clock::now();
  if (outcome.ok() && json_deeper_than(*outcome.result)) {
    outcome = Outcome::failure("ResultTooDeep",
                               fmt::format("the adapter's result nests deeper than {} levels",
                                           kMaxJsonDepth),
                               false);
  }
  machine_.on_outcome(*inst, outcome);
  request_flush();
}

Instance* EngineImpl::find_any(const std::string& id) {
  auto it = active_.find(id);
  return it == active_.end() ? nullptr : it->second.get();
}

Instance* EngineImpl::find_active(const std::string& id, std::uint64_t generation) {
  auto it = active_.find(id);
  if (it == active_.end() || it->second->generation != generation) return nullptr;
  return it->second.get();
}

// ---- timers ----------------------------------------------------------------------------

void EngineImpl::arm_after_commit(TimerEntry entry) {
  batch_.then([this, entry = std::move(entry)]() mutable {
    if (entry.kind == TimerKind::retry) fault_point("retry.armed");
    // A wait due after the window is loaded by a later refill.
    if (entry.kind == TimerKind::wait && entry.due > loaded_until_) return;
    timers_.push(std::move(entry));
  });
}

void EngineImpl::refill_timers() {
  auto now = clock_->now();
  auto window = options_.timer_window;
  if (loaded_until_ != TimePoint::min() && now + window / 2 < loaded_until_) return;
  auto until = now + window;
  std::vector<TimerRow> rows;
  {
    std::lock_guard lock(store_mu_);
    rows = store_->due_timers(until, std::numeric_limits<std::size_t>::max());
  }
  for (const auto& row : rows) {
    if (row.name != "wait" || (loaded_until_ != TimePoint::min() && row.due <= loaded_until_)) {
      continue;  // retry timers are pushed with their instance; earlier waits are loaded already
    }
    timers_.push(TimerEntry{row.due, TimerKind::wait, row.instance_id, {}});
  }
  loaded_until_ = until;
}

void EngineImpl::call_at(TimePoint due, std::function<void()> fn) {
  asio::post(io_, [this, due, fn = std::move(fn)]() mutable {
    timers_.push(TimerEntry{due, TimerKind::host, {}, std::move(fn)});
    arm_wake();
  });
}

void EngineImpl::fire_due_timers() {
  refill_timers();
  for (auto& entry : timers_.pop_due(clock_->now())) {
    switch (entry.kind) {
      case TimerKind::host:
        entry.callback();
        break;
      case TimerKind::timeout:
      case TimerKind::retry:
      case TimerKind::wait: {
        // Attempt timeouts only exist for instances in memory; durable timers may belong to
        // an instance that waits on disk.
        Instance* inst = entry.kind == TimerKind::timeout ? find_any(entry.instance_id)
                                                           : acquire(entry.instance_id);
        if (inst == nullptr) break;
        if (timer_applies(*inst, entry.kind, entry.due)) {
          if (entry.kind == TimerKind::timeout) machine_.on_timeout(*inst);
          if (entry.kind == TimerKind::retry) machine_.on_retry_due(*inst);
          if (entry.kind == TimerKind::wait) machine_.on_wait_due(*inst);
        }
        settle(*inst);
        break;
      }
    }
  }
  request_flush();
}

void EngineImpl::prune_stale_timers() {
  while (timers_.size() > 0) {
    const auto& top = timers_.top();
    if (top.kind == TimerKind::host) return;
    Instance* inst = find_any(top.instance_id);
    // A durable timer of an instance that is not in memory cannot be judged without loading
    // it; it stays until it comes due.
    if (inst == nullptr && top.kind != TimerKind::timeout) return;
    if (inst != nullptr && timer_applies(*inst, top.kind, top.due)) return;
    timers_.pop();
  }
}

bool EngineImpl::has_ready_timers() const {
  auto due = timers_.earliest();
  return due && *due <= clock_->now();
}

void EngineImpl::arm_wake() {
  if (clock_->is_manual()) return;
  auto due = timers_.earliest();
  // Wake also to refill the timer window before it runs out.
  auto refill = loaded_until_ - options_.timer_window / 2;
  if (!due || refill < *due) due = refill;
  if (!due || (wake_armed_for_ && *wake_armed_for_ <= *due)) return;
  wake_armed_for_ = due;
  wake_.expires_at(*due);
  wake_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;  // re-armed for an earlier time, or shutting down
    wake_armed_for_.reset();
    fire_due_timers();
    arm_wake();
  });
}

// ---- instances leaving memory ----------------------------------------------------------

void EngineImpl::release_after_commit(Instance& inst) {
  batch_.then([this, id = inst.row.id, generation = inst.generation] {
    if (find_active(id, generation)) {
      active_.erase(id);
      active_count_ = active_.size();
    }
  });
}

Duration EngineImpl::random_up_to(Duration max) {
  std::uniform_int_distribution<Duration::rep> pick(0, max.count());
  return Duration(pick(rng_));
}

// ---- group commit ----------------------------------------------------------------------

void EngineImpl::request_flush() {
  if (batch_.empty()) return;
  if (batch_.event_count() >= options_.max_batch_events) {
    flush();
    return;
  }
  if (flush_requested_) return;
  flush_requested_ = true;
  // Posted behind every handler already queued, so their transitions share this commit.
  asio::post(io_, [this] {
    flush_requested_ = false;
    flush();
  });
}

void EngineImpl::flush() {
  if (batch_.empty()) return;
  WriteBatch writes = batch_.take_writes();
  auto effects = batch_.take_effects();
  if (!writes.empty()) {
    fault_point("commit.before");
    {
      std::lock_guard lock(store_mu_);
      store_->commit(writes);  // throws Error(storage): fatal, the caller of run*() sees it
    }
    ++commits_;
    events_ += writes.events.size();
    fault_point("commit.after");
  }
  for (auto& effect : effects) effect();
  arm_wake();
}

// ---- driving ---------------------------------------------------------------------------

bool EngineImpl::must_keep_running() const {
  // Under a manual clock the caller drives time and answers: nothing is waited for.
  if (clock_->is_manual()) return false;
  // An adapter's own timers (events it will send days from now) are not waited for: it
  // stores them and re-arms them when the next engine starts.
  return in_flight_ > 0 || timers_.count(TimerKind::retry) > 0;
}

void EngineImpl::run_until_idle() {
  for (;;) {
    fire_due_timers();
    io_.restart();
    if (io_.poll() > 0 || !batch_.empty() || has_ready_timers()) continue;
    prune_stale_timers();
    if (!must_keep_running()) return;
    // Block until an adapter answers or the next timer is due (the wake timer is armed).
    arm_wake();
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
    if (in_flight_ > 0 && timers_.count(TimerKind::host) == 0) {
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
  run_guard_.emplace(io_.get_executor());
  io_.restart();
  fire_due_timers();
  arm_wake();
  arm_command_poll();
  io_.run();
}

void EngineImpl::stop() {
  asio::post(io_, [this] {
    flush();
    run_guard_.reset();
    wake_.cancel();
    command_poll_.cancel();
    io_.stop();
  });
}

std::optional<TimePoint> EngineImpl::next_timer() const {
  auto in_memory = timers_.earliest();
  if (in_memory && *in_memory <= loaded_until_) return in_memory;
  // Nothing in the window: the store knows the next wait timer beyond it.
  std::optional<TimePoint> stored;
  {
    std::lock_guard lock(store_mu_);
    auto rows = store_->due_timers(TimePoint::max(), 1);
    if (!rows.empty()) stored = rows.front().due;
  }
  if (in_memory && (!stored || *in_memory < *stored)) return in_memory;
  return stored;
}

EngineStats EngineImpl::stats() const {
  EngineStats s;
  s.commits = commits_;
  s.events = events_;
  s.invocations = invocations_;
  s.active_instances = active_count_;
  s.in_flight = in_flight_count_;
  return s;
}

}  // namespace rmaflow
