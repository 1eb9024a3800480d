// SimAdapter: a simulated system reached in-process. A call is executed at once and answered
// after the call's simulated latency on the engine's clock (AdapterHost::call_at), so a
// manual or virtual clock makes it instant; a call the profile makes "late" is answered only
// after the attempt's deadline, as a request whose answer was lost.
#pragma once

#include <memory>
#include <string>

#include "adapters/sim/sim_system.hpp"
#include "rmaflow/adapter.hpp"

namespace rmaflow::sim {

// What a call's latency and faults are drawn from: its idempotency key, with the instance's id
// replaced by the instance's business key when it has one.
std::string draw_identity(const Invocation& call);

class SimAdapter final : public Adapter {
 public:
  explicit SimAdapter(std::shared_ptr<SimSystem> system) : system_(std::move(system)) {}

  void invoke(const Invocation& call, AdapterHost& host, Completion done) override;
  bool has_operation(std::string_view operation) const override {
    return system_->has_operation(operation);
  }
  std::vector<std::string> operations() const override {
    std::vector<std::string> names;
    for (const auto& op : system_->operations()) names.push_back(op.name);
    return names;
  }
  // The system runs its scheduled events (deliveries, signals) on the engine's clock.
  void start(AdapterHost& host) override { system_->attach(host); }
  void stop() override { system_->detach(); }

  const std::shared_ptr<SimSystem>& system() const { return system_; }

 private:
  std::shared_ptr<SimSystem> system_;
};

}  // namespace rmaflow::sim
