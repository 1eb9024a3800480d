// Issue 16: redrive. A finished instance that failed, was compensated, rejected or cancelled
// reopens at a top-level step under the same id: the steps before it are not called again,
// what runs again gets a new idempotency key, a fan-out step keeps its completed branches, and
// one audited operator_action records the previous end.
#include <doctest/doctest.h>

#include <algorithm>

#include "tests/runtime/harness.hpp"

using namespace rmaflow;
using namespace rmaflow::testing;
using json = nlohmann::json;

namespace {

const char* kRedriveFlow = R"(
workflow: redriven
version: 1
on_failure: suspend
start: policy
steps:
  policy: { set: { limit: 100 }, next: label }
  label:
    action: ext.create_label
    result: label
    retry: { max_attempts: 1 }
    compensate: { action: ext.void_label, with: { id: "${ .label.id }" }, retry: { max_attempts: 1 } }
    next: check
  check:
    switch:
      - if: .input.amount > .limit
        next: rejected
    default: credit
  credit:
    action: ext.credit
    result: memo
    retry: { max_attempts: 1 }
    next: done
  done: { end: completed }
  rejected: { end: rejected }
)";

std::string compensating() {
  std::string yaml = kRedriveFlow;
  yaml.replace(yaml.find("on_failure: suspend"), 19, "on_failure: compensate");
  return yaml;
}

std::vector<Invocation> calls_of(Harness& h, const std::string& operation) {
  std::vector<Invocation> out;
  for (const auto& c : h.ext->calls())
    if (c.operation == operation) out.push_back(c);
  return out;
}

std::vector<EventRow> events_of(Harness& h, const std::string& id, EventType type) {
  std::vector<EventRow> out;
  for (const auto& e : h.history(id))
    if (e.type == type) out.push_back(e);
  return out;
}

json data_of(const EventRow& e) {
  return json::parse(e.data);
}

// An instance that failed at credit: its incident resolved by an operator.
std::string failed_at_credit(Harness& h) {
  h.ext->script("create_label", {ok({{"id", "L1"}})});
  h.ext->script("credit", {business("CreditHold")});
  auto id = h.start({{"amount", 40}}).instance_id;
  REQUIRE(h.row(id).status == InstanceStatus::suspended);
  h.act(id, ActionKind::resolve);
  REQUIRE(h.row(id).status == InstanceStatus::failed);
  return id;
}

}  // namespace

TEST_CASE("Redrive.Issue16.AFailedInstanceRunsAgainFromTheStepThatFailedWithANewKey") {
  Harness h(kRedriveFlow);
  auto id = failed_at_credit(h);
  h.ext->script("credit", {ok({{"memo", "CM-1"}})});

  auto result = h.act(id, ActionKind::redrive);
  CHECK(result.status == InstanceStatus::running);  // as the redrive left it
  auto row = h.row(id);
  CHECK(row.status == InstanceStatus::completed);
  CHECK(h.context(id)["memo"] == json{{"memo", "CM-1"}});
  CHECK(h.context(id)["label"] == json{{"id", "L1"}});  // kept from the run before

  CHECK(calls_of(h, "create_label").size() == 1);  // not called again
  auto credits = calls_of(h, "credit");
  REQUIRE(credits.size() == 2);
  CHECK(credits[0].idempotency_key == id + ":credit:1");
  CHECK(credits[1].idempotency_key == id + ":credit:2");

  auto actions = events_of(h, id, EventType::operator_action);
  REQUIRE(actions.size() == 2);  // resolve, redrive
  auto audit = data_of(actions[1]);
  CHECK(audit["action"] == "redrive");
  CHECK(audit["args"]["step"] == "credit");
  CHECK(audit["before"]["status"] == "failed");
  CHECK(audit["before"]["step"] == "credit");
  CHECK(audit["before"]["ended_at"].is_string());
  CHECK(audit["after"]["status"] == "running");
  CHECK(audit["after"]["step"] == "credit");
  CHECK(events_of(h, id, EventType::instance_ended).size() == 2);
  check_contiguous(h.history(id));
}

