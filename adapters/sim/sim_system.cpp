#include "adapters/sim/sim_system.hpp"

#include <fmt/format.h>

namespace rmaflow::sim {

namespace {

constexpr std::string_view kSignalJob = "signal";
// A job whose delivery failed for a reason that may pass (the engine stopped before
// committing the signal, the database was busy) is tried again after this long.
constexpr Duration kRetryJobAfter = Duration(60'000);

}  // namespace

const nlohmann::json& field(const nlohmann::json& input, const char* name) {
  if (!input.is_object() || !input.contains(name) || input[name].is_null()) {
    throw Refusal("BadRequest", fmt::format("the request has no \"{}\"", name));
  }
  return input[name];
}

std::string text_field(const nlohmann::json& input, const char* name) {
  const auto& value = field(input, name);
  if (!value.is_string() || value.get_ref<const std::string&>().empty()) {
    throw Refusal("BadRequest", fmt::format("\"{}\" must be a non-empty string", name));
  }
  return value.get<std::string>();
}

double amount_field(const nlohmann::json& input, const char* name, bool allow_zero) {
  const auto& value = field(input, name);
  if (!value.is_number() || value.get<double>() < 0 || (!allow_zero && value.get<double>() == 0)) {
    throw Refusal("BadRequest", fmt::format("\"{}\" must be a number, {}", name,
                                            allow_zero ? "zero or more" : "more than zero"));
  }
  return round_cents(value.get<double>());
}

SimSystem::SimSystem(std::string kind, std::string name, std::shared_ptr<SimStore> store)
    : kind_(std::move(kind)), name_(std::move(name)), store_(std::move(store)) {}

void SimSystem::add(std::string name, Route route, Handler handler, bool read_only) {
  infos_.push_back(OperationInfo{name, std::move(route), read_only});
  handlers_.emplace(std::move(name), Operation{std::move(handler), read_only});
}

bool SimSystem::has_operation(std::string_view operation) const {
  return handlers_.find(operation) != handlers_.end();
}

AdapterHost* SimSystem::host() const {
  std::lock_guard lock(host_mu_);
  return host_;
}

TimePoint SimSystem::now() const {
  AdapterHost* h = host();
  const Clock& base = h != nullptr ? h->clock() : *system_clock();
  return clock_ ? clock_->now(base) : base.now();
}

SimSystem::Response SimSystem::execute(const std::string& operation, const std::string& key,
                                       const nlohmann::json& input_given, const std::string& undoes,
                                       std::string_view draws) {
  if (draws.empty()) draws = key;
  auto it = handlers_.find(operation);
  if (it == handlers_.end()) {
    return {Outcome::failure("UnknownOperation",
                             fmt::format("the {} has no operation {}", kind_, operation), false)};
  }
  const Handler& handler = it->second.handler;
  nlohmann::json input = input_given;
  bool nothing_to_undo = false;
  if (!undoes.empty()) {
    std::optional<nlohmann::json> done;
    try {
      done = store_->applied(undoes);
    } catch (const Error& e) {
      return {Outcome::failure(std::string(kTransient), e.what(), true)};
    }
    if (!done) {
      nothing_to_undo = true;
    } else if (done->is_object()) {
      if (!input.is_object()) input = nlohmann::json::object();
      for (const auto& [name, value] : done->items())
        if (!input.contains(name) || input[name].is_null()) input[name] = value;
    }
  }
  auto run = [&](SimTx& tx) -> Outcome {
    if (nothing_to_undo) {
      return Outcome::success({{"undone", false},
                               {"reason", fmt::format("nothing was done under key {}", undoes)}});
    }
    try {
      return Outcome::success(handler(tx, input));
    } catch (const Refusal& r) {
      return Outcome::failure(r.code(), r.what());
    } catch (const nlohmann::json::exception& e) {
      return Outcome::failure("BadRequest", fmt::format("malformed request: {}", e.what()), false);
    }
  };

  Response response{Outcome::failure(std::string(kTransient), "not run", true)};
  std::vector<SimJob> armed;
  if (it->second.read_only) {
    // A query: no effect to make idempotent, so no ledger entry; it may still be slow or fail.
    auto plan = profiles_.plan(operation, draws, 1);
    response.latency = plan.latency;
    if (plan.fault == Fault::fail) {
      const auto& p = profiles_.profile(operation);
      response.outcome = Outcome::failure(p.fail_code, fmt::format("{} {} is unavailable", kind_,
                                                                   operation));
      return response;
    }
    try {
      store_->transact(now(), [&](SimTx& tx) { response.outcome = run(tx); });
    } catch (const Error& e) {
      response.outcome = Outcome::failure(std::string(kTransient), e.what(), true);
    }
    response.late = plan.fault == Fault::late;
    return response;
  }
  if (key.empty()) {
    response.outcome = Outcome::failure(
        "BadRequest", fmt::format("{} {} needs an idempotency key", kind_, operation), false);
    return response;
  }
  response.outcome = store_->call(
      key, name_, operation, input, now(),
      [&](const EffectLedger::Call& call, SimTx& tx) -> Outcome {
        auto plan = profiles_.plan(operation, draws, call.calls);
        response.latency = plan.latency;
        response.late = plan.fault == Fault::late;
        if (plan.fault == Fault::fail) {
          // The request never reached the system: nothing is applied.
          const auto& p = profiles_.profile(operation);
          return Outcome::failure(
              p.fail_code,
              fmt::format("{} {} failed with {} (injected, call {})", kind_, operation,
                          p.fail_code, call.calls));
        }
        if (call.applied != nullptr) return Outcome::success(*call.applied);  // a replay
        return run(tx);
      },
      armed);
  arm(armed);
  return response;
}

void SimSystem::emit(SimTx& tx, TimePoint due, const nlohmann::json& notify, std::string name,
                     nlohmann::json payload, std::string idempotency_key, nlohmann::json match) {
  if (!notify.is_object()) return;
  nlohmann::json body = {{"workflow", notify.value("workflow", "")},
                         {"business_key", notify.value("business_key", "")},
                         {"name", name},
                         {"payload", std::move(payload)},
                         {"idempotency_key", idempotency_key}};
  if (!match.is_null()) body["match"] = std::move(match);
  tx.schedule(due, std::string(kSignalJob), std::move(idempotency_key), std::move(body));
}

void SimSystem::run_job(SimTx& tx, const SimJob& job) {
  tx.finish_job(job.id, fmt::format("dropped: the {} has no job \"{}\"", kind_, job.kind));
}

void SimSystem::attach(AdapterHost& host) {
  std::uint64_t attachment = 0;
  {
    std::lock_guard lock(host_mu_);
    host_ = &host;
    armed_.clear();
    attachment = ++attachment_;
  }
  arm(store_->pending_jobs());
  if (share_every_ > Duration(0)) {
    host.call_at(host.clock().now() + share_every_, [this, attachment] { rescan(attachment); });
  }
}

void SimSystem::detach() {
  std::lock_guard lock(host_mu_);
  host_ = nullptr;
}

void SimSystem::arm(const std::vector<SimJob>& jobs) {
  std::lock_guard lock(host_mu_);
  if (host_ == nullptr) return;  // stored: armed on the next attach
  for (const auto& job : jobs) {
    if (armed_.insert(job.id).second) schedule(*host_, job.id, job.due);
  }
}

void SimSystem::disarm(std::int64_t job_id) {
  std::lock_guard lock(host_mu_);
  armed_.erase(job_id);
}

void SimSystem::rescan(std::uint64_t attachment) {
  {
    std::lock_guard lock(host_mu_);
    if (host_ == nullptr || attachment != attachment_) return;
  }
  try {
    arm(store_->pending_jobs());
  } catch (const Error&) {
    // The file is busy or failed: the next rescan reads it again.
  }
  std::lock_guard lock(host_mu_);
  if (host_ == nullptr || attachment != attachment_) return;
  host_->call_at(host_->clock().now() + share_every_, [this, attachment] { rescan(attachment); });
}

void SimSystem::schedule(AdapterHost& host, std::int64_t job_id, TimePoint due) {
  auto at = clock_ ? clock_->host_time(due, host.clock()) : due;
  host.call_at(at, [this, job_id, due] { fire(job_id, due); });
}

void SimSystem::fire(std::int64_t job_id, TimePoint due) {
  if (clock_) {
    if (AdapterHost* h = host()) clock_->reach(due, h->clock());
  }
  std::optional<SimJob> job;
  std::vector<SimJob> armed;
  try {
    store_->transact(
        now(),
        [&](SimTx& tx) {
          job = tx.pending_job(job_id);
          if (!job || job->kind == kSignalJob) return;  // signals finish once acknowledged
          run_job(tx, *job);
          tx.finish_job(job_id, "done");
        },
        &armed);
  } catch (const Error&) {
    // The system's database failed: the job stays pending; try again later.
    auto again = now() + kRetryJobAfter;
    std::lock_guard lock(host_mu_);
    if (host_) schedule(*host_, job_id, again);
    return;
  }
  arm(armed);
  if (job && job->kind == kSignalJob) {
    deliver(*job);
  } else {
    disarm(job_id);  // run here, or already by another process
  }
}

void SimSystem::deliver(const SimJob& job) {
  AdapterHost* h = host();
  if (h == nullptr) return;
  SignalRequest request;
  request.workflow = job.body.value("workflow", "");
  request.business_key = job.body.value("business_key", "");
  request.name = job.body.value("name", "");
  request.match = job.body.value("match", nlohmann::json());
  request.payload = job.body.value("payload", nlohmann::json());
  request.idempotency_key = job.body.value("idempotency_key", "");
  h->deliver_signal(std::move(request), [this, id = job.id](SignalDelivery delivery) {
    std::string outcome = "done";
    if (delivery.refused) {
      if (delivery.refused->code() == Errc::storage) {
        // Not committed: the engine is stopping, or the node that owns the instance did not
        // answer. Pending, so the next attach (or rescan) delivers it again.
        disarm(id);
        return;
      }
      outcome = fmt::format("dropped: {}", delivery.refused->what());
    } else if (delivery.accepted && delivery.accepted->duplicate) {
      outcome = "done: duplicate";
    }
    try {
      store_->transact(now(), [&](SimTx& tx) { tx.finish_job(id, outcome); });
    } catch (const Error&) {
      // Still pending: delivered again later, and the engine counts a repeat once.
    }
    disarm(id);
  });
}

}  // namespace rmaflow::sim
