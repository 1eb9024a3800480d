#include "adapters/sim/sim_adapter.hpp"

namespace rmaflow::sim {

// The key with the instance's id replaced by its business key: the same RMA meets the same
// latencies and faults in every run, though each run gives its instances new ids. Without a
// business key, the key itself.
std::string draw_identity(const Invocation& call) {
  std::string_view key = call.idempotency_key;
  if (call.business_key.empty() || call.instance_id.empty() || !key.starts_with(call.instance_id)) {
    return call.idempotency_key;
  }
  return call.business_key + std::string(key.substr(call.instance_id.size()));
}

void SimAdapter::invoke(const Invocation& call, AdapterHost& host, Completion done) {
  auto response =
      system_->execute(call.operation, call.idempotency_key, call.input,
                       call.outcome_unknown ? call.undoes : std::string(), draw_identity(call));
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
