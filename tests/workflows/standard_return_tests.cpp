// standard-return, one test per path, on the simulated ERP, carrier and warehouse: the final
// status, the steps taken, and what each system recorded.
#include <doctest/doctest.h>

#include "tests/support/instance_rows.hpp"
#include "tests/workflows/returns_world.hpp"

using namespace rmaflow;
using namespace rmaflow::testing;
using json = nlohmann::json;
using Steps = std::vector<std::string>;

namespace {

constexpr const char* kWorkflow = "standard-return";
constexpr Duration kDay(86'400'000);

const Steps kRestockedAndCredited = {"authorize",  "issue_label",  "await_receipt", "inspect",
                                     "disposition", "restock",     "price_credit",  "resolution",
                                     "credit_memo", "close_rma",   "completed"};

json line(const std::string& sku, int qty, double price, const std::string& reason) {
  return {{"sku", sku}, {"qty", qty}, {"unit_price", price}, {"currency", "USD"},
          {"reason_code", reason}};
}

}  // namespace

TEST_CASE("StandardReturn.Refund.RestockedAndCreditedLessRestockingFee") {
  ReturnsWorld w;
  auto id = w.start(kWorkflow, w.rma("RMA-S1", {{"lines", {line("DOCK-4", 3, 159.0, "changed_mind"),
                                                           line("KB-101", 2, 49.9, "defective")}}}));
  auto row = w.row(id);
  CHECK(row.status == InstanceStatus::completed);
  CHECK(w.steps(id) == kRestockedAndCredited);
  // The parcel took its 3 days; everything else is minutes of simulated latency.
  auto took = *row.ended_at - row.created_at;
  CHECK(took >= 3 * kDay);
  CHECK(took < 3 * kDay + Duration(3'600'000));

  // The credit: 3 x 159.00 less the 15% change-of-mind fee, plus 2 x 49.90 with no fee.
  auto memos = w.docs("erp", "credit_memo", "RMA-S1");
  REQUIRE(memos.size() == 1);
  CHECK(memos[0]["status"] == "posted");
  CHECK(memos[0]["body"]["amount"].get<double>() == doctest::Approx(405.45 + 99.80));
  CHECK(memos[0]["body"]["restocking_fee"].get<double>() == doctest::Approx(71.55));
  CHECK(memos[0]["body"]["kind"] == "refund");
  CHECK(w.effects("erp", "post_credit_memo", "RMA-S1") == 1);
  auto auths = w.docs("erp", "authorization", "RMA-S1");
  REQUIRE(auths.size() == 1);
  CHECK(auths[0]["status"] == "closed");
  CHECK(auths[0]["body"]["closure"]["outcome"] == "credited");

  auto labels = w.docs("carrier", "label", "RMA-S1");
  REQUIRE(labels.size() == 1);
  CHECK(labels[0]["status"] == "delivered");
  CHECK(w.docs("wms", "receipt", "RMA-S1").size() == 1);
  auto inspections = w.docs("wms", "inspection", "RMA-S1");
  REQUIRE(inspections.size() == 1);
  CHECK(inspections[0]["body"]["grade"] == "A");
  auto restocks = w.docs("wms", "restock", "RMA-S1");
  REQUIRE(restocks.size() == 1);
  CHECK(restocks[0]["status"] == "open");
  // The warehouse's receipt reached the instance as a signal, once.
  CHECK(w.job_outcomes("wms", "signal") == std::vector<std::string>{"done"});
  CHECK(w.context(id)["receipt"]["tracking_number"] == labels[0]["body"]["tracking_number"]);
}

TEST_CASE("StandardReturn.NotEligible.ReturnWindowClosed") {
  ReturnsWorld w;
  auto id = w.start(kWorkflow, w.rma("RMA-S2", {{"invoice_id", "INV-OLD"}}));
  CHECK(w.row(id).status == InstanceStatus::rejected);
  CHECK(w.steps(id) == Steps{"authorize", "rejected"});
  auto error = w.context(id)["error"];
  CHECK(error["code"] == "NotEligible");
  CHECK(error["message"].get<std::string>().find("return window of invoice INV-OLD closed on "
                                                 "2025-03-31") != std::string::npos);
  CHECK(w.docs("erp", "authorization", "RMA-S2").empty());
  CHECK(w.docs("carrier", "label", "RMA-S2").empty());
}

