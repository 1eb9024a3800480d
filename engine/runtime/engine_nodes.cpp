// Several nodes on one database (StoreOptions::node, docs/postgresql.md): keeping this node's
// leases, taking up the instances of shards it takes over, and passing requests about other
// nodes' instances on through the command queue.
#include <fmt/format.h>

#include <algorithm>
#include <bit>

#include "engine/runtime/command_outcome.hpp"
#include "engine/runtime/engine_impl.hpp"

namespace rmaflow {

namespace {

std::string shard_list(ShardMask mask) {
  std::string out;
  for (int s = 0; s < kShards; ++s) {
    if (holds(mask, s)) out += fmt::format("{}{}", out.empty() ? "" : ", ", s);
  }
  return out;
}

// The owner's refusal of a passed-on request, as the Error the caller would have had here;
// `code` for an outcome that names none (checks that could be made here were made here).
void throw_if_refused(const CommandRow& done, Errc code) {
  throw_refusal(done.outcome, code);
  if (!done.outcome.starts_with("applied")) {
    throw Error(Errc::refused, fmt::format("command {} was {}", done.id, done.outcome));
  }
}

InstanceRow committed(Store& store, const std::string& id) {
  auto row = store.get_instance(id);
  if (!row) throw Error(Errc::not_found, fmt::format("no instance {}", id));
  return std::move(*row);
}

}  // namespace

RoutedElsewhere::RoutedElsewhere(std::string id, int shard_)
    : Error(Errc::conflict, id.empty() ? fmt::format("shard {} belongs to another node", shard_)
                                       : fmt::format("instance {} belongs to another node", id)),
      instance_id(std::move(id)),
      shard(shard_) {}

// ---- passing requests on ----------------------------------------------------------------
// Only a node has a forwarder, and builds a route: a lone engine copies nothing for one.

Route<StartResult> EngineImpl::start_route(const StartRequest& request) {
  Route<StartResult> route;
  route.command = [this, request](const RoutedElsewhere& routed) {
    nlohmann::json body = {{"workflow", request.workflow},
                           {"input", request.input},
                           {"correlation_id", request.correlation_id}};
    if (request.version) body["version"] = *request.version;
    if (request.business_key) body["business_key"] = *request.business_key;
    // The owner gives the new instance this id, in the shard of its business key.
    return CommandRow{0,
                      ids_.next(clock_->now(), routed.shard),
                      "start",
                      body.dump(),
                      clock_->now(),
                      std::nullopt,
                      ""};
  };
  route.answer = [](const CommandRow& done, Store& store) {
    // What could be checked here was (workflow, input, schema): the owner refuses only a key
    // that is taken with another input.
    throw_if_refused(done, Errc::conflict);
    constexpr std::string_view kExisting = "applied: existing instance ";
    bool created = !done.outcome.starts_with(kExisting);
    std::string id = created ? done.instance_id : done.outcome.substr(kExisting.size());
    auto row = committed(store, id);
    return StartResult{id, row.version, created};
  };
  return route;
}

void EngineImpl::start(StartRequest request, ReplyFn<StartResult> done) {
  auto route = forwarder_ ? start_route(request) : Route<StartResult>{};
  submit<StartResult>(
      [this, request = std::move(request)]() mutable { return handle_start(std::move(request)); },
      std::move(done), std::move(route));
}

Route<SignalResult> EngineImpl::signal_route(const SignalRequest& request) {
  Route<SignalResult> route;
  route.command = [this, request](const RoutedElsewhere& routed) {
    std::string key = request.idempotency_key.empty() ? "auto:" + ids_.next(clock_->now())
                                                      : request.idempotency_key;
    nlohmann::json body = {{"name", request.name},
                           {"payload", request.payload},
                           {"match", request.match},
                           {"idempotency_key", key}};
    return CommandRow{0, routed.instance_id, "signal", body.dump(), clock_->now(), std::nullopt,
                      ""};
  };
  route.answer = [](const CommandRow& done, Store&) {
    throw_if_refused(done, Errc::refused);
    auto body = nlohmann::json::parse(done.body);
    return SignalResult{done.instance_id, body.value("idempotency_key", std::string()),
                        done.outcome.find("duplicate") != std::string::npos};
  };
  return route;
}

void EngineImpl::signal(SignalRequest request, ReplyFn<SignalResult> done) {
  auto route = forwarder_ ? signal_route(request) : Route<SignalResult>{};
  submit<SignalResult>([this, request = std::move(request)] { return handle_signal(request); },
                       std::move(done), std::move(route));
}

Route<ActionResult> EngineImpl::act_route(const OperatorAction& action) {
  Route<ActionResult> route;
  route.command = [this, action](const RoutedElsewhere& routed) {
    nlohmann::json body = {{"actor", action.actor},
                           {"reason", action.reason},
                           {"args", action.args},
                           {"branch", action.branch}};
    return CommandRow{0,           routed.instance_id, std::string(to_string(action.kind)),
                      body.dump(), clock_->now(),      std::nullopt,
                      ""};
  };
  route.answer = [branch = action.branch](const CommandRow& done, Store& store) {
    throw_if_refused(done, Errc::refused);
    auto row = committed(store, done.instance_id);
    return ActionResult{row.id, row.status, row.step, branch};
  };
  return route;
}

void EngineImpl::act(OperatorAction action, ReplyFn<ActionResult> done) {
  auto route = forwarder_ ? act_route(action) : Route<ActionResult>{};
  submit<ActionResult>([this, action = std::move(action)] { return handle_action(action); },
                       std::move(done), std::move(route));
}

Route<JobRow> EngineImpl::cancel_job_route(const std::string& id, const std::string& actor,
                                           const std::string& reason) {
  Route<JobRow> route;
  route.command = [this, id, actor, reason](const RoutedElsewhere&) {
    nlohmann::json body = {{"actor", actor}, {"reason", reason}};
    return CommandRow{0, id, "cancel_job", body.dump(), clock_->now(), std::nullopt, ""};
  };
  route.answer = [id](const CommandRow& done, Store& store) {
    throw_if_refused(done, Errc::refused);
    auto row = store.get_job(id);
    if (!row) throw Error(Errc::not_found, fmt::format("no job {}", id));
    return std::move(*row);
  };
  return route;
}

// ---- leases -----------------------------------------------------------------------------

void EngineImpl::keep_leases() {
  LeaseRound round;
  try {
    std::lock_guard lock(store_mu_);
    round = store_->keep_leases();
  } catch (const Error& e) {
    // The database is unreachable: tried again next round. Should that outlast the lease,
    // other nodes take the shards over and this node's next commit or renewal finds out.
    health_.commit_failed(e.what());
    return;
  }
  // Reachable again: healthy, unless a batch still waits to be committed again.
  if (!commit_->holding()) health_.commit_ok();
  if (round.lost != 0) {
    throw LeaseLost(
        fmt::format("node {} lost shard(s) {} to another node, which took their "
                    "instances over: it stops, committing nothing more for them; "
                    "start it again to rejoin",
                    options_.node, shard_list(round.lost)));
  }
  if (round.gained != 0) adopt(round.gained);
  if (round.surplus != 0) give_up(round.surplus);
}

void EngineImpl::give_up(ShardMask shards) {
  if (commit_->holding()) return;  // the kept batch commits first; next round, then
  commit_->flush();                // everything of theirs is committed...
  if (!batch().empty()) return;    // ...unless its effects made more: next round
  // Dropped from memory. A call of theirs still out, or a timer, finds no instance when it
  // comes back and is ignored; the new owner calls again with the same keys. A caller
  // awaiting one's end is answered when its wait runs out, from the committed row.
  held_.drop_where([shards](const std::string& id) { return holds(shards, id); });
  // Their jobs too: the new owner goes on from each one's committed progress.
  std::erase_if(jobs_, [shards](const auto& entry) { return holds(shards, entry.first); });
  std::lock_guard lock(store_mu_);
  store_->release_leases(shards);
}

void EngineImpl::adopt(ShardMask gained) {
  std::vector<InstanceRow> rows;
  {
    std::lock_guard lock(store_mu_);
    rows = store_->active_instances();
  }
  auto ids = load_active(std::move(rows), gained);
  quarantine_suspect(gained);
  timers_->adopt([gained](const std::string& id) { return holds(gained, id); });
  resume_loaded(std::move(ids));
  load_jobs(gained);
  arm_job_tick();
  commit_->request();
}

int EngineImpl::home_shard() {
  const ShardMask held = store_->held_shards();
  if (held == 0) {
    throw Error(Errc::storage,
                fmt::format("node {} holds no shard of the database yet (a node takes its share "
                            "about a second after it starts, or when another node stops): "
                            "retry, or send the request to another node",
                            options_.node));
  }
  for (int step = 1; step <= kShards; ++step) {
    int shard = (last_home_ + step) % kShards;
    if (holds(held, shard)) return last_home_ = shard;
  }
  return last_home_;
}

}  // namespace rmaflow
