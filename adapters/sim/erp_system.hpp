// The simulated ERP: customers and their invoice history (master data loaded from a file),
// return authorizations checked against the invoice and the return window, credit memos and
// their reversal, replacement orders and their cancellation, charges, and closing the RMA.
// An advance authorization is reviewed by credit control some hours later: the ERP then
// sends the signal `authorization.reviewed` ({authorization_id, decision: confirmed |
// reversed, reason}) to the instance named in the request's `notify`.
//
// Operations and their refusals are listed in docs/adapters.md.
#pragma once

#include <memory>
#include <string>

#include "adapters/sim/sim_system.hpp"

namespace rmaflow::sim {

struct ErpOptions {
  Duration return_window = Duration(30LL * 86'400'000);  // from the invoice date
  Duration review_after = Duration(6LL * 3'600'000);     // credit review of advance authorizations
  // Master data: {customers: {ID: {...}}, invoices: {ID: {...}}}, loaded once (documents that
  // exist already are kept as they are).
  nlohmann::json data = nlohmann::json::object();
};

class ErpSystem final : public SimSystem {
 public:
  ErpSystem(std::string name, std::shared_ptr<SimStore> store, ErpOptions options);

 private:
  nlohmann::json authorize_return(SimTx& tx, const nlohmann::json& in);
  nlohmann::json post_credit_memo(SimTx& tx, const nlohmann::json& in);
  nlohmann::json close_rma(SimTx& tx, const nlohmann::json& in);
  // Sets the status of an existing document, refusing from the statuses in `final_states`.
  nlohmann::json change_status(SimTx& tx, const std::string& type, const std::string& id,
                               const std::string& status, const std::string& id_field);
  void load_master_data();

  ErpOptions options_;
};

}  // namespace rmaflow::sim