TEST_CASE("StandardReturn.NotEligible.MoreThanInvoicedOrAlreadyReturned") {
  ReturnsWorld w;
  auto first = w.start(kWorkflow, w.rma("RMA-S3", {{"lines", {line("DOCK-4", 2, 159.0, "defective")}}}));
  CHECK(w.row(first).status == InstanceStatus::completed);
  // Three were invoiced and two are returned already: two more are refused.
  auto second = w.start(kWorkflow, w.rma("RMA-S4", {{"lines", {line("DOCK-4", 2, 159.0, "defective")}}}));
  CHECK(w.row(second).status == InstanceStatus::rejected);
  CHECK(w.context(second)["error"]["message"].get<std::string>().find("1 still returnable") !=
        std::string::npos);
}

TEST_CASE("StandardReturn.LabelFailure.RecoveredByRetry") {
  Scenario s;
  s.carrier_operations = "{ create_label: { fail_first: 2 } }";
  ReturnsWorld w(s);
  auto id = w.start(kWorkflow, w.rma("RMA-S5"));
  CHECK(w.row(id).status == InstanceStatus::completed);
  CHECK(w.steps(id) == kRestockedAndCredited);
  int failed = 0, retries = 0;
  for (const auto& e : w.history(id)) {
    if (e.step != "issue_label") continue;
    failed += e.type == EventType::attempt_failed;
    retries += e.type == EventType::retry_scheduled;
  }
  CHECK(failed == 2);
  CHECK(retries == 2);
  // Three requests reached the carrier; one label exists.
  CHECK(w.calls("carrier", "create_label", "RMA-S5") == 3);
  CHECK(w.effects("carrier", "create_label", "RMA-S5") == 1);
  CHECK(w.docs("carrier", "label", "RMA-S5").size() == 1);
}

TEST_CASE("StandardReturn.NeverShipped.ExpiresAndVoidsTheLabel") {
  Scenario s;
  s.parcels["RMA-S6"] = "never";
  ReturnsWorld w(s);
  auto id = w.start(kWorkflow, w.rma("RMA-S6"));
  auto row = w.row(id);
  CHECK(row.status == InstanceStatus::expired);
  CHECK(w.steps(id) == Steps{"authorize", "issue_label", "await_receipt", "expired"});
  // The wait ran its full 30 days, then the saga voided the label and the authorization.
  CHECK(*row.ended_at - row.created_at >= 30 * kDay);
  CHECK(*row.ended_at - row.created_at < 30 * kDay + Duration(3'600'000));
  auto labels = w.docs("carrier", "label", "RMA-S6");
  REQUIRE(labels.size() == 1);
  CHECK(labels[0]["status"] == "voided");
  auto auths = w.docs("erp", "authorization", "RMA-S6");
  REQUIRE(auths.size() == 1);
  CHECK(auths[0]["status"] == "void");
  CHECK(w.docs("wms", "receipt", "RMA-S6").empty());
  CHECK(w.docs("erp", "credit_memo", "RMA-S6").empty());
  std::vector<std::string> undone;
  for (const auto& e : w.history(id))
    if (e.type == EventType::compensation_step_completed) undone.push_back(e.step);
  CHECK(undone == Steps{"issue_label", "authorize"});
}

TEST_CASE("StandardReturn.Disposition.FollowsTheInspectionGrade") {
  Scenario s;
  s.grades = {{"RMA-B", "B"}, {"RMA-C", "C"}, {"RMA-D", "D"}};
  ReturnsWorld w(s);
  struct Expect {
    std::string rma, step, document;
  };
  for (const auto& e : {Expect{"RMA-B", "refurbish", "refurbishment"},
                        Expect{"RMA-C", "return_to_vendor", "vendor_return"},
                        Expect{"RMA-D", "scrap", "scrap"}}) {
    CAPTURE(e.rma);
    auto id = w.start(kWorkflow, w.rma(e.rma));
    CHECK(w.row(id).status == InstanceStatus::completed);
    auto steps = w.steps(id);
    CHECK(steps == Steps{"authorize", "issue_label", "await_receipt", "inspect", "disposition",
                         e.step, "price_credit", "resolution", "credit_memo", "close_rma",
                         "completed"});
    auto docs = w.docs("wms", e.document, e.rma);
    REQUIRE(docs.size() == 1);
    CHECK(docs[0]["status"] == "open");
    CHECK(w.docs("wms", "restock", e.rma).empty());
    // Defective goods carry no restocking fee: the whole invoiced price is credited.
    CHECK(w.docs("erp", "credit_memo", e.rma)[0]["body"]["amount"].get<double>() ==
          doctest::Approx(159.0));
  }
}

