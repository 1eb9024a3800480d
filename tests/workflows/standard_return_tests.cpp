// standard-return, one test per path, on the simulated ERP, carrier and warehouse: the final
// status, the steps taken (by the RMA and by each of its lines), and what each system recorded.
#include <doctest/doctest.h>

#include <algorithm>
#include <set>

#include <SQLiteCpp/SQLiteCpp.h>

#include "tests/support/instance_rows.hpp"
#include "tests/workflows/returns_world.hpp"

using namespace rmaflow;
using namespace rmaflow::testing;
using json = nlohmann::json;
using Steps = std::vector<std::string>;

namespace {

constexpr const char* kStandardReturn = "standard-return";

const Steps kCredited = {"authorize",      "screen",     "route",        "issue_label",
                         "await_receipt",  "fee_policy", "lines",        "price_credit",
                         "resolution",     "credit_memo", "vendor_returns", "close_rma",
                         "late_parcels",   "completed"};
const Steps kLineRestocked = {"inspect_line", "serial_check", "price_line", "disposition",
                              "restock_line", "restocked"};

json line(const std::string& sku, int qty, double price, const std::string& reason) {
  return {{"sku", sku}, {"qty", qty}, {"unit_price", price}, {"currency", "USD"},
          {"reason_code", reason}};
}

}  // namespace

TEST_CASE("StandardReturn.Refund.RestockedAndCreditedLessRestockingFee") {
  ReturnsWorld w;
  auto id = w.start(kStandardReturn, w.rma("RMA-S1", {{"lines",
                                                       {line("DOCK-4", 3, 159.0, "changed_mind"),
                                                        line("KB-101", 2, 49.9, "defective")}}}));
  auto row = w.row(id);
  CHECK(row.status == InstanceStatus::completed);
  CHECK(row.version == 3);
  CHECK(w.steps(id) == kCredited);
  CHECK(w.steps(id, "lines[L1]") == kLineRestocked);
  CHECK(w.steps(id, "lines[L2]") == kLineRestocked);
  // The parcel took its 3 days; everything else is minutes of simulated latency.
  auto took = *row.ended_at - row.created_at;
  CHECK(took >= 3 * kDay);
  CHECK(took < 3 * kDay + Duration(3'600'000));

  // The credit: 3 x 159.00 less the 15% change-of-mind fee, plus 2 x 49.90 with no fee, line
  // by line.
  auto memos = w.docs("erp", "credit_memo", "RMA-S1");
  REQUIRE(memos.size() == 1);
  CHECK(memos[0]["status"] == "posted");
  CHECK(memos[0]["body"]["amount"].get<double>() == doctest::Approx(405.45 + 99.80));
  CHECK(memos[0]["body"]["restocking_fee"].get<double>() == doctest::Approx(71.55));
  CHECK(memos[0]["body"]["kind"] == "refund");
  const auto& memo_lines = memos[0]["body"]["lines"];
  REQUIRE(memo_lines.size() == 2);
  CHECK(memo_lines[0]["line_id"] == "L1");
  CHECK(memo_lines[0]["disposition"] == "restocked");
  CHECK(memo_lines[0]["amount"].get<double>() == doctest::Approx(405.45));
  CHECK(memo_lines[0]["restocking_fee"].get<double>() == doctest::Approx(71.55));
  CHECK(memo_lines[1]["line_id"] == "L2");
  CHECK(memo_lines[1]["amount"].get<double>() == doctest::Approx(99.80));
  CHECK(memo_lines[1]["restocking_fee"].get<double>() == 0);
  CHECK(w.effects("erp", "post_credit_memo", "RMA-S1") == 1);
  auto auths = w.docs("erp", "authorization", "RMA-S1");
  REQUIRE(auths.size() == 1);
  CHECK(auths[0]["status"] == "closed");
  CHECK(auths[0]["body"]["closure"]["outcome"] == "credited");

  auto labels = w.docs("carrier", "label", "RMA-S1");
  REQUIRE(labels.size() == 1);
  CHECK(labels[0]["status"] == "delivered");
  CHECK(w.docs("wms", "receipt", "RMA-S1").size() == 1);
  // Each line inspected and restocked on its own.
  auto inspections = w.docs("wms", "inspection", "RMA-S1");
  REQUIRE(inspections.size() == 2);
  for (const auto& i : inspections) CHECK(i["body"]["grade"] == "A");
  auto restocks = w.docs("wms", "restock", "RMA-S1");
  REQUIRE(restocks.size() == 2);
  std::set<std::string> restocked;
  for (const auto& r : restocks) {
    CHECK(r["status"] == "open");
    restocked.insert(r["body"]["line_id"].get<std::string>());
  }
  CHECK(restocked == std::set<std::string>{"L1", "L2"});
  CHECK(w.effects("wms", "restock_line", "RMA-S1") == 2);
  // The warehouse's receipt reached the instance as a signal, once.
  CHECK(w.job_outcomes("wms", "signal") == std::vector<std::string>{"done"});
  CHECK(w.context(id)["receipt"]["tracking_number"] == labels[0]["body"]["tracking_number"]);
}

