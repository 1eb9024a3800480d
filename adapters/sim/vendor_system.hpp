// The simulated vendor (a manufacturer or its repair centre): vendor RMAs for goods returned to
// it, and repairs. It answers by itself, as a vendor's portal does, to the instance named in
// the request's `notify`:
//   - a vendor RMA is approved or refused `decides_after` it is opened: `vendor.rma_decided`
//     ({vendor_rma_id, decision: approved | refused, reason});
//   - goods advised as shipped reach it after `transit`; `credit_after` later it credits them:
//     `vendor.credit_issued` ({vendor_rma_id, credit_note_id, amount, currency});
//   - a unit sent for repair comes back `repair_time` after it arrives, repaired or not:
//     `vendor.repair_finished` ({repair_id, result: repaired | unrepairable, tracking_number}).
// Which goods it refuses, never answers about, or cannot repair is configured by SKU, serial,
// RMA or RMA/line.
#pragma once

#include <memory>
#include <set>
#include <string>

#include "adapters/sim/sim_system.hpp"

namespace rmaflow::sim {

struct VendorOptions {
  Duration decides_after{86'400'000};
  Duration transit{4LL * 86'400'000};
  Duration credit_after{21LL * 86'400'000};
  Duration repair_time{10LL * 86'400'000};
  double credit_rate = 0.8;  // of the unit cost, credited for goods returned
  double quote_price = 89.0;
  std::set<std::string, std::less<>> refuse;        // vendor RMAs refused
  std::set<std::string, std::less<>> silent;        // vendor RMAs and repairs never answered
  std::set<std::string, std::less<>> unrepairable;  // repairs that fail
};

class VendorSystem final : public SimSystem {
 public:
  VendorSystem(std::string name, std::shared_ptr<SimStore> store, VendorOptions options);

 private:
  nlohmann::json open_rma(SimTx& tx, const nlohmann::json& in);
  nlohmann::json open_repair(SimTx& tx, const nlohmann::json& in);
  nlohmann::json advise_shipment(SimTx& tx, const nlohmann::json& in);
  void run_job(SimTx& tx, const SimJob& job) override;
  // Whether the document's SKU, serial, RMA or RMA/line is in `names`.
  static bool listed(const std::set<std::string, std::less<>>& names, const SimDoc& doc);

  VendorOptions options_;
};

}  // namespace rmaflow::sim
