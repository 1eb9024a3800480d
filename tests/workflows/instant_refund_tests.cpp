// instant-refund, one test per path, on the simulated ERP, payment provider, carrier (with its
// scan events) and warehouse: the final status, the steps taken, and what each system recorded.
#include <doctest/doctest.h>

#include "tests/support/instance_rows.hpp"
#include "tests/workflows/returns_world.hpp"

using namespace rmaflow;
using namespace rmaflow::testing;
using json = nlohmann::json;
using Steps = std::vector<std::string>;

namespace {

constexpr const char* kInstantRefund = "instant-refund";

const Steps kUntilReceipt = {"authorize",   "price_refund",   "place_hold",   "refund",
                             "issue_label", "await_drop_off", "await_receipt"};

Steps then(Steps head, const Steps& tail) {
  head.insert(head.end(), tail.begin(), tail.end());
  return head;
}

json line(const std::string& sku, int qty, double price) {
  return {{"sku", sku}, {"qty", qty}, {"unit_price", price}, {"currency", "USD"},
          {"reason_code", "changed_mind"}};
}

// The single document of `type` the system holds for the RMA.
json only(ReturnsWorld& w, const std::string& system, const std::string& type,
          const std::string& rma) {
  auto docs = w.docs(system, type, rma);
  REQUIRE_MESSAGE(docs.size() == 1, system, " holds ", docs.size(), " ", type, " for ", rma);
  return docs[0];
}

}  // namespace

