// The simulated warehouse (WMS): parcels received at the dock, inspection with a grade, and
// the disposition of the goods: restock, refurbish, return to vendor or scrap, each of which
// can be reversed until it is carried out. When a parcel is received the WMS sends the signal
// `warehouse.received` ({rma_id, receipt_id, tracking_number, received_at}) to the instance
// named by the parcel's reference (the label's `notify`).
#pragma once

#include <map>
#include <memory>
#include <string>

#include "adapters/sim/sim_system.hpp"

namespace rmaflow::sim {

struct WmsOptions {
  // What inspection finds, per RMA: A (as new), B (cosmetic wear), C (defective), D (damaged).
  std::map<std::string, std::string, std::less<>> grades;
  std::string default_grade = "A";
};

class WmsSystem final : public SimSystem {
 public:
  WmsSystem(std::string name, std::shared_ptr<SimStore> store, WmsOptions options);

  // A parcel reached the dock (the carrier delivered it). Idempotent per tracking number.
  // Throws Error(storage).
  void receive_parcel(const std::string& rma_id, const std::string& tracking_number,
                      const nlohmann::json& notify);

 private:
  nlohmann::json receive(SimTx& tx, const std::string& rma_id, const std::string& tracking_number,
                         const nlohmann::json& notify);
  nlohmann::json inspect(SimTx& tx, const nlohmann::json& in);
  // Registers a disposition and its reversal: `op` creates a document of `type` whose id
  // (`prefix`-NNNNNN) is returned as `id_field`; `undo` reverses it.
  void add_disposition(const std::string& op, const std::string& undo, const std::string& type,
                       const std::string& prefix, const std::string& id_field,
                       const std::string& path);

  WmsOptions options_;
};

}  // namespace rmaflow::sim
