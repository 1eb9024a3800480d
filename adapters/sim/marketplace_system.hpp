// The simulated marketplace: return cases its buyers open against the seller. The seller
// acknowledges a case and must answer it by `respond_within`: offer a partial refund (which
// the buyer accepts or declines), accept the return (the buyer ships it back with the
// marketplace's label), or decline it. An unanswered case escalates, and the marketplace rules
// on it, as it does on a declined one. It tells the instance named in the acknowledgement's
// `notify`:
//   `marketplace.offer_answered`  ({case_id, accepted, amount}) - the buyer's answer
//   `marketplace.return_delivered` ({case_id, tracking_number}) - the return reached the seller
//   `marketplace.case_decided`    ({case_id, ruling: buyer | seller, refund_amount}) - a ruling;
//                                  for the buyer, the marketplace refunded them from the seller
// How each buyer behaves is configured per case id.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "adapters/sim/line_rules.hpp"
#include "adapters/sim/sim_system.hpp"

namespace rmaflow::sim {

struct CaseRule {
  enum class Answer { accept, decline, silent };
  Answer offer = Answer::accept;                       // the buyer's answer to a partial offer
  std::optional<Duration> ships{4LL * 86'400'000};     // return shipped this long after; none: never
  std::string ruling = "buyer";                        // whom the marketplace rules for
};

struct MarketplaceOptions {
  Duration respond_within{48LL * 3'600'000};
  Duration buyer_answers_after{86'400'000};
  Duration ruling_after{2LL * 86'400'000};
  LineRules<CaseRule> cases{CaseRule{}};
};

class MarketplaceSystem final : public SimSystem {
 public:
  MarketplaceSystem(std::string name, std::shared_ptr<SimStore> store, MarketplaceOptions options);

 private:
  nlohmann::json acknowledge(SimTx& tx, const nlohmann::json& in);
  nlohmann::json offer_partial_refund(SimTx& tx, const nlohmann::json& in);
  nlohmann::json accept_return(SimTx& tx, const nlohmann::json& in);
  nlohmann::json refund(SimTx& tx, const nlohmann::json& in);
  nlohmann::json decline(SimTx& tx, const nlohmann::json& in);
  void run_job(SimTx& tx, const SimJob& job) override;
  // The case, answerable by the seller: not escalated, ruled or closed.
  SimDoc answerable(SimTx& tx, const nlohmann::json& in);
  // Records a refund to the buyer and marks the case `status`.
  nlohmann::json refund_buyer(SimTx& tx, SimDoc& c, double amount, const std::string& status,
                              const std::string& by);

  MarketplaceOptions options_;
};

}  // namespace rmaflow::sim
