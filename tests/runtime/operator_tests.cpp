#include <doctest/doctest.h>

#include <algorithm>

#include "tests/runtime/harness.hpp"

using namespace rmaflow;
using namespace rmaflow::testing;
using json = nlohmann::json;

namespace {

const char* kOperatorFlow = R"(
workflow: ops
version: 1
start: label
steps:
  label:
    action: ext.create_label
    result: label
    retry: { max_attempts: 1 }
    compensate: { action: ext.void_label, with: { id: "${ .label.id }" }, retry: { max_attempts: 1 } }
    next: credit
  credit:
    action: ext.credit
    with: { amount: "${ .amount }" }
    result: memo
    retry: { max_attempts: 3, interval: 1h }
    next: receipt
  receipt:
    wait: { signal: scan, timeout: 7d }
    result: scan
    on_timeout: done
    next: done
  done: { end: completed }
)";

ActionResult act(Harness& h, const std::string& id, ActionKind kind, json args = json::object(),
                 const std::string& reason = "ticket OPS-1") {
  OperatorAction action{id, kind, "alice", reason, std::move(args), "", ""};
  auto future = h.engine->act(std::move(action));
  h.idle();
  return future.get();
}

void expect_refused(Harness& h, const std::string& id, ActionKind kind, json args = json::object(),
                    Errc code = Errc::refused) {
  auto before = h.history(id).size();
  try {
    act(h, id, kind, std::move(args));
    FAIL("action ", to_string(kind), " was not refused");
  } catch (const Error& e) {
    CHECK(e.code() == code);
    CHECK(std::string(e.what()).size() > 10);
  }
  CHECK(h.history(id).size() == before);  // a refusal changes nothing
}

json last_action(Harness& h, const std::string& id) {
  for (const auto& e : [&] { auto v = h.history(id); std::reverse(v.begin(), v.end()); return v; }())
    if (e.type == EventType::operator_action) return json::parse(e.data);
  return nullptr;
}

// An instance suspended at `credit` after three failed attempts.
std::string suspended_at_credit(Harness& h) {
  h.ext->script("create_label", {ok({{"id", "L1"}})});
  h.ext->script("credit", {business("CreditHold")});
  auto id = h.start({{"amount", 10}}).instance_id;
  REQUIRE(h.row(id).status == InstanceStatus::suspended);
  return id;
}

}  // namespace

TEST_CASE("Operator.Retry.WithPatchedInputFinishesTheStep") {
  Harness h(kOperatorFlow);
  auto id = suspended_at_credit(h);
  h.ext->script("credit", {ok({{"memo", "CM-1"}})});
  auto result = act(h, id, ActionKind::retry, {{"input", {{"amount", 12}}}});
  CHECK(result.status == InstanceStatus::running);  // as the action left it
  CHECK(h.row(id).status == InstanceStatus::waiting);
  auto calls = h.ext->calls();
  CHECK(calls.back().input == json{{"amount", 12}});
  CHECK(calls.back().attempt == 2);
  CHECK(calls.back().idempotency_key == id + ":credit:1");  // the same effect, tried again
  auto audit = last_action(h, id);
  CHECK(audit["action"] == "retry");
  CHECK(audit["actor"] == "alice");
  CHECK(audit["reason"] == "ticket OPS-1");
  CHECK(audit["before"]["status"] == "suspended");
  CHECK(audit["after"]["status"] == "running");
  CHECK(h.row(id).incidents().empty());
}

TEST_CASE("Operator.Retry.APendingRetryRunsNow") {
  Harness h(kOperatorFlow);
  h.ext->script("create_label", {ok({{"id", "L1"}})});
  h.ext->script("credit", {transient(), ok()});
  auto id = h.start({{"amount", 1}}).instance_id;
  REQUIRE(h.row(id).main().phase == Phase::backoff);  // an hour to go
  act(h, id, ActionKind::retry);
  CHECK(h.row(id).status == InstanceStatus::waiting);
  h.advance(Duration(3'600'000));  // the abandoned retry timer does nothing
  CHECK(h.ext->calls().size() == 3);
}

