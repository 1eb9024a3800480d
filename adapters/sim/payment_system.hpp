// The simulated payment provider: authorization holds on the customer's card, their capture
// and release, refunds and their (partial) reversal. Every money movement is a document with
// an amount, idempotent per key, and has an undo: a hold is released, a capture refunded, a
// refund reversed, a reversal cancelled. Amounts never go beyond what they draw on: a capture
// beyond its hold, a reversal beyond what is left of its refund, are refused.
#pragma once

#include <memory>
#include <set>
#include <string>

#include "adapters/sim/sim_system.hpp"

namespace rmaflow::sim {

struct PaymentOptions {
  Duration hold_valid{30LL * 86'400'000};  // a hold not captured by then cannot be
  std::set<std::string, std::less<>> declined;  // customers whose card declines holds
};

class PaymentSystem final : public SimSystem {
 public:
  PaymentSystem(std::string name, std::shared_ptr<SimStore> store, PaymentOptions options);

 private:
  nlohmann::json place_hold(SimTx& tx, const nlohmann::json& in);
  nlohmann::json capture_hold(SimTx& tx, const nlohmann::json& in);
  nlohmann::json refund(SimTx& tx, const nlohmann::json& in);
  nlohmann::json reverse_refund(SimTx& tx, const nlohmann::json& in);

  PaymentOptions options_;
};

}  // namespace rmaflow::sim
