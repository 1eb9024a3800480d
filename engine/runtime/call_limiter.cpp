#include "engine/runtime/call_limiter.hpp"

#include <algorithm>

namespace rmaflow {

namespace {

std::string operation_key(std::string_view adapter, std::string_view operation) {
  std::string key(adapter);
  key += '.';
  key += operation;
  return key;
}

}  // namespace

CallLimiter::CallLimiter(const std::map<std::string, AdapterLimits, std::less<>>& limits) {
  for (const auto& [adapter, l] : limits) {
    if (l.adapter.any()) adapters_[adapter].limit = l.adapter;
    for (const auto& [operation, limit] : l.operations) {
      operations_[operation_key(adapter, operation)].limit = limit;
    }
  }
  publish();
}

bool CallLimiter::limited(std::string_view adapter, std::string_view operation) const {
  return adapters_.count(adapter) > 0 || operations_.count(operation_key(adapter, operation)) > 0;
}

CallLimiter::Gate* CallLimiter::gate(const std::string& adapter, const std::string& operation) {
  if (operation.empty()) {
    auto it = adapters_.find(adapter);
    return it == adapters_.end() ? nullptr : &it->second;
  }
  auto it = operations_.find(operation_key(adapter, operation));
  return it == operations_.end() ? nullptr : &it->second;
}

bool CallLimiter::open(const Gate* g, Clock::time_point now) const {
  if (g == nullptr) return true;
  if (g->limit.in_flight > 0 && g->in_flight >= g->limit.in_flight) return false;
  return g->limit.per_second <= 0 || now >= g->next_start;
}

void CallLimiter::take(Gate* g, Clock::time_point now) {
  if (g == nullptr) return;
  ++g->in_flight;
  if (g->limit.per_second > 0) {
    auto spacing = std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(1.0 / g->limit.per_second));
    g->next_start = std::max(now, g->next_start) + spacing;
  }
}

bool CallLimiter::pass(const std::string& adapter, const std::string& operation,
                       Clock::time_point now) {
  Gate* whole = gate(adapter, "");
  Gate* one = gate(adapter, operation);
  if (!open(whole, now) || !open(one, now)) return false;
  take(whole, now);
  take(one, now);
  return true;
}

bool CallLimiter::admit(CallTicket ticket, Clock::time_point now) {
  auto& queue = queues_[ticket.adapter];
  // Behind others of its adapter it waits its turn, even if a slot is free this instant.
  bool adapter_wide = gate(ticket.adapter, "") != nullptr;
  bool behind = std::any_of(queue.begin(), queue.end(), [&](const Waiting& w) {
    return adapter_wide || w.ticket.operation == ticket.operation;
  });
  if (!behind && pass(ticket.adapter, ticket.operation, now)) {
    publish();
    return true;
  }
  queue.push_back(Waiting{std::move(ticket), now});
  publish();
  return false;
}

void CallLimiter::release(const std::string& adapter, const std::string& operation) {
  for (Gate* g : {gate(adapter, ""), gate(adapter, operation)}) {
    if (g != nullptr && g->in_flight > 0) --g->in_flight;
  }
  publish();
}

std::vector<CallTicket> CallLimiter::due(Clock::time_point now,
                                         std::optional<Clock::time_point>& next) {
  std::vector<CallTicket> out;
  next.reset();
  for (auto& [adapter, queue] : queues_) {
    // In order; a call blocked by its operation's limit does not hold up another operation's,
    // but none passes a call of its own operation (or any, under an adapter-wide limit).
    std::vector<std::string> blocked;
    bool adapter_blocked = false;
    for (auto it = queue.begin(); it != queue.end() && !adapter_blocked;) {
      const auto& op = it->ticket.operation;
      if (std::find(blocked.begin(), blocked.end(), op) != blocked.end()) {
        ++it;
        continue;
      }
      if (pass(adapter, op, now)) {
        for (Gate* g : {gate(adapter, ""), gate(adapter, op)}) {
          if (g == nullptr) continue;
          ++g->waited;
          g->waited_seconds += std::chrono::duration<double>(now - it->since).count();
        }
        out.push_back(std::move(it->ticket));
        it = queue.erase(it);
        continue;
      }
      // When could it go? Only the rate says; a full slot frees on an answer.
      for (Gate* g : {gate(adapter, ""), gate(adapter, op)}) {
        if (g == nullptr || g->limit.per_second <= 0) continue;
        if (g->limit.in_flight > 0 && g->in_flight >= g->limit.in_flight) continue;
        if (g->next_start > now && (!next || g->next_start < *next)) next = g->next_start;
      }
      if (!open(gate(adapter, ""), now)) adapter_blocked = true;
      blocked.push_back(op);
      ++it;
    }
  }
  publish();
  return out;
}

void CallLimiter::publish() {
  std::vector<LimitState> states;
  std::map<std::string, std::size_t> queued_by_key;  // adapter or adapter.operation
  std::map<std::string, QueuedCall> queued;
  for (const auto& [adapter, queue] : queues_) {
    std::size_t position = 0;
    for (const auto& w : queue) {
      ++queued_by_key[adapter];
      ++queued_by_key[operation_key(adapter, w.ticket.operation)];
      queued.emplace(w.ticket.instance_id, QueuedCall{adapter, w.ticket.operation, w.ticket.branch,
                                                      w.ticket.queued_at, ++position});
    }
  }
  for (const auto& [adapter, g] : adapters_) {
    states.push_back(
        {adapter, "", g.limit, g.in_flight, queued_by_key[adapter], g.waited, g.waited_seconds});
  }
  for (const auto& [key, g] : operations_) {
    auto dot = key.find('.');
    states.push_back({key.substr(0, dot), key.substr(dot + 1), g.limit, g.in_flight,
                      queued_by_key[key], g.waited, g.waited_seconds});
  }
  std::lock_guard lock(mu_);
  published_ = std::move(states);
  published_queued_ = std::move(queued);
}

std::vector<LimitState> CallLimiter::snapshot() const {
  std::lock_guard lock(mu_);
  return published_;
}

std::optional<QueuedCall> CallLimiter::queued(const std::string& instance_id) const {
  std::lock_guard lock(mu_);
  auto it = published_queued_.find(instance_id);
  if (it == published_queued_.end()) return std::nullopt;
  return it->second;
}

}  // namespace rmaflow