TEST_CASE("Operator.Skip.SuspendedTaskAndWaitingStep") {
  Harness h(kOperatorFlow);
  auto id = suspended_at_credit(h);
  act(h, id, ActionKind::skip, {{"output", {{"memo", "manual"}}}});
  CHECK(h.row(id).status == InstanceStatus::waiting);
  CHECK(h.context(id)["memo"]["memo"] == "manual");
  act(h, id, ActionKind::skip, {{"output", {{"qty", 1}}}});  // the scan never comes
  CHECK(h.row(id).status == InstanceStatus::completed);
  CHECK(h.context(id)["scan"]["qty"] == 1);
  h.advance(Duration(8 * 86'400'000LL));
  CHECK(h.row(id).status == InstanceStatus::completed);
}

TEST_CASE("Operator.Goto.MovesToAStepAndRefusesUnknownOnes") {
  Harness h(kOperatorFlow);
  auto id = suspended_at_credit(h);
  expect_refused(h, id, ActionKind::goto_step, {{"step", "nowhere"}}, Errc::not_found);
  expect_refused(h, id, ActionKind::goto_step, json::object(), Errc::invalid_argument);
  act(h, id, ActionKind::goto_step, {{"step", "receipt"}});
  auto row = h.row(id);
  CHECK(row.status == InstanceStatus::waiting);
  CHECK(row.step == "receipt");
  auto audit = last_action(h, id);
  CHECK(audit["before"] == json{{"status", "suspended"}, {"step", "credit"}});
  CHECK(audit["after"] == json{{"status", "waiting"}, {"step", "receipt"}});
}

TEST_CASE("Operator.Cancel.WithAndWithoutCompensation") {
  SUBCASE("with compensation") {
    Harness h(kOperatorFlow);
    auto id = suspended_at_credit(h);
    h.ext->script("void_label", {ok()});
    act(h, id, ActionKind::cancel, {{"compensate", true}});
    CHECK(h.row(id).status == InstanceStatus::cancelled);
    CHECK(h.ext->calls().back().operation == "void_label");
    CHECK(h.ext->calls().back().input == json{{"id", "L1"}});
  }
  SUBCASE("without") {
    Harness h(kOperatorFlow);
    auto id = suspended_at_credit(h);
    auto calls = h.ext->calls().size();
    act(h, id, ActionKind::cancel);
    CHECK(h.row(id).status == InstanceStatus::cancelled);
    CHECK(h.ext->calls().size() == calls);
    CHECK(last_action(h, id)["after"]["status"] == "cancelled");
  }
}

TEST_CASE("Operator.Patch.MergesIntoTheContextButNotInput") {
  Harness h(kOperatorFlow);
  auto id = suspended_at_credit(h);
  act(h, id, ActionKind::patch, {{"patch", {{"amount", 99}, {"note", "approved"}}}});
  CHECK(h.context(id)["amount"] == 99);
  CHECK(h.context(id)["note"] == "approved");
  CHECK(h.row(id).status == InstanceStatus::suspended);  // patching does not move it
  expect_refused(h, id, ActionKind::patch, {{"patch", {{"input", {{"amount", 1}}}}}});
  expect_refused(h, id, ActionKind::patch, {{"patch", 5}}, Errc::invalid_argument);
  auto first_input = h.ext->calls().back().input;
  h.ext->script("credit", {ok()});
  act(h, id, ActionKind::retry);
  CHECK(h.ext->calls().back().input == first_input);  // a retry keeps the rendered input
}

TEST_CASE("Operator.Resolve.ClosesTheIncidentAndEndsFailed") {
  Harness h(kOperatorFlow);
  auto id = suspended_at_credit(h);
  act(h, id, ActionKind::resolve);
  auto row = h.row(id);
  CHECK(row.status == InstanceStatus::failed);
  CHECK(last_action(h, id)["after"]["status"] == "failed");
  CHECK(row.incidents().empty());
  auto types = h.event_types(id);
  CHECK(std::find(types.begin(), types.end(), EventType::incident_resolved) != types.end());
}

