// The simulated carrier: return labels and their void, and tracking. A label's parcel is
// delivered to the warehouse after the transit time configured for its RMA (or never: the
// customer does not ship it); the delivery is a durable job of the carrier, and the warehouse
// then receives the parcel (WmsSystem::receive_parcel).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "adapters/sim/sim_system.hpp"
#include "adapters/sim/wms_system.hpp"

namespace rmaflow::sim {

struct CarrierOptions {
  // Transit from label to warehouse per RMA; nullopt: the parcel never arrives.
  std::map<std::string, std::optional<Duration>, std::less<>> transit;
  std::optional<Duration> default_transit = Duration(3LL * 86'400'000);
};

class CarrierSystem final : public SimSystem {
 public:
  CarrierSystem(std::string name, std::shared_ptr<SimStore> store, CarrierOptions options);

  // Where parcels are delivered; without one they are only marked delivered.
  void deliver_to(std::shared_ptr<WmsSystem> warehouse) { warehouse_ = std::move(warehouse); }

 private:
  nlohmann::json create_label(SimTx& tx, const nlohmann::json& in);
  void run_job(SimTx& tx, const SimJob& job) override;

  CarrierOptions options_;
  std::shared_ptr<WmsSystem> warehouse_;
};

}  // namespace rmaflow::sim
