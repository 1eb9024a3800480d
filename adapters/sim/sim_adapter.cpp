#include "adapters/sim/sim_adapter.hpp"

namespace rmaflow::sim {

void SimAdapter::invoke(const Invocation& call, AdapterHost& host, Completion done) {
  auto response = system_->execute(call.operation, call.idempotency_key, call.input,
                                   call.outcome_unknown ? call.undoes : std::string());
  auto now = host.clock().now();
  // A late answer arrives after the deadline has passed, as a lost one would.
  auto at = response.late ? std::max(now, call.deadline) + response.latency + Duration(1)
                          : now + response.latency;
  if (at <= now) {
    done(std::move(response.outcome));
    return;
  }
  host.call_at(at, [done = std::move(done), outcome = std::move(response.outcome)]() mutable {
    done(std::move(outcome));
  });
}

}  // namespace rmaflow::sim