TEST_CASE("StandardReturn.Replacement.OrderedInsteadOfACredit") {
  ReturnsWorld w;
  auto replacement = w.start(kWorkflow, w.rma("RMA-S7", {{"resolution", "replacement"}}));
  auto exchange_line = line("KB-101", 1, 49.9, "not_as_described");
  exchange_line["exchange_sku"] = "KB-101-DE";
  auto exchange = w.start(kWorkflow, w.rma("RMA-S8", {{"resolution", "exchange"},
                                                       {"lines", {exchange_line}}}));
  for (const auto& [id, rma, sku] : {std::tuple{replacement, "RMA-S7", "DOCK-4"},
                                     std::tuple{exchange, "RMA-S8", "KB-101-DE"}}) {
    CAPTURE(rma);
    CHECK(w.row(id).status == InstanceStatus::completed);
    CHECK(w.steps(id) == Steps{"authorize", "issue_label", "await_receipt", "inspect",
                               "disposition", "restock", "price_credit", "resolution",
                               "replacement_order", "close_rma", "completed"});
    auto orders = w.docs("erp", "replacement_order", rma);
    REQUIRE(orders.size() == 1);
    CHECK(orders[0]["status"] == "released");
    CHECK(orders[0]["body"]["lines"][0]["sku"] == sku);
    CHECK(w.docs("erp", "credit_memo", rma).empty());
    CHECK(w.docs("erp", "authorization", rma)[0]["body"]["closure"]["outcome"] == "replaced");
  }
}

TEST_CASE("StandardReturn.StoreCredit.PostsAStoreCreditMemo") {
  ReturnsWorld w;
  auto id = w.start(kWorkflow, w.rma("RMA-S9", {{"resolution", "store_credit"}}));
  CHECK(w.row(id).status == InstanceStatus::completed);
  CHECK(w.steps(id) == kRestockedAndCredited);
  auto memos = w.docs("erp", "credit_memo", "RMA-S9");
  REQUIRE(memos.size() == 1);
  CHECK(memos[0]["body"]["kind"] == "store_credit");
}

TEST_CASE("StandardReturn.CreditMemoRefused.SuspendsUntilAnOperatorRetries") {
  ReturnsWorld w;
  auto id = w.start(kWorkflow, w.rma("RMA-S10", {{"customer_id", "C-200"},
                                                 {"invoice_id", "INV-2"},
                                                 {"lines", {line("LAP-14", 1, 1299.0, "defective")}}}));
  auto row = w.row(id);
  CHECK(row.status == InstanceStatus::suspended);
  CHECK(row.step == "credit_memo");
  auto incident = testing::incident_of(row);
  CHECK(incident["error"]["code"] == "CustomerOnHold");
  CHECK(incident["attempts"] == 1);  // a business refusal is not retried
  CHECK(w.docs("erp", "credit_memo", "RMA-S10").empty());
  CHECK(w.docs("wms", "restock", "RMA-S10").size() == 1);  // past the pivot: nothing is undone

  // Finance releases the hold; the operator retries the step.
  w.exec("erp", "UPDATE documents SET body = json_set(body, '$.credit_hold', json('false')) "
                "WHERE type = 'customer' AND id = 'C-200'");
  OperatorAction retry;
  retry.instance_id = id;
  retry.kind = ActionKind::retry;
  retry.actor = "ops";
  retry.reason = "credit hold released by finance";
  auto acted = w.engine->act(retry);
  w.run();
  acted.get();
  CHECK(w.row(id).status == InstanceStatus::completed);
  auto memos = w.docs("erp", "credit_memo", "RMA-S10");
  REQUIRE(memos.size() == 1);
  CHECK(memos[0]["body"]["amount"].get<double>() == doctest::Approx(1299.0));
}

TEST_CASE("StandardReturn.InvalidRma.RefusedAtStartNamingTheField") {
  ReturnsWorld w;
  auto input = w.rma("RMA-S11");
  input["lines"][0]["qty"] = 0;
  StartRequest request;
  request.workflow = kWorkflow;
  request.input = input;
  auto future = w.engine->start(request);
  w.engine->run_until_idle();
  try {
    future.get();
    FAIL("an RMA returning zero units was started");
  } catch (const InvalidInput& e) {
    CHECK(e.pointer() == "/lines/0/qty");
  }
  CHECK(w.docs("erp", "authorization", "RMA-S11").empty());
}