TEST_CASE("StandardReturn.Issue13.MixedRmaDisposedAndCreditedPerLine") {
  // Four lines of one RMA, graded A, B, C and D by the warehouse.
  Scenario s;
  s.grades = {{"RMA-MX/L1", "A"}, {"RMA-MX/L2", "B"}, {"RMA-MX/L3", "C"}, {"RMA-MX/L4", "D"}};
  ReturnsWorld w(s);
  auto id = w.start(kStandardReturn,
                    w.rma("RMA-MX", {{"lines",
                                      {line("DOCK-4", 2, 159.0, "changed_mind"),
                                       line("KB-101", 1, 49.9, "ordered_by_mistake"),
                                       line("CBL-2", 1, 12.5, "defective"),
                                       line("DOCK-4", 1, 159.0, "damaged_in_transit")}}}));
  CHECK(w.row(id).status == InstanceStatus::completed);
  CHECK(w.steps(id) == kCredited);

  // Each line's path and end: the disposition its grade calls for.
  struct Expect {
    std::string line, step, status, document;
  };
  const std::vector<Expect> expected = {{"L1", "restock_line", "restocked", "restock"},
                                        {"L2", "refurbish_line", "refurbished", "refurbishment"},
                                        {"L3", "return_to_vendor_line", "returned_to_vendor", "vendor_return"},
                                        {"L4", "scrap_line", "scrapped", "scrap"}};
  auto lines = w.lines(id);
  REQUIRE(lines.size() == 4);
  for (const auto& e : expected) {
    CAPTURE(e.line);
    CHECK(w.steps(id, "lines[" + e.line + "]") ==
          Steps{"inspect_line", "serial_check", "price_line", "disposition", e.step, e.status == "returned_to_vendor" ? "to_vendor" : e.status});
    CHECK(lines[e.line]["status"] == e.status);
    int found = 0;
    for (const auto& doc : w.docs("wms", e.document, "RMA-MX")) {
      CHECK(doc["body"]["line_id"] == e.line);
      CHECK(doc["status"] == "open");
      ++found;
    }
    CHECK(found == 1);
  }
  // The grades the warehouse recorded, line by line.
  std::map<std::string, std::string> grades;
  for (const auto& i : w.docs("wms", "inspection", "RMA-MX"))
    grades[i["body"]["line_id"]] = i["body"]["grade"];
  CHECK(grades == std::map<std::string, std::string>{{"L1", "A"}, {"L2", "B"}, {"L3", "C"}, {"L4", "D"}});

  // The credit adds up per line, less each line's fee: 15% on the change of mind, 10% on the
  // order by mistake, none on the defect and the transit damage.
  auto memos = w.docs("erp", "credit_memo", "RMA-MX");
  REQUIRE(memos.size() == 1);
  const auto& body = memos[0]["body"];
  const double l1 = 318.0 - 47.70, l2 = 49.90 - 4.99, l3 = 12.50, l4 = 159.0;
  CHECK(body["amount"].get<double>() == doctest::Approx(l1 + l2 + l3 + l4));
  CHECK(body["restocking_fee"].get<double>() == doctest::Approx(47.70 + 4.99));
  REQUIRE(body["lines"].size() == 4);
  const double amounts[] = {l1, l2, l3, l4};
  for (std::size_t i = 0; i < 4; ++i) {
    CAPTURE(i);
    CHECK(body["lines"][i]["line_id"] == expected[i].line);
    CHECK(body["lines"][i]["disposition"] == expected[i].status);
    CHECK(body["lines"][i]["amount"].get<double>() == doctest::Approx(amounts[i]));
  }
  // The ERP closed the RMA with each line's disposition.
  auto closure = w.docs("erp", "authorization", "RMA-MX")[0]["body"]["closure"];
  REQUIRE(closure["lines"].size() == 4);
  CHECK(closure["lines"][3] == json({{"line_id", "L4"}, {"disposition", "scrapped"}, {"grade", "D"}}));
}

