// returnless-refund, one test per path: credited without a shipment, too valuable to keep,
// not eligible.
#include <doctest/doctest.h>

#include "tests/workflows/returns_world.hpp"

using namespace rmaflow;
using namespace rmaflow::testing;
using json = nlohmann::json;
using Steps = std::vector<std::string>;

namespace {

constexpr const char* kReturnlessRefund = "returnless-refund";

json cable(ReturnsWorld& w, const std::string& rma_id, json patch = json::object()) {
  auto input = w.rma(rma_id, {{"lines",
                               {{{"sku", "CBL-2"}, {"qty", 1}, {"unit_price", 12.5},
                                 {"currency", "USD"}, {"reason_code", "changed_mind"}}}}});
  input.merge_patch(patch);
  return input;
}

}  // namespace

TEST_CASE("ReturnlessRefund.LowValue.CreditedWithoutAShipment") {
  ReturnsWorld w;
  auto id = w.start(kReturnlessRefund, cable(w, "RMA-R1"));
  auto row = w.row(id);
  CHECK(row.status == InstanceStatus::completed);
  CHECK(w.steps(id) == Steps{"check_value", "within_limit", "authorize", "price_credit",
                             "credit_memo", "close_rma", "completed"});
  // The full price, no restocking fee, and nothing shipped or received.
  auto memos = w.docs("erp", "credit_memo", "RMA-R1");
  REQUIRE(memos.size() == 1);
  CHECK(memos[0]["body"]["amount"].get<double>() == doctest::Approx(12.5));
  CHECK(memos[0]["body"]["restocking_fee"] == 0);
  CHECK(w.docs("carrier", "label", "RMA-R1").empty());
  CHECK(w.docs("wms", "receipt", "RMA-R1").empty());
  CHECK(w.docs("erp", "authorization", "RMA-R1")[0]["status"] == "closed");
  // Minutes of simulated latency, no waiting for parcels.
  CHECK(*row.ended_at - row.created_at < Duration(60'000));
}

TEST_CASE("ReturnlessRefund.TooValuable.NeedsAReturn") {
  ReturnsWorld w;
  auto id =
      w.start(kReturnlessRefund, w.rma("RMA-R2"));  // one DOCK-4 at 159.00, above the 40 limit
  CHECK(w.row(id).status == InstanceStatus::rejected);
  CHECK(w.steps(id) == Steps{"check_value", "within_limit", "needs_return"});
  CHECK(w.calls("erp", "authorize_return", "RMA-R2") == 0);
  auto replacement =
      w.start(kReturnlessRefund, cable(w, "RMA-R3", {{"resolution", "replacement"}}));
  CHECK(w.steps(replacement) == Steps{"check_value", "within_limit", "needs_return"});
}

TEST_CASE("ReturnlessRefund.NotEligible.Rejected") {
  ReturnsWorld w;
  auto id = w.start(kReturnlessRefund, cable(w, "RMA-R4", {{"invoice_id", "INV-OLD"}}));
  CHECK(w.row(id).status == InstanceStatus::rejected);
  CHECK(w.steps(id) == Steps{"check_value", "within_limit", "authorize", "rejected"});
  CHECK(w.docs("erp", "credit_memo", "RMA-R4").empty());
}