TEST_CASE("Redrive.Issue16.AfterACompensationItReopensAtTheFirstStepItUndid") {
  Harness h(compensating());
  h.ext->script("create_label", {ok({{"id", "L1"}})});
  h.ext->script("credit", {business("CreditHold")});
  h.ext->script("void_label", {ok()});
  auto id = h.start({{"amount", 40}}).instance_id;
  REQUIRE(h.row(id).status == InstanceStatus::compensated);
  REQUIRE(calls_of(h, "void_label").size() == 1);

  // The label was voided: running on from credit would credit a return with no label.
  try {
    h.act(id, ActionKind::redrive, {{"step", "credit"}});
    FAIL("a redrive after the undone step was accepted");
  } catch (const Error& e) {
    CHECK(e.code() == Errc::refused);
    CHECK(std::string(e.what()).find("undid step label") != std::string::npos);
  }
  CHECK(h.row(id).status == InstanceStatus::compensated);  // a refusal changes nothing

  h.ext->script("create_label", {ok({{"id", "L2"}})});
  h.ext->script("credit", {ok({{"memo", "CM-1"}})});
  h.act(id, ActionKind::redrive);
  CHECK(h.row(id).status == InstanceStatus::completed);
  auto labels = calls_of(h, "create_label");
  REQUIRE(labels.size() == 2);
  CHECK(labels[1].idempotency_key == id + ":label:2");
  CHECK(h.context(id)["label"] == json{{"id", "L2"}});
  check_contiguous(h.history(id));
}

TEST_CASE("Redrive.Issue16.ARejectedInstanceRunsItsDecisionAgainWithAPatchedContext") {
  Harness h(kRedriveFlow);
  h.ext->script("create_label", {ok({{"id", "L1"}})});
  auto id = h.start({{"amount", 400}}).instance_id;
  REQUIRE(h.row(id).status == InstanceStatus::rejected);

  h.ext->script("credit", {ok({{"memo", "CM-9"}})});
  h.act(id, ActionKind::redrive, {{"patch", {{"limit", 500}}}});
  CHECK(h.row(id).status == InstanceStatus::completed);
  CHECK(h.context(id)["limit"] == 500);
  auto audit = data_of(events_of(h, id, EventType::operator_action).back());
  CHECK(audit["args"]["step"] == "check");  // the decision that led to the end step
  CHECK(audit["args"]["patch"] == json{{"limit", 500}});
  CHECK(audit["before"]["status"] == "rejected");
}

TEST_CASE("Redrive.Issue16.ARedriveSurvivesAReopenAndRedrivesAgainFromItsOwnRun") {
  Harness h(kRedriveFlow);
  auto id = failed_at_credit(h);
  h.ext->script("credit", {business("CreditHold")});
  h.act(id, ActionKind::redrive);
  REQUIRE(h.row(id).status == InstanceStatus::suspended);
  h.act(id, ActionKind::resolve);
  REQUIRE(h.row(id).status == InstanceStatus::failed);

  h.close();
  h.open();
  h.ext->script("credit", {ok({{"memo", "CM-3"}})});
  h.act(id, ActionKind::redrive);
  CHECK(h.row(id).status == InstanceStatus::completed);
  auto credits = calls_of(h, "credit");
  REQUIRE(credits.size() == 3);
  CHECK(credits[2].idempotency_key == id + ":credit:3");
  CHECK(calls_of(h, "create_label").size() == 1);
}