TEST_CASE("StandardReturn.Issue13.OneLineSuspendsAloneWhileTheOthersAreDisposed") {
  // The warehouse cannot refurbish (its work-order system is down for good): the B line
  // suspends for an operator; the A line is restocked meanwhile; the RMA is credited only once
  // the operator has repaired the line.
  Scenario s;
  s.grades = {{"RMA-SUS/L2", "B"}};
  s.wms_operations = "{ refurbish_line: { fail_first: 5 } }";
  ReturnsWorld w(s);
  auto id = w.start(kStandardReturn, w.rma("RMA-SUS", {{"lines",
                                                        {line("DOCK-4", 1, 159.0, "defective"),
                                                         line("KB-101", 1, 49.9, "defective")}}}));
  auto row = w.row(id);
  CHECK(row.status == InstanceStatus::suspended);
  CHECK(row.step == "lines");
  const Cursor* stuck = row.cursor("lines[L2]");
  REQUIRE(stuck != nullptr);
  REQUIRE(stuck->incident.has_value());
  CHECK(stuck->step == "refurbish_line");
  CHECK(stuck->incident->error.code == "Transient");
  CHECK(w.docs("wms", "restock", "RMA-SUS").size() == 1);  // L1 went on
  CHECK(w.docs("erp", "credit_memo", "RMA-SUS").empty());

  w.retry(id, "work-order system is back", "lines[L2]");
  CHECK(w.row(id).status == InstanceStatus::completed);
  CHECK(w.lines(id)["L2"]["status"] == "refurbished");
  auto memos = w.docs("erp", "credit_memo", "RMA-SUS");
  REQUIRE(memos.size() == 1);
  CHECK(memos[0]["body"]["amount"].get<double>() == doctest::Approx(159.0 + 49.9));
}

TEST_CASE("StandardReturn.NotEligible.ReturnWindowClosed") {
  ReturnsWorld w;
  auto id = w.start(kStandardReturn, w.rma("RMA-S2", {{"invoice_id", "INV-OLD"}}));
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
  auto first = w.start(kStandardReturn,
                       w.rma("RMA-S3", {{"lines", {line("DOCK-4", 2, 159.0, "defective")}}}));
  CHECK(w.row(first).status == InstanceStatus::completed);
  // Three were invoiced and two are returned already: two more are refused.
  auto second = w.start(kStandardReturn,
                        w.rma("RMA-S4", {{"lines", {line("DOCK-4", 2, 159.0, "defective")}}}));
  CHECK(w.row(second).status == InstanceStatus::rejected);
  CHECK(w.context(second)["error"]["message"].get<std::string>().find("1 still returnable") !=
        std::string::npos);
}

