// The simulated warehouse (WMS): parcels received at the dock, inspection with a grade, and
// the disposition of the goods: restock, refurbish, return to vendor, scrap, repair or
// quarantine, each of which can be reversed until it is carried out; goods shipped to a vendor.
//
// Two granularities, as returns teams have run them: the whole RMA (inspect, restock, ...: one
// grade for every line) and each RMA line on its own (inspect_line, restock_line, ...: a grade,
// a condition and the serial found, per line). When a parcel is received the WMS sends a signal
// to the instance named by the parcel's reference (the label's `notify`): `warehouse.received`
// ({rma_id, receipt_id, tracking_number, received_at}) for a parcel of the whole RMA,
// `warehouse.line_received` (the same and `line_id`, with the line id as its match value) for
// a parcel of one line.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "adapters/sim/line_rules.hpp"
#include "adapters/sim/sim_system.hpp"

namespace rmaflow::sim {

// What inspection finds on a unit.
struct InspectionRule {
  std::string grade = "A";                 // A (as new), B (cosmetic wear), C (defective), D (damaged)
  std::string condition = "as_described";  // or not_as_described (another item, missing parts)
  std::optional<std::string> serial;       // the serial on the unit, when not the one sold
};

struct WmsOptions {
  // Per line, per RMA, or default (grade A).
  LineRules<InspectionRule> inspections{InspectionRule{}};
  // For lines no line or RMA rule names: grades drawn from the seed with these weights
  // ({A: 6, B: 2, C: 1, D: 1}); empty: the default rule.
  std::map<std::string, double> grade_mix;
  std::uint64_t seed = 1;
};

class WmsSystem final : public SimSystem {
 public:
  WmsSystem(std::string name, std::shared_ptr<SimStore> store, WmsOptions options);

  // A parcel reached the dock (the carrier delivered it): of one line when `line_id` is set,
  // else of the whole RMA. Idempotent per tracking number. Throws Error(storage).
  void receive_parcel(const std::string& rma_id, const std::string& line_id,
                      const std::string& tracking_number, const nlohmann::json& notify);

 private:
  nlohmann::json receive(SimTx& tx, const std::string& rma_id, const std::string& line_id,
                         const std::string& tracking_number, const nlohmann::json& notify);
  nlohmann::json inspect(SimTx& tx, const nlohmann::json& in);
  nlohmann::json inspect_line(SimTx& tx, const nlohmann::json& in);
  InspectionRule rule_for(const std::string& rma_id, const std::string& line_id) const;
  void add_dispositions();
  nlohmann::json ship_to_vendor(SimTx& tx, const nlohmann::json& in);

  WmsOptions options_;
};

}  // namespace rmaflow::sim
