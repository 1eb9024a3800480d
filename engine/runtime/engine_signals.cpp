// Signals: accepted from callers (and from queued commands), stored and deduplicated by their
// idempotency key, consumed by the wait step that names them (see docs/decisions.md, Signals).
// A signal no wait step of the instance's version waits for is refused.
#include <fmt/format.h>

#include "engine/dsl/signal_names.hpp"
#include "engine/runtime/engine_impl.hpp"
#include "engine/runtime/request_checks.hpp"
#include "engine/runtime/signal_routing.hpp"
#include "engine/support/json_depth.hpp"
#include "engine/support/limits.hpp"

namespace rmaflow {

void EngineImpl::deliver_signal(SignalRequest request, SignalDone done) {
  signal(std::move(request), [done = std::move(done)](Reply<SignalResult> reply) {
    if (reply.ok()) {
      done(SignalDelivery{std::move(*reply.result), std::nullopt});
      return;
    }
    try {
      std::rethrow_exception(reply.error);
    } catch (const Error& e) {
      done(SignalDelivery{std::nullopt, e});
    }
  });
}

SignalResult EngineImpl::handle_signal(const SignalRequest& request) {
  check_request(request);
  if (request.name.empty()) throw Error(Errc::invalid_argument, "a signal needs a name");
  if (json_deeper_than(request.payload) || json_deeper_than(request.match)) {
    throw Error(Errc::invalid_argument,
                fmt::format("the payload of signal {} nests deeper than {} levels", request.name,
                            kMaxJsonDepth));
  }
  std::string id = request.instance_id;
  if (id.empty()) {
    if (auto it = pending_keys_.find(pending_key(request.workflow, request.business_key));
        it != pending_keys_.end()) {
      id = it->second.instance_id;
    } else {
      std::lock_guard lock(store_mu_);
      auto row = store_->find_by_business_key(request.workflow, request.business_key);
      if (!row) {
        throw Error(Errc::not_found, fmt::format("workflow {} has no instance with business key {}",
                                                 request.workflow, request.business_key));
      }
      id = row->id;
    }
  }
  auto marked = processing(id);
  if (!holds(store_->held_shards(), id)) check_signal_elsewhere(id, request.name);
  Instance* inst = &acquire_unfinished(id, "takes no signals");
  // A signal no wait step of its version could ever take would be kept forever.
  if (auto refusal = dsl::signal_refusal(*inst->definition, request.name); !refusal.empty()) {
    settle(*inst);
    throw ArgumentError(Errc::invalid_argument, fmt::format("instance {}: {}", id, refusal), "name");
  }
  auto now = clock_->now();
  std::string key =
      request.idempotency_key.empty() ? "auto:" + ids_.next(now) : request.idempotency_key;
  bool duplicate = batch().adds_signal(id, key);
  if (!duplicate) {
    std::lock_guard lock(store_mu_);
    duplicate = store_->find_signal(id, key).has_value();
  }
  // A repeat of a signal accepted before is answered as such even if nothing waits any more.
  if (!duplicate) {
    if (auto refusal = signal_refusal(*inst, request.name, request.match); !refusal.empty()) {
      settle(*inst);
      throw Error(Errc::refused, refusal);
    }
    // One a wait takes as it arrives is not kept: the signal an instance waits for gets
    // through however many others it keeps.
    load_signals(*inst);
    if (inst->pending_signals.size() >= kMaxPendingSignals &&
        !machine_.takes_at_once(*inst, request.name, request.match)) {
      settle(*inst);
      throw Error(Errc::refused,
                  fmt::format("instance {} keeps {} signals that no wait has taken yet, the most "
                              "it keeps; it takes more once its waits have taken some",
                              id, kMaxPendingSignals));
    }
    SignalRow row;
    row.instance_id = id;
    row.name = request.name;
    row.match = request.match;
    row.idempotency_key = key;
    row.payload = request.payload.dump();
    row.received_at = now;
    machine_.on_signal(*inst, std::move(row));
  }
  settle(*inst);
  return SignalResult{id, key, duplicate};
}

void EngineImpl::check_signal_elsewhere(const std::string& id, const std::string& name) {
  std::optional<InstanceRow> row;
  {
    std::lock_guard lock(store_mu_);
    row = store_->get_instance(id);
  }
  if (!row || is_final(row->status)) return;  // refused as here, by acquire_unfinished()
  auto def = definitions_->get(row->workflow, row->version);
  if (!def) return;
  if (auto refusal = dsl::signal_refusal(*def, name); !refusal.empty()) {
    throw ArgumentError(Errc::invalid_argument, fmt::format("instance {}: {}", id, refusal),
                        "name");
  }
  throw RoutedElsewhere(id, shard_of(id));
}

void EngineImpl::load_signals(Instance& inst) {
  if (inst.signals_loaded) return;
  inst.signals_loaded = true;
  std::vector<SignalRow> all;
  {
    std::lock_guard lock(store_mu_);
    all = store_->signals(inst.row.id);
  }
  for (auto& s : all)
    if (!s.consumed_at) inst.pending_signals.push_back(std::move(s));
}

}  // namespace rmaflow