TEST_CASE("StandardReturn.LabelFailure.RecoveredByRetry") {
  Scenario s;
  s.carrier_operations = "{ create_label: { fail_first: 2 } }";
  ReturnsWorld w(s);
  auto id = w.start(kStandardReturn, w.rma("RMA-S5"));
  CHECK(w.row(id).status == InstanceStatus::completed);
  CHECK(w.steps(id) == kCredited);
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
  auto id = w.start(kStandardReturn, w.rma("RMA-S6"));
  auto row = w.row(id);
  CHECK(row.status == InstanceStatus::expired);
  CHECK(w.steps(id) == Steps{"authorize", "screen", "route", "issue_label", "await_receipt", "expired"});
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
  // RMA-C last: its line's vendor return runs on for weeks, past the invoice's return window.
  for (const auto& e : {Expect{"RMA-B", "refurbish_line", "refurbishment"},
                        Expect{"RMA-D", "scrap_line", "scrap"},
                        Expect{"RMA-C", "return_to_vendor_line", "vendor_return"}}) {
    CAPTURE(e.rma);
    auto id = w.start(kStandardReturn, w.rma(e.rma));
    REQUIRE(w.row(id).status == InstanceStatus::completed);
    CHECK(w.steps(id) == kCredited);
    CHECK(w.steps(id, "lines[L1]")[4] == e.step);
    auto docs = w.docs("wms", e.document, e.rma);
    REQUIRE(docs.size() == 1);
    CHECK(docs[0]["status"] == "open");
    CHECK(docs[0]["body"]["line_id"] == "L1");
    CHECK(w.docs("wms", "restock", e.rma).empty());
    // Defective goods carry no restocking fee: the whole invoiced price is credited.
    CHECK(w.docs("erp", "credit_memo", e.rma)[0]["body"]["amount"].get<double>() ==
          doctest::Approx(159.0));
  }
}