TEST_CASE("Redrive.Issue16.RefusedWhereMeaningless") {
  Harness h(kRedriveFlow);
  auto refused = [&](const std::string& id, json args, Errc code, const std::string& says) {
    INFO(says);
    try {
      h.act(id, ActionKind::redrive, std::move(args));
      FAIL("accepted");
    } catch (const Error& e) {
      CHECK(e.code() == code);
      CHECK(std::string(e.what()).find(says) != std::string::npos);
    }
  };
  auto failed = failed_at_credit(h);
  refused(failed, {{"step", "nowhere"}}, Errc::not_found, "has no step nowhere");
  refused(failed, {{"step", "done"}}, Errc::refused, "is an end step");
  refused(failed, {{"patch", {{"input", {{"amount", 1}}}}}}, Errc::refused, "read-only");
  refused(failed, {{"step", 7}}, Errc::invalid_argument, "step's name");

  h.ext->script("create_label", {ok({{"id", "L2"}})});
  h.ext->script("credit", {ok({{"memo", "CM-2"}})});
  auto completed = h.start({{"amount", 10}}).instance_id;
  REQUIRE(h.row(completed).status == InstanceStatus::completed);
  refused(completed, {}, Errc::refused, "it completed");

  auto running = h.start({{"amount", 10}}).instance_id;  // its label call is held
  REQUIRE(h.row(running).status == InstanceStatus::running);
  refused(running, {}, Errc::refused, "only a finished instance can be redriven");
  refused("no-such-instance", {}, Errc::not_found, "no instance");

  CHECK(h.row(failed).status == InstanceStatus::failed);
  CHECK(events_of(h, failed, EventType::operator_action).size() == 1);  // the resolve only
}

namespace {

const char* kLines = R"(
workflow: lines
version: 1
start: inspect_lines
steps:
  inspect_lines:
    foreach: ${ .input.lines }
    as: line
    key: ${ .line.id }
    on_branch_failure: fail
    result: lines
    start: inspect
    steps:
      inspect:
        action: ext.inspect
        with: { line: "${ .line.id }" }
        retry: { max_attempts: 1 }
        result: inspection
        next: restock
      restock:
        action: ext.restock
        with: { line: "${ .line.id }" }
        retry: { max_attempts: 1 }
        next: restocked
      restocked: { end: { status: restocked, output: "${ {line: .line.id, grade: .inspection.grade} }" } }
    next: done
  done: { end: completed }
)";

}  // namespace

TEST_CASE("Redrive.Issue16.AFanOutStepKeepsItsCompletedBranchesAndRunsTheOthersAgain") {
  Harness h(kLines);
  h.ext->script("restock", {ok()});
  json input = {{"lines", json::array({{{"id", "L1"}}, {{"id", "L2"}}})}};
  auto id = h.start(input).instance_id;
  // L1 is inspected and restocked, then L2's inspection fails and the step with it.
  REQUIRE(h.ext->answer_branch("inspect_lines[L1]", ok({{"grade", "A"}})));
  h.idle();
  REQUIRE(h.ext->answer_branch("inspect_lines[L2]", business("ScannerDown")));
  h.idle();
  REQUIRE(h.row(id).status == InstanceStatus::suspended);
  h.act(id, ActionKind::resolve);
  REQUIRE(h.row(id).status == InstanceStatus::failed);
  REQUIRE(calls_of(h, "restock").size() == 1);  // L1 was restocked

  h.ext->script("inspect", {ok({{"grade", "B"}})});
  h.ext->script("restock", {ok()});
  h.act(id, ActionKind::redrive);
  REQUIRE(h.row(id).status == InstanceStatus::completed);

  // L1 is not inspected or restocked again; L2 is, under new keys.
  auto inspections = calls_of(h, "inspect");
  REQUIRE(inspections.size() == 3);
  CHECK(inspections[2].branch == "inspect_lines[L2]");
  auto restocks = calls_of(h, "restock");
  REQUIRE(restocks.size() == 2);
  CHECK(restocks[1].branch == "inspect_lines[L2]");
  CHECK(restocks[1].idempotency_key != restocks[0].idempotency_key);

  auto lines = h.context(id)["lines"];
  REQUIRE(lines.size() == 2);
  CHECK(lines[0]["key"] == "L1");
  CHECK(lines[0]["status"] == "restocked");
  CHECK(lines[0]["output"]["grade"] == "A");
  CHECK(lines[1]["key"] == "L2");
  CHECK(lines[1]["output"]["grade"] == "B");

  auto audit = data_of(events_of(h, id, EventType::operator_action).back());
  CHECK(audit["args"]["step"] == "inspect_lines");
  CHECK(audit["args"]["kept_branches"] == json::array({"L1"}));
  check_contiguous(h.history(id));
}
