// advance-replacement, one test per path: the unit comes back, it never does, the ERP's credit
// review reverses the authorization, the customer is not entitled.
#include <doctest/doctest.h>

#include "tests/workflows/returns_world.hpp"

using namespace rmaflow;
using namespace rmaflow::testing;
using json = nlohmann::json;
using Steps = std::vector<std::string>;

namespace {

constexpr const char* kAdvanceReplacement = "advance-replacement";

json laptop_rma(ReturnsWorld& w, const std::string& rma_id, const std::string& customer,
                const std::string& invoice) {
  return w.rma(rma_id, {{"customer_id", customer},
                        {"invoice_id", invoice},
                        {"resolution", "replacement"},
                        {"lines",
                         {{{"sku", "LAP-14"}, {"qty", 1}, {"unit_price", 1299.0}, {"currency", "USD"},
                           {"serial", "SN-88412"}, {"reason_code", "defective"}}}}});
}

}  // namespace

TEST_CASE("AdvanceReplacement.Returned.ReplacementFirstThenInspected") {
  ReturnsWorld w;
  auto id = w.start(kAdvanceReplacement, w.rma("RMA-A1", {{"resolution", "replacement"}}));
  auto row = w.row(id);
  CHECK(row.status == InstanceStatus::completed);
  CHECK(w.steps(id) == Steps{"authorize", "ship_replacement", "issue_label", "await_review",
                             "review_outcome", "await_return", "inspect", "disposition",
                             "restock", "close_rma", "completed"});
  // The replacement was ordered before anything came back.
  auto orders = w.docs("erp", "replacement_order", "RMA-A1");
  REQUIRE(orders.size() == 1);
  CHECK(orders[0]["status"] == "released");
  CHECK(orders[0]["body"]["advance"] == true);
  CHECK(w.context(id)["review"]["decision"] == "confirmed");
  CHECK(w.docs("carrier", "label", "RMA-A1")[0]["status"] == "delivered");
  CHECK(w.docs("wms", "restock", "RMA-A1").size() == 1);
  CHECK(w.docs("erp", "charge", "RMA-A1").empty());
  CHECK(w.docs("erp", "authorization", "RMA-A1")[0]["status"] == "closed");
  // Both events reached the instance: credit review's decision and the warehouse's receipt.
  CHECK(w.job_outcomes("erp", "signal") == std::vector<std::string>{"done"});
  CHECK(w.job_outcomes("wms", "signal") == std::vector<std::string>{"done"});
}

TEST_CASE("AdvanceReplacement.NeverReturned.CustomerChargedForTheReplacement") {
  Scenario s;
  s.parcels["RMA-A2"] = "never";
  ReturnsWorld w(s);
  auto id = w.start(kAdvanceReplacement, w.rma("RMA-A2", {{"resolution", "replacement"}}));
  auto row = w.row(id);
  CHECK(row.status == InstanceStatus::expired);
  CHECK(w.steps(id) == Steps{"authorize", "ship_replacement", "issue_label", "await_review",
                             "review_outcome", "await_return", "void_label", "charge_customer",
                             "close_unreturned", "expired"});
  // Six hours of credit review, then the 30 days the customer had to send the unit back.
  CHECK(*row.ended_at - row.created_at >= 30 * kDay + Duration(6 * 3'600'000));
  auto charges = w.docs("erp", "charge", "RMA-A2");
  REQUIRE(charges.size() == 1);
  CHECK(charges[0]["body"]["amount"].get<double>() == doctest::Approx(159.0));
  CHECK(w.docs("carrier", "label", "RMA-A2")[0]["status"] == "voided");
  // The customer keeps the replacement: its order stands.
  CHECK(w.docs("erp", "replacement_order", "RMA-A2")[0]["status"] == "released");
  CHECK(w.docs("erp", "authorization", "RMA-A2")[0]["body"]["closure"]["outcome"] == "charged");
}

TEST_CASE("AdvanceReplacement.AuthorizationReversed.ReplacementOrderCancelled") {
  ReturnsWorld w;
  auto id = w.start(kAdvanceReplacement, laptop_rma(w, "RMA-A3", "C-300", "INV-3"));
  auto row = w.row(id);
  CHECK(row.status == InstanceStatus::rejected);
  CHECK(w.steps(id) == Steps{"authorize", "ship_replacement", "issue_label", "await_review",
                             "review_outcome", "reversed"});
  CHECK(w.context(id)["review"]["decision"] == "reversed");
  // Undone newest first: the label, the replacement order, the authorization.
  std::vector<std::string> undone;
  for (const auto& e : w.history(id))
    if (e.type == EventType::compensation_step_completed) undone.push_back(e.step);
  CHECK(undone == Steps{"issue_label", "ship_replacement", "authorize"});
  CHECK(w.docs("erp", "replacement_order", "RMA-A3")[0]["status"] == "cancelled");
  CHECK(w.docs("carrier", "label", "RMA-A3")[0]["status"] == "voided");
  CHECK(w.docs("erp", "authorization", "RMA-A3")[0]["status"] == "void");
  // A voided label's parcel is never shipped: the warehouse received nothing.
  CHECK(w.docs("wms", "receipt", "RMA-A3").empty());
  CHECK(w.job_outcomes("carrier", "deliver") == std::vector<std::string>{"cancelled"});
}

TEST_CASE("AdvanceReplacement.NotEntitled.Rejected") {
  ReturnsWorld w;
  auto id = w.start(kAdvanceReplacement, laptop_rma(w, "RMA-A4", "C-400", "INV-4"));
  CHECK(w.row(id).status == InstanceStatus::rejected);
  CHECK(w.steps(id) == Steps{"authorize", "rejected"});
  CHECK(w.context(id)["error"]["message"].get<std::string>().find(
            "not entitled to advance replacements") != std::string::npos);
  CHECK(w.docs("erp", "replacement_order", "RMA-A4").empty());
}
