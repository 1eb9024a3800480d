// The simulated carrier: return labels and their void, tracking, scan events and claims.
//
// A label's parcel reaches the warehouse after the transit configured for its RMA or line (or
// never: the customer does not ship it; or is lost on the way); the delivery is a durable job
// of the carrier, and the warehouse then receives the parcel (WmsSystem::receive_parcel). A
// label asked for with `scans: true` also reports its legs to the label's `notify`: the
// signals `carrier.dropped_off` and `carrier.in_transit` ({label_id, tracking_number, rma_id,
// line_id, event, scanned_at}; a line's label sends them with the line id as match value).
// A parcel dropped off and not delivered can be claimed as lost; if it turns up after all, the
// claim is marked so and the warehouse receives it late.
#pragma once

#include <memory>
#include <string>

#include "adapters/sim/line_rules.hpp"
#include "adapters/sim/sim_system.hpp"
#include "adapters/sim/wms_system.hpp"

namespace rmaflow::sim {

// What becomes of a label's parcel.
struct ParcelRule {
  enum class Fate { delivered, never, lost };
  Fate fate = Fate::delivered;             // never: not shipped; lost: shipped, never delivered
  Duration transit{3LL * 86'400'000};      // label to warehouse, when delivered
};

struct CarrierOptions {
  LineRules<ParcelRule> parcels{ParcelRule{}};
  // From the label to the drop-off scan (at most half the transit); the in-transit scan comes
  // six hours later (at most half of what is left).
  Duration drop_off{86'400'000};
};

class CarrierSystem final : public SimSystem {
 public:
  CarrierSystem(std::string name, std::shared_ptr<SimStore> store, CarrierOptions options);

  // Where parcels are delivered; without one they are only marked delivered.
  void deliver_to(std::shared_ptr<WmsSystem> warehouse) { warehouse_ = std::move(warehouse); }

 private:
  nlohmann::json create_label(SimTx& tx, const nlohmann::json& in);
  nlohmann::json open_claim(SimTx& tx, const nlohmann::json& in);
  void run_job(SimTx& tx, const SimJob& job) override;
  void scan(SimTx& tx, SimDoc& label, const std::string& event);
  void deliver(SimTx& tx, SimDoc& label);

  CarrierOptions options_;
  std::shared_ptr<WmsSystem> warehouse_;
};

}  // namespace rmaflow::sim
