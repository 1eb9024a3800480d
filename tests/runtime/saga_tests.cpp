#include <doctest/doctest.h>

#include "engine/observe/audit_report.hpp"
#include "tests/runtime/harness.hpp"

using namespace rmaflow;
using namespace rmaflow::testing;
using json = nlohmann::json;

namespace {

const char* kSaga = R"(
workflow: saga
version: 1
on_failure: compensate
defaults:
  retry: { max_attempts: 2, interval: 1s }
start: label
steps:
  label:
    action: ext.create_label
    result: label
    compensate:
      action: ext.void_label
      with: { label_id: "${ .label.id }" }
    next: restock
  restock:
    action: ext.restock
    result: restock
    compensate:
      action: ext.reverse_restock
      with: { movement: "${ .restock.id }" }
    next: notify
  notify:
    action: ext.notify
    next: reserve
  reserve:
    action: ext.reserve
    result: reservation
    compensate:
      action: ext.release
      with: { reservation: "${ .reservation.id }" }
    next: credit
  credit:
    action: ext.credit
    next: done
  done: { end: completed }
)";

std::vector<std::string> operations(const Harness& h) {
  std::vector<std::string> out;
  for (const auto& c : h.ext->calls()) out.push_back(c.operation);
  return out;
}

}  // namespace

TEST_CASE("Saga.Compensation.RunsInExactReverseOrderAfterALateFailure") {
  Harness h(kSaga);
  h.ext->script("create_label", {ok({{"id", "L1"}})});
  h.ext->script("restock", {ok({{"id", "M1"}})});
  h.ext->script("notify", {ok()});
  h.ext->script("reserve", {ok({{"id", "R1"}})});
  h.ext->script("credit", {business("CreditLimit")});
  h.ext->script("release", {ok()});
  h.ext->script("reverse_restock", {ok()});
  h.ext->script("void_label", {ok()});
  auto id = h.start(json::object()).instance_id;
  auto row = h.row(id);
  CHECK(row.status == InstanceStatus::compensated);
  CHECK(operations(h) == std::vector<std::string>{"create_label", "restock", "notify", "reserve",
                                                  "credit", "release", "reverse_restock",
                                                  "void_label"});
  auto calls = h.ext->calls();
  CHECK(calls[5].input == json{{"reservation", "R1"}});
  CHECK(calls[6].input == json{{"movement", "M1"}});
  CHECK(calls[7].input == json{{"label_id", "L1"}});
  CHECK(calls[7].idempotency_key == id + ":label:1:compensate");
  CHECK(calls[7].compensation);
  CHECK(h.context(id)["error"]["code"] == "CreditLimit");
  check_contiguous(h.history(id));
}

TEST_CASE("Saga.Compensation.StepsBeforeASucceededPivotAreNeverCompensated") {
  std::string yaml = R"(
workflow: pivoted
version: 1
start: label
steps:
  label:
    action: ext.create_label
    result: label
    compensate: { action: ext.void_label, with: { id: "${ .label.id }" } }
    next: memo
  memo:
    action: ext.post_credit_memo
    pivot: true
    next: restock
  restock:
    action: ext.restock
    result: restock
    compensate: { action: ext.reverse_restock, with: { id: "${ .restock.id }" } }
    next: expire
  expire: { end: { status: expired, compensate: true } }
)";
  Harness h(yaml);
  h.ext->script("create_label", {ok({{"id", "L1"}})});
  h.ext->script("post_credit_memo", {ok()});
  h.ext->script("restock", {ok({{"id", "M1"}})});
  h.ext->script("reverse_restock", {ok()});
  auto id = h.start(json::object()).instance_id;
  CHECK(h.row(id).status == InstanceStatus::expired);
  CHECK(operations(h) == std::vector<std::string>{"create_label", "post_credit_memo", "restock",
                                                  "reverse_restock"});
}

TEST_CASE("Saga.Compensation.AFailureAfterAPivotSuspends") {
  Harness h(R"(
workflow: forward
version: 1
on_failure: compensate
start: label
steps:
  label:
    action: ext.create_label
    compensate: { action: ext.void_label }
    next: memo
  memo:
    action: ext.post_credit_memo
    pivot: true
    next: close
  close:
    action: ext.close
    retry: { max_attempts: 1 }
    next: done
  done: { end: completed }
)");
  h.ext->script("create_label", {ok()});
  h.ext->script("post_credit_memo", {ok()});
  h.ext->script("close", {business("Locked")});
  auto id = h.start(json::object()).instance_id;
  CHECK(h.row(id).status == InstanceStatus::suspended);
  CHECK(operations(h) == std::vector<std::string>{"create_label", "post_credit_memo", "close"});
}

TEST_CASE("Saga.Compensation.IsRetriedAndAFailureForGoodSuspends") {
  Harness h(kSaga);
  h.ext->script("create_label", {ok({{"id", "L1"}})});
  h.ext->script("restock", {business("OutOfSpace")});
  h.ext->script("void_label", {transient(), business("AlreadyShipped")});
  auto id = h.start(json::object()).instance_id;
  CHECK(h.row(id).status == InstanceStatus::compensating);  // retry of void_label pending
  h.advance(Duration(1000));
  auto row = h.row(id);
  CHECK(row.status == InstanceStatus::suspended);
  CHECK(row.step == "label");
  auto incident = testing::incident_of(row);
  CHECK(incident["compensating"] == true);
  CHECK(incident["error"]["code"] == "AlreadyShipped");
  CHECK(incident["attempts"] == 2);
}

