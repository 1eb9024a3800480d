// The simulated ERP: customers and their invoice history (master data loaded from a file),
// return authorizations checked against the invoice and the return window (their lines
// numbered L1, L2, ...), credit memos and their reversal, replacement orders and their
// cancellation, charges, and closing the RMA. An advance authorization is reviewed by credit
// control some hours later: the ERP then sends the signal `authorization.reviewed`
// ({authorization_id, decision: confirmed | reversed, reason}) to the instance named in the
// request's `notify`.
//
// Its customer-service side (erp_cases.cpp): review cases of the risk desk (a reviewer decides
// and the ERP sends `review.decided`), warranty checks against the invoice date, repair quotes
// sent to the customer (who answers with `customer.quote_answered`), and vendor credits.
//
// Operations and their refusals are listed in docs/adapters.md.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "adapters/sim/line_rules.hpp"
#include "adapters/sim/sim_system.hpp"

namespace rmaflow::sim {

// How the risk desk decides a review case (per RMA or RMA/subject, "rma" or a line id).
struct ReviewRule {
  std::optional<std::string> decision = "approve";  // approve | deny | partial; none: nobody decides
  Duration after{20LL * 3'600'000};                   // from opening the case
  std::string reviewer = "risk-desk";
  double refund_ratio = 1;                            // of the credit, for partial
};

// How a customer answers a repair quote (per RMA or RMA/line).
struct QuoteRule {
  std::optional<bool> accept = true;  // none: the customer never answers
  Duration after{86'400'000};
};

struct ErpOptions {
  Duration return_window = Duration(30LL * 86'400'000);  // from the invoice date
  Duration review_after = Duration(6LL * 3'600'000);     // credit review of advance authorizations
  // Master data: {customers: {ID: {...}}, invoices: {ID: {...}}}, loaded once (documents that
  // exist already are kept as they are).
  nlohmann::json data = nlohmann::json::object();
  Duration warranty = Duration(365LL * 86'400'000);  // from the invoice date
  LineRules<ReviewRule> reviews{ReviewRule{}};
  LineRules<QuoteRule> quotes{QuoteRule{}};
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
  // The customer-service side (erp_cases.cpp).
  void add_cases();
  nlohmann::json open_review(SimTx& tx, const nlohmann::json& in);
  nlohmann::json check_warranty(SimTx& tx, const nlohmann::json& in);
  nlohmann::json send_quote(SimTx& tx, const nlohmann::json& in);

  ErpOptions options_;
};

}  // namespace rmaflow::sim