TEST_CASE("Operator.Refusals.EachActionWhereItMakesNoSense") {
  Harness h(kOperatorFlow);
  h.ext->script("create_label", {ok({{"id", "L1"}})});
  h.ext->script("credit", {ok()});
  auto waiting = h.start({{"amount", 1}}).instance_id;
  REQUIRE(h.row(waiting).status == InstanceStatus::waiting);
  expect_refused(h, waiting, ActionKind::retry);    // nothing failed
  expect_refused(h, waiting, ActionKind::resolve);  // no incident
  try {
    act(h, waiting, ActionKind::retry, json::object(), "");
    FAIL("an action without a reason was accepted");
  } catch (const Error& e) {
    CHECK(e.code() == Errc::invalid_argument);
  }
  act(h, waiting, ActionKind::cancel);
  for (auto kind : {ActionKind::retry, ActionKind::skip, ActionKind::goto_step, ActionKind::cancel,
                    ActionKind::patch, ActionKind::resolve}) {
    expect_refused(h, waiting, kind, {{"step", "done"}, {"patch", json::object()}});
  }
  expect_refused(h, "01NOSUCHINSTANCE0000000000", ActionKind::cancel, json::object(), Errc::not_found);
}

TEST_CASE("Operator.Retry.FinishesAFailedCompensation") {
  Harness h(R"(
workflow: comp
version: 1
on_failure: compensate
start: label
steps:
  label:
    action: ext.create_label
    result: label
    compensate: { action: ext.void_label, with: { id: "${ .label.id }" }, retry: { max_attempts: 1 } }
    next: credit
  credit:
    action: ext.credit
    retry: { max_attempts: 1 }
    next: done
  done: { end: completed }
)");
  h.ext->script("create_label", {ok({{"id", "L9"}})});
  h.ext->script("credit", {business("Rejected")});
  h.ext->script("void_label", {business("CarrierDown")});
  auto id = h.start(json::object()).instance_id;
  REQUIRE(h.row(id).status == InstanceStatus::suspended);
  CHECK(testing::incident_of(h.row(id))["compensating"] == true);
  h.ext->script("void_label", {ok()});
  act(h, id, ActionKind::retry);
  CHECK(h.row(id).status == InstanceStatus::compensated);
  auto last = h.ext->calls().back();
  CHECK(last.operation == "void_label");
  CHECK(last.idempotency_key == id + ":label:1:compensate");
  CHECK(last.attempt == 2);
}

// A cancel that compensates while a call is out: the call's outcome is unknown, so its step is
// undone too, with the original call's key as what the undo undoes; the late answer changes
// nothing, and the history says the call was abandoned.
TEST_CASE("Operator.Cancel.Issue11.ACallStillOutIsUndoneWithItsKey") {
  Harness h(kOperatorFlow);
  auto id = h.start({{"amount", 10}}).instance_id;
  REQUIRE(h.ext->held() == 1);  // create_label is out
  auto label_call = h.ext->held_calls().front();
  h.ext->script("void_label", {ok()});
  act(h, id, ActionKind::cancel, {{"compensate", true}});
  CHECK(h.row(id).status == InstanceStatus::cancelled);
  auto calls = h.ext->calls();
  REQUIRE(!calls.empty());
  const auto& undo = calls.back();
  CHECK(undo.operation == "void_label");
  CHECK(undo.undoes == label_call.idempotency_key);
  CHECK(undo.outcome_unknown);
  // The label's answer arrives after the cancel: it is ignored.
  h.ext->answer(ok({{"id", "L9"}}));
  h.idle();
  CHECK(h.row(id).status == InstanceStatus::cancelled);
  CHECK(h.ext->calls().back().operation == "void_label");
}