TEST_CASE("Saga.Recovery.CompensationInFlightIsInvokedAgainWithItsKey") {
  Harness h(kSaga);
  h.ext->script("create_label", {ok({{"id", "L1"}})});
  h.ext->script("restock", {ok({{"id", "M1"}})});
  h.ext->script("notify", {business("Bounced")});
  auto id = h.start(json::object()).instance_id;  // reverse_restock is held
  REQUIRE(h.ext->held() == 1);
  auto in_flight = h.ext->calls().back();
  CHECK(in_flight.operation == "reverse_restock");
  h.close();

  h.ext = std::make_shared<ScriptedAdapter>();
  h.adapters->add("ext", h.ext);
  h.ext->script("reverse_restock", {ok()});
  h.ext->script("void_label", {ok()});
  h.open();
  h.idle();
  CHECK(h.row(id).status == InstanceStatus::compensated);
  auto calls = h.ext->calls();
  REQUIRE(calls.size() == 2);
  CHECK(calls[0].idempotency_key == in_flight.idempotency_key);
  CHECK(calls[1].idempotency_key == id + ":label:1:compensate");
  check_contiguous(h.history(id));
}

TEST_CASE("Saga.Issue17.PostingsTheirReversalsAndOperatorActionsAreListedForTheAuditor") {
  // A restock and a refund, each recorded as a posting; the credit fails for good, the
  // instance compensates, and the restock's reversal is listed with the restock's reference.
  Harness h(R"(
workflow: postings
version: 1
on_failure: compensate
defaults:
  retry: { max_attempts: 1 }
start: restock
steps:
  restock:
    action: ext.restock
    result: restock
    posting:
      kind: restock
      customer: ${ .input.customer }
      reference: ${ .restock.id }
      sku: ${ .input.sku }
      quantity: 2
    compensate:
      action: ext.reverse_restock
      with: { movement: "${ .restock.id }" }
    next: note
  note:
    action: ext.note
    result: note
    posting: { kind: note, reference: "${ .note.id | ascii_downcase }" }
    next: credit
  credit:
    action: ext.credit
    result: credit
    posting: { kind: credit_memo, customer: "${ .input.customer }", amount: "${ .credit.amount }" }
    next: done
  done: { end: completed }
)");
  h.ext->script("restock", {ok({{"id", "M1"}})});
  h.ext->script("note", {ok({{"id", 7}})});  // not a string: the posting does not render
  h.ext->script("credit", {business("CreditLimit")});
  h.ext->script("reverse_restock", {ok()});
  auto id = h.start({{"customer", "C-1"}, {"sku", "DOCK-4"}}).instance_id;
  REQUIRE(h.row(id).status == InstanceStatus::compensated);

  auto listing = observe::audit_listing(h.engine->store(), {});
  REQUIRE(listing.lines.size() == 3);
  const auto& restock = listing.lines[0];
  CHECK(restock.posting);
  CHECK(restock.kind == "restock");
  CHECK_FALSE(restock.reversal);
  CHECK(restock.instance_id == id);
  CHECK(restock.step == "restock");
  CHECK(restock.customer == "C-1");
  CHECK(restock.actor == "workflow");
  CHECK(restock.details == json{{"reference", "M1"}, {"sku", "DOCK-4"}, {"quantity", 2}});
  // The step whose posting did not render succeeded all the same, and says why it has no fields.
  CHECK(listing.lines[1].kind == "note");
  CHECK(listing.lines[1].details["error"].get<std::string>().find("posting") != std::string::npos);
  // The failed credit posted nothing; the restock was undone.
  const auto& reversal = listing.lines[2];
  CHECK(reversal.kind == "restock");
  CHECK(reversal.reversal);
  CHECK(reversal.details == restock.details);
  CHECK(reversal.at >= restock.at);

  // Filters: by kind, by customer (postings only), by actor (operator actions only).
  observe::AuditQuery by_kind;
  by_kind.kind = "restock";
  CHECK(observe::audit_listing(h.engine->store(), by_kind).lines.size() == 2);
  observe::AuditQuery other_customer;
  other_customer.customer = "C-2";
  CHECK(observe::audit_listing(h.engine->store(), other_customer).lines.empty());
  observe::AuditQuery actor;
  actor.actor = "ops";
  CHECK(observe::audit_listing(h.engine->store(), actor).lines.empty());
  observe::AuditQuery later;
  later.from = reversal.at + Duration(1);
  CHECK(observe::audit_listing(h.engine->store(), later).lines.empty());
}

TEST_CASE("Saga.Issue17.TheAuditListsOperatorActionsWithActorAndReason") {
  Harness h(R"(
workflow: suspends
version: 1
defaults:
  retry: { max_attempts: 1 }
start: credit
steps:
  credit:
    action: ext.credit
    result: credit
    posting: { kind: credit_memo, reference: "${ .credit.id }" }
    next: done
  done: { end: completed }
)");
  h.ext->script("credit", {business("CustomerOnHold"), ok({{"id", "CM-1"}})});
  auto id = h.start(json::object()).instance_id;
  REQUIRE(h.row(id).status == InstanceStatus::suspended);
  h.act(id, ActionKind::retry);
  REQUIRE(h.row(id).status == InstanceStatus::completed);

  auto listing = observe::audit_listing(h.engine->store(), {});
  REQUIRE(listing.lines.size() == 2);
  CHECK_FALSE(listing.lines[0].posting);
  CHECK(listing.lines[0].kind == "retry");
  CHECK(listing.lines[0].actor == "ops");
  CHECK(listing.lines[0].details["reason"] == "test");
  CHECK(listing.lines[1].posting);
  CHECK(listing.lines[1].details == json{{"reference", "CM-1"}});

  observe::AuditQuery operators;
  operators.kind = "operator";
  auto only = observe::audit_listing(h.engine->store(), operators);
  REQUIRE(only.lines.size() == 1);
  CHECK(only.lines[0].kind == "retry");
}