TEST_CASE("InstantRefund.Issue14.RefundedAtOnceThenRestockedAndTheHoldReleased") {
  ReturnsWorld w;
  auto id = w.start(kInstantRefund, w.rma("RMA-I1"));
  auto row = w.row(id);
  CHECK(row.status == InstanceStatus::completed);
  CHECK(w.steps(id) == then(kUntilReceipt, {"lines", "release_hold", "vendor_returns", "close_rma", "completed"}));
  CHECK(w.steps(id, "lines[L1]") == Steps{"inspect_line", "price_line", "as_described", "restock_line", "restocked"});

  // The refund was paid before anything came back: its time is the instance's start.
  auto refund = only(w, "payments", "refund", "RMA-I1");
  CHECK(refund["body"]["amount"].get<double>() == doctest::Approx(159.0));
  CHECK(refund["body"]["customer_id"] == "C-100");
  CHECK(*parse_time(refund["body"]["refunded_at"].get<std::string>()) - row.created_at < Duration(60'000));
  auto hold = only(w, "payments", "hold", "RMA-I1");
  CHECK(hold["status"] == "released");
  CHECK(hold["body"]["amount"].get<double>() == doctest::Approx(159.0));
  CHECK(w.docs("payments", "capture", "RMA-I1").empty());
  CHECK(w.docs("payments", "reversal", "RMA-I1").empty());

  // The carrier's scans drove the wait: dropped off on day 1, delivered on day 3.
  auto label = only(w, "carrier", "label", "RMA-I1");
  CHECK(label["status"] == "delivered");
  CHECK(label["body"]["scans"] == true);
  CHECK(w.context(id)["drop_off"]["tracking_number"] == label["body"]["tracking_number"]);
  auto dropped = *parse_time(w.context(id)["drop_off"]["scanned_at"].get<std::string>());
  CHECK(dropped - row.created_at >= kDay);
  CHECK(dropped - row.created_at < 2 * kDay);
  CHECK(only(w, "wms", "restock", "RMA-I1")["body"]["line_id"] == "L1");
  auto closure = only(w, "erp", "authorization", "RMA-I1")["body"]["closure"];
  CHECK(closure["outcome"] == "refunded");
  CHECK(closure["refund_id"] == refund["id"]);
  CHECK(closure["clawed_back"] == 0);
}

TEST_CASE("InstantRefund.Issue14.NoDropOffScanSoTheHoldIsCaptured") {
  Scenario s;
  s.parcels = {{"RMA-I2", "never"}};
  ReturnsWorld w(s);
  auto id = w.start(kInstantRefund, w.rma("RMA-I2"));
  auto row = w.row(id);
  CHECK(row.status == InstanceStatus::expired);
  CHECK(w.steps(id) == Steps{"authorize", "price_refund", "place_hold", "refund", "issue_label",
                             "await_drop_off", "capture_hold", "void_label", "close_kept", "kept"});
  auto took = *row.ended_at - row.created_at;
  CHECK(took >= 14 * kDay);
  CHECK(took < 14 * kDay + Duration(3'600'000));

  // The refund stands; the hold paid for it, once; the label can no longer be used.
  CHECK(only(w, "payments", "refund", "RMA-I2")["status"] == "refunded");
  auto hold = only(w, "payments", "hold", "RMA-I2");
  CHECK(hold["status"] == "captured");
  auto capture = only(w, "payments", "capture", "RMA-I2");
  CHECK(capture["body"]["hold_id"] == hold["id"]);
  CHECK(capture["body"]["amount"].get<double>() == doctest::Approx(159.0));
  CHECK(only(w, "carrier", "label", "RMA-I2")["status"] == "voided");
  CHECK(w.docs("wms", "receipt", "RMA-I2").empty());
  CHECK(only(w, "erp", "authorization", "RMA-I2")["body"]["closure"]["outcome"] == "kept_and_charged");
}

TEST_CASE("InstantRefund.Issue14.LineNotAsDescribedHasItsRefundClawedBack") {
  Scenario s;
  s.grades = {{"RMA-I3/L2", "{ grade: A, condition: not_as_described, serial: SN-OTHER }"}};
  ReturnsWorld w(s);
  auto id =
      w.start(kInstantRefund,
              w.rma("RMA-I3", {{"lines", {line("DOCK-4", 1, 159.0), line("KB-101", 2, 49.9)}}}));
  CHECK(w.row(id).status == InstanceStatus::completed);
  CHECK(w.steps(id, "lines[L1]") == Steps{"inspect_line", "price_line", "as_described", "restock_line", "restocked"});
  CHECK(w.steps(id, "lines[L2]") ==
        Steps{"inspect_line", "price_line", "as_described", "claw_back", "quarantine_line", "clawed_back"});
  auto lines = w.lines(id);
  CHECK(lines["L1"]["status"] == "restocked");
  CHECK(lines["L2"]["status"] == "not_as_described");

  // 258.80 refunded at once; the second line's 99.80 taken back, the rest stands.
  auto refund = only(w, "payments", "refund", "RMA-I3");
  CHECK(refund["body"]["amount"].get<double>() == doctest::Approx(258.8));
  auto reversal = only(w, "payments", "reversal", "RMA-I3");
  CHECK(reversal["status"] == "reversed");
  CHECK(reversal["body"]["refund_id"] == refund["id"]);
  CHECK(reversal["body"]["amount"].get<double>() == doctest::Approx(99.8));
  CHECK(reversal["body"]["reason"] == "line L2 not as described");
  CHECK(only(w, "payments", "hold", "RMA-I3")["status"] == "released");
  // The unit that is not what was sold is held; the other is back on the shelf.
  CHECK(only(w, "wms", "quarantine", "RMA-I3")["body"]["line_id"] == "L2");
  CHECK(only(w, "wms", "restock", "RMA-I3")["body"]["line_id"] == "L1");
  auto closure = only(w, "erp", "authorization", "RMA-I3")["body"]["closure"];
  CHECK(closure["outcome"] == "partially_reversed");
  CHECK(closure["clawed_back"].get<double>() == doctest::Approx(99.8));
}

TEST_CASE("InstantRefund.Issue14.ParcelLostInTransitIsClaimedFromTheCarrier") {
  Scenario s;
  s.parcels = {{"RMA-I4", "lost"}};
  ReturnsWorld w(s);
  auto id = w.start(kInstantRefund, w.rma("RMA-I4"));
  auto row = w.row(id);
  CHECK(row.status == InstanceStatus::completed);
  CHECK(w.steps(id) == then(kUntilReceipt, {"open_claim", "release_hold", "vendor_returns", "close_rma", "completed"}));
  // Dropped off on day 1, then 21 days without a delivery.
  auto took = *row.ended_at - row.created_at;
  CHECK(took >= 22 * kDay);
  CHECK(took < 23 * kDay);

  auto label = only(w, "carrier", "label", "RMA-I4");
  CHECK(label["status"] != "delivered");
  auto claim = only(w, "carrier", "claim", "RMA-I4");
  CHECK(claim["status"] == "open");
  CHECK(claim["body"]["tracking_number"] == label["body"]["tracking_number"]);
  CHECK(claim["body"]["value"].get<double>() == doctest::Approx(159.0));
  // The customer did their part: the hold is let go and the refund stands.
  CHECK(only(w, "payments", "hold", "RMA-I4")["status"] == "released");
  CHECK(w.docs("payments", "capture", "RMA-I4").empty());
  CHECK(only(w, "erp", "authorization", "RMA-I4")["body"]["closure"]["outcome"] == "lost_in_transit");
}

TEST_CASE("InstantRefund.Issue14.CardDeclinedRejectsBeforeAnyMoneyMoves") {
  ReturnsWorld w;
  auto id = w.start(kInstantRefund, w.rma("RMA-I5", {{"customer_id", "C-500"},
                                                     {"invoice_id", "INV-5"},
                                                     {"lines", {line("HP-300", 1, 129.0)}}}));
  CHECK(w.row(id).status == InstanceStatus::rejected);
  CHECK(w.steps(id) == Steps{"authorize", "price_refund", "place_hold", "card_declined"});
  CHECK(w.context(id)["error"]["code"] == "CardDeclined");
  CHECK(only(w, "erp", "authorization", "RMA-I5")["status"] == "void");
  CHECK(w.docs("payments", "hold", "RMA-I5").empty());
  CHECK(w.docs("payments", "refund", "RMA-I5").empty());
  CHECK(w.docs("carrier", "label", "RMA-I5").empty());
}

TEST_CASE("InstantRefund.Issue14.RetriedMoneyMovementsHappenOnce") {
  // Every refund and capture answer is lost once (applied, answered too late): the retries
  // with the same idempotency keys find the first result.
  Scenario s;
  s.parcels = {{"RMA-I6", "never"}};
  s.payments_operations = "{ refund: { timeout_first: 1 }, capture_hold: { timeout_first: 1 }, "
                          "place_hold: { fail_first: 2 } }";
  ReturnsWorld w(s);
  auto id = w.start(kInstantRefund, w.rma("RMA-I6"));
  CHECK(w.row(id).status == InstanceStatus::expired);
  CHECK(w.docs("payments", "hold", "RMA-I6").size() == 1);
  CHECK(w.docs("payments", "refund", "RMA-I6").size() == 1);
  CHECK(w.docs("payments", "capture", "RMA-I6").size() == 1);
  CHECK(w.calls("payments", "refund", "RMA-I6") >= 2);
  CHECK(w.effects("payments", "refund", "RMA-I6") == 1);
  CHECK(w.calls("payments", "place_hold", "RMA-I6") == 3);
  CHECK(w.effects("payments", "place_hold", "RMA-I6") == 1);
}