TEST_CASE("StandardReturn.Replacement.OrderedInsteadOfACredit") {
  ReturnsWorld w;
  auto replacement = w.start(kStandardReturn, w.rma("RMA-S7", {{"resolution", "replacement"}}));
  auto exchange_line = line("KB-101", 1, 49.9, "not_as_described");
  exchange_line["exchange_sku"] = "KB-101-DE";
  auto exchange = w.start(
      kStandardReturn, w.rma("RMA-S8", {{"resolution", "exchange"}, {"lines", {exchange_line}}}));
  for (const auto& [id, rma, sku] : {std::tuple{replacement, "RMA-S7", "DOCK-4"},
                                     std::tuple{exchange, "RMA-S8", "KB-101-DE"}}) {
    CAPTURE(rma);
    CHECK(w.row(id).status == InstanceStatus::completed);
    CHECK(w.steps(id) == Steps{"authorize", "screen", "route", "issue_label", "await_receipt",
                               "fee_policy", "lines", "price_credit", "resolution",
                               "replacement_order", "vendor_returns", "close_rma", "late_parcels",
                               "completed"});
    CHECK(w.steps(id, "lines[L1]") == kLineRestocked);
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
  auto id = w.start(kStandardReturn, w.rma("RMA-S9", {{"resolution", "store_credit"}}));
  CHECK(w.row(id).status == InstanceStatus::completed);
  CHECK(w.steps(id) == kCredited);
  auto memos = w.docs("erp", "credit_memo", "RMA-S9");
  REQUIRE(memos.size() == 1);
  CHECK(memos[0]["body"]["kind"] == "store_credit");
}

TEST_CASE("StandardReturn.CreditMemoRefused.SuspendsUntilAnOperatorRetries") {
  ReturnsWorld w;
  auto id = w.start(kStandardReturn,
                    w.rma("RMA-S10", {{"customer_id", "C-200"},
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
  w.retry(id, "credit hold released by finance");
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
  request.workflow = kStandardReturn;
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

TEST_CASE("StandardReturn.Issue14.LineGradedForTheVendorIsCreditedByIt") {
  // L1 graded C goes back to the vendor in a vendor-return child, after the customer was
  // credited: the vendor approves a day later, the unit leaves, and 25 days on the vendor's
  // credit note is booked; only then is the RMA closed.
  Scenario s;
  s.grades = {{"RMA-V1/L1", "C"}};
  ReturnsWorld w(s);
  auto id = w.start(kStandardReturn, w.rma("RMA-V1", {{"lines",
                                                       {line("DOCK-4", 1, 159.0, "defective"),
                                                        line("KB-101", 1, 49.9, "defective")}}}));
  auto row = w.row(id);
  CHECK(row.status == InstanceStatus::completed);
  CHECK(w.steps(id) == kCredited);
  CHECK(w.steps(id, "vendor_returns[L1]") ==
        Steps{"vendor_return", "vendor_outcome", "vendor_credited"});
  auto vendor_returns = w.lines(id, "vendor_returns");
  REQUIRE(vendor_returns.size() == 1);  // only the line graded C
  CHECK(vendor_returns["L1"]["status"] == "vendor_credited");

  // The customer's credit came on day 3, when the parcel arrived; the vendor's weeks later.
  auto memo = w.docs("erp", "credit_memo", "RMA-V1");
  REQUIRE(memo.size() == 1);
  CHECK(memo[0]["body"]["amount"].get<double>() == doctest::Approx(159.0 + 49.9));
  auto credited = w.docs("erp", "vendor_credit", "RMA-V1");
  REQUIRE(credited.size() == 1);
  // The vendor credits 80% of the unit's cost.
  CHECK(credited[0]["body"]["amount"].get<double>() == doctest::Approx(127.2));
  CHECK(credited[0]["body"]["line_id"] == "L1");
  auto vendor_rma = w.docs("vendor", "vendor_rma", "RMA-V1");
  REQUIRE(vendor_rma.size() == 1);
  CHECK(vendor_rma[0]["status"] == "credited");
  CHECK(credited[0]["body"]["credit_note_id"] == vendor_rma[0]["body"]["credit_note_id"]);
  auto shipments = w.docs("wms", "vendor_shipment", "RMA-V1");
  REQUIRE(shipments.size() == 1);
  CHECK(shipments[0]["body"]["reference"] == vendor_rma[0]["id"]);
  auto took = *row.ended_at - row.created_at;
  CHECK(took >= 29 * kDay);  // 3 to the warehouse, 1 to decide, 4 to the vendor, 21 to credit
  CHECK(took < 30 * kDay);
  auto closure = w.docs("erp", "authorization", "RMA-V1")[0]["body"]["closure"];
  REQUIRE(closure["vendor_returns"].size() == 1);
  CHECK(closure["vendor_returns"][0]["outcome"] == "credited");
  CHECK(closure["vendor_returns"][0]["line_id"] == "L1");
}

TEST_CASE("StandardReturn.Issue14.VendorRefusalScrapsTheLineInstead") {
  Scenario s;
  s.grades = {{"RMA-VR", "C"}};
  ReturnsWorld w(s);  // the vendor refuses RMA-VR (returns_world.hpp)
  auto id = w.start(kStandardReturn, w.rma("RMA-VR"));
  CHECK(w.row(id).status == InstanceStatus::completed);
  CHECK(w.lines(id, "vendor_returns")["L1"]["status"] == "scrapped_after_refusal");
  // The hold for the vendor is superseded by the scrap; nothing shipped, nothing credited.
  auto held = w.docs("wms", "vendor_return", "RMA-VR");
  REQUIRE(held.size() == 1);
  CHECK(held[0]["status"] == "superseded");
  auto scraps = w.docs("wms", "scrap", "RMA-VR");
  REQUIRE(scraps.size() == 1);
  CHECK(scraps[0]["body"]["replaces"] == held[0]["id"]);
  CHECK(w.docs("wms", "vendor_shipment", "RMA-VR").empty());
  CHECK(w.docs("erp", "vendor_credit", "RMA-VR").empty());
  CHECK(w.docs("vendor", "vendor_rma", "RMA-VR")[0]["status"] == "refused");
}


TEST_CASE("StandardReturn.Issue17.TheAuditListsEachLinesStockMovementAndTheCreditMemo") {
  // The auditor's listing (rmaflow audit, the real binary) agrees with what the warehouse and
  // the ERP recorded: one stock movement per line with the warehouse's reference, one credit
  // memo with the ERP's number and amount.
  Scenario s;
  s.grades = {{"RMA-AU/L1", "A"}, {"RMA-AU/L2", "D"}};
  ReturnsWorld w(s);
  auto id = w.start(kStandardReturn, w.rma("RMA-AU", {{"lines",
                                                       {line("DOCK-4", 2, 159.0, "changed_mind"),
                                                        line("KB-101", 1, 49.9, "defective")}}}));
  REQUIRE(w.row(id).status == InstanceStatus::completed);
  auto restock = w.docs("wms", "restock", "RMA-AU");
  auto scrap = w.docs("wms", "scrap", "RMA-AU");
  auto memos = w.docs("erp", "credit_memo", "RMA-AU");
  REQUIRE(restock.size() == 1);
  REQUIRE(scrap.size() == 1);
  REQUIRE(memos.size() == 1);

  auto audit = run_process({rmaflow_binary(), "audit", "--db", w.dir.file("returns.db"),
                            "--customer", "C-100", "--format", "json"});
  INFO(audit.out, audit.err);
  REQUIRE(audit.exit_code == 0);
  auto lines = json::parse(audit.out);
  std::map<std::string, json> by_kind;
  for (const auto& l : lines) {
    CHECK(l["type"] == "posting");
    CHECK(l["instance"] == id);
    CHECK(l["business_key"] == "RMA-AU");
    CHECK_FALSE(by_kind.contains(l["kind"].get<std::string>()));  // each once
    by_kind[l["kind"].get<std::string>()] = l;
  }
  REQUIRE(by_kind.size() == 3);
  CHECK(by_kind["restock"]["branch"] == "lines[L1]");
  CHECK(by_kind["restock"]["details"] ==
        json({{"reference", restock[0]["body"]["restock_id"]}, {"sku", "DOCK-4"}, {"quantity", 2}}));
  CHECK(by_kind["scrap"]["branch"] == "lines[L2]");
  CHECK(by_kind["scrap"]["details"]["reference"] == scrap[0]["body"]["scrap_id"]);
  const auto& memo = by_kind["credit_memo"]["details"];
  SQLite::Database erp(w.dir.file("sim/erp.db"), SQLite::OPEN_READONLY);
  auto memo_id = erp.execAndGet("SELECT id FROM documents WHERE type = 'credit_memo' AND rma_id = 'RMA-AU'")
                     .getString();
  CHECK(memo["reference"] == memo_id);
  CHECK(memo["amount"].get<double>() == doctest::Approx(memos[0]["body"]["amount"].get<double>()));
  CHECK(memo["currency"] == "USD");

  // Another customer's postings are not this one's; CSV for a spreadsheet, a header and a row each.
  auto other = run_process({rmaflow_binary(), "audit", "--db", w.dir.file("returns.db"),
                            "--customer", "C-999", "--format", "json"});
  REQUIRE(other.exit_code == 0);
  CHECK(json::parse(other.out).empty());
  auto csv = run_process({rmaflow_binary(), "audit", "--db", w.dir.file("returns.db"),
                          "--kind", "credit_memo", "--format", "csv"});
  REQUIRE(csv.exit_code == 0);
  CHECK(csv.out.rfind("at,type,kind,reversal,instance,", 0) == 0);
  CHECK(std::count(csv.out.begin(), csv.out.end(), '\n') == 2);
  CHECK(csv.out.find(memo_id) != std::string::npos);

  auto both = run_process({rmaflow_binary(), "audit", "--db", w.dir.file("returns.db"),
                           "--customer", "C-100", "--actor", "ops"});
  CHECK(both.exit_code != 0);
  CHECK(both.err.find("--actor") != std::string::npos);
}

TEST_CASE("StandardReturn.Issue14.ParcelsPerLineCreditWhatArrivedAndCloseTheRest") {
  // Three lines, three parcels, followed by the carrier's real scans: L1 arrives after 3 days,
  // L2's label is never used, L3 is handed in and lost on the way.
  Scenario s;
  s.parcels = {{"RMA-PL/L2", "never"}, {"RMA-PL/L3", "lost"}};
  ReturnsWorld w(s);
  auto id = w.start(kStandardReturn, w.rma("RMA-PL", {{"parcels", "per_line"},
                                                      {"lines",
                                                       {line("DOCK-4", 1, 159.0, "defective"),
                                                        line("KB-101", 1, 49.9, "defective"),
                                                        line("CBL-2", 1, 12.5, "defective")}}}));
  auto row = w.row(id);
  CHECK(row.status == InstanceStatus::completed);
  CHECK(w.steps(id, "parcels[L1]") ==
        Steps{"line_label", "await_drop_off", "await_transit", "await_delivery", "received"});
  CHECK(w.steps(id, "parcels[L2]") ==
        Steps{"line_label", "await_drop_off", "void_unused_label", "not_shipped"});
  CHECK(w.steps(id, "parcels[L3]") == Steps{"line_label", "await_drop_off", "await_transit",
                                            "await_delivery", "claim_parcel", "claimed"});
  CHECK(w.lines(id, "lines").size() == 1);
  CHECK(w.lines(id)["L1"]["status"] == "restocked");

  // One label per line; the unused one voided, the lost one claimed at its value.
  auto labels = w.docs("carrier", "label", "RMA-PL");
  REQUIRE(labels.size() == 3);
  std::map<std::string, std::string> label_status;
  for (const auto& l : labels) label_status[l["body"]["line_id"].get<std::string>()] = l["status"];
  CHECK(label_status == std::map<std::string, std::string>{
                            {"L1", "delivered"}, {"L2", "voided"}, {"L3", "in_transit"}});
  auto claims = w.docs("carrier", "claim", "RMA-PL");
  REQUIRE(claims.size() == 1);
  CHECK(claims[0]["body"]["value"].get<double>() == doctest::Approx(12.5));

  // The credit covers the line that arrived, once; the RMA closes with every line's fate.
  auto memos = w.docs("erp", "credit_memo", "RMA-PL");
  REQUIRE(memos.size() == 1);
  CHECK(memos[0]["body"]["amount"].get<double>() == doctest::Approx(159.0));
  auto auths = w.docs("erp", "authorization", "RMA-PL");
  REQUIRE(auths.size() == 1);
  CHECK(auths[0]["status"] == "closed");
  std::map<std::string, std::string> closed;
  for (const auto& l : auths[0]["body"]["closure"]["lines"]) closed[l["line_id"]] = l["disposition"];
  CHECK(closed == std::map<std::string, std::string>{
                      {"L1", "restocked"}, {"L2", "not_shipped"}, {"L3", "claimed"}});
  // It waited 30 days for a late parcel after the deadline (the lost one's claim on day 23).
  CHECK(*row.ended_at - row.created_at >= 50 * kDay);
}

TEST_CASE("StandardReturn.Issue14.SerialMismatchIsReviewedAndTheDeniedLineQuarantined") {
  // Another unit is in L2's box: the risk desk reviews the line (a return-review child),
  // denies it, and the line is quarantined and credited nothing; L1 is credited as usual.
  Scenario s;
  s.grades = {{"RMA-SM/L2", "{ grade: A, serial: SN-OTHER }"}};
  s.erp_reviews = "{ RMA-SM/L2: deny }";
  ReturnsWorld w(s);
  auto sold = line("KB-101", 1, 49.9, "defective");
  sold["serial"] = "SN-SOLD";
  auto id = w.start(kStandardReturn,
                    w.rma("RMA-SM", {{"lines", {line("DOCK-4", 1, 159.0, "defective"), sold}}}));
  CHECK(w.row(id).status == InstanceStatus::completed);
  CHECK(w.steps(id, "lines[L2]") == Steps{"inspect_line", "serial_check", "review_line",
                                          "line_review_outcome", "quarantine_line", "quarantined"});
  CHECK(w.steps(id, "lines[L1]") == kLineRestocked);
  auto cases = w.docs("erp", "review_case", "RMA-SM");
  REQUIRE(cases.size() == 1);
  CHECK(cases[0]["status"] == "decided");
  CHECK(cases[0]["body"]["subject"] == "L2");
  auto quarantined = w.docs("wms", "quarantine", "RMA-SM");
  REQUIRE(quarantined.size() == 1);
  CHECK(quarantined[0]["body"]["line_id"] == "L2");
  auto memos = w.docs("erp", "credit_memo", "RMA-SM");
  REQUIRE(memos.size() == 1);
  CHECK(memos[0]["body"]["amount"].get<double>() == doctest::Approx(159.0));
  const auto& memo_lines = memos[0]["body"]["lines"];
  REQUIRE(memo_lines.size() == 2);
  CHECK(memo_lines[1]["disposition"] == "quarantined");
  CHECK(memo_lines[1]["amount"].get<double>() == 0);
}
