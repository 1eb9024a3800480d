// Fan-out on a manual clock: foreach and parallel branches, signals to one branch, a branch's
// failure under either policy, compensation across branches, and child workflows.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>

#include "tests/runtime/harness.hpp"

using namespace rmaflow;
using namespace rmaflow::testing;
using json = nlohmann::json;

namespace {

json five_lines() {
  json lines = json::array();
  for (int i = 1; i <= 5; ++i) {
    lines.push_back({{"id", "L" + std::to_string(i)}, {"price", 10 * i}});
  }
  return {{"lines", lines}};
}

std::vector<std::string> branches_of(const std::vector<Invocation>& calls) {
  std::vector<std::string> out;
  for (const auto& c : calls) out.push_back(c.branch);
  return out;
}

const Cursor* branch(const InstanceRow& row, const std::string& path) { return row.cursor(path); }

// The branches whose calls are held, sorted.
std::vector<std::string> held_branches(Harness& h) {
  std::vector<std::string> out;
  for (const auto& c : h.ext->held_calls()) out.push_back(c.branch);
  std::sort(out.begin(), out.end());
  return out;
}

// How each line's branch ended, as the foreach step collected them at `.lines`.
std::vector<std::string> line_statuses(const InstanceRow& row) {
  std::vector<std::string> out;
  for (const auto& line : row.context->at("lines")) out.push_back(line["status"]);
  return out;
}

const char* kGrades = R"(
workflow: grades
version: 1
start: inspect_lines
steps:
  inspect_lines:
    foreach: ${ .input.lines }
    as: line
    key: ${ .line.id }
    result: lines
    start: inspect
    steps:
      inspect:
        action: ext.inspect
        with: { line: "${ .line.id }" }
        result: inspection
        next: grade
      grade:
        switch:
          - if: .inspection.grade == "A"
            next: restock
          - if: .inspection.grade == "B"
            next: refurbish
        default: scrap
      restock:
        action: ext.restock
        with: { line: "${ .line.id }" }
        next: restocked
      refurbish:
        action: ext.refurbish
        with: { line: "${ .line.id }" }
        next: refurbished
      scrap:
        action: ext.scrap
        with: { line: "${ .line.id }" }
        next: scrapped
      restocked: { end: { status: restocked, output: "${ {line: .line.id, credit: .line.price} }" } }
      refurbished: { end: { status: refurbished, output: "${ {line: .line.id, credit: (.line.price / 2)} }" } }
      scrapped: { end: { status: scrapped, output: "${ {line: .line.id, credit: 0} }" } }
    next: price
  price:
    set:
      credit: ${ [.lines[].output.credit] | add }
    next: done
  done: { end: completed }
)";

}  // namespace

// EngineOptions::max_running_bytes counts a running instance's branches as stored: fifty lines
// held at their inspections take more text in their cursors than in the context, and a start
// that the context alone would let in is refused; once the lines are done, it goes in.
TEST_CASE("FanOut.Foreach.MaxRunningBytesCountsTheBranches") {
  Harness h(kGrades);
  h.max_running_bytes = 20'000;
  h.open();
  json lines = json::array();
  for (int i = 0; i < 50; ++i) lines.push_back({{"id", fmt::format("L{:02}", i)}, {"price", 10}});
  auto id = h.start({{"lines", lines}}).instance_id;
  h.idle();
  REQUIRE(h.ext->held() == 50);
  const auto context = h.row(id).context.text().size();
  const auto held = h.engine->stats().held_bytes;
  CHECK(held == h.stored_bytes(id));
  CHECK(held > 2 * context);
  REQUIRE(held < 20'000);
  // Within the bound beside the context alone, past it beside the branches.
  json big = {{"lines", json::array()}, {"notes", std::string(19'000 - context, 'x')}};
  try {
    h.start(big);
    FAIL("the start should have been refused");
  } catch (const Error& error) {
    CHECK(error.code() == Errc::busy);
  }
  for (int i = 0; i < 50; ++i) h.ext->answer(ok({{"grade", "D"}}));
  h.idle();
  for (int i = 0; i < 50; ++i) h.ext->answer(ok());
  h.idle();
  CHECK(h.row(id).status == InstanceStatus::completed);
  CHECK(h.engine->stats().held_bytes == 0);
  CHECK(h.start(big).created);
}

TEST_CASE("FanOut.Foreach.Issue13.FiveLinesWithMixedGrades") {
  Harness h(kGrades);
  h.ext->script("inspect", {ok({{"grade", "A"}}), ok({{"grade", "D"}}), ok({{"grade", "B"}}),
                            ok({{"grade", "A"}}), ok({{"grade", "C"}})});
  h.ext->script("restock", {ok(), ok()});
  h.ext->script("refurbish", {ok()});
  h.ext->script("scrap", {ok(), ok()});
  auto id = h.start(five_lines()).instance_id;

  auto row = h.row(id);
  CHECK(row.status == InstanceStatus::completed);
  CHECK(row.cursors.size() == 1);  // the branches are gone once joined
  auto lines = row.context->at("lines");
  REQUIRE(lines.size() == 5);
  std::vector<std::string> statuses;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    CHECK(lines[i]["key"] == "L" + std::to_string(i + 1));  // input order
    statuses.push_back(lines[i]["status"]);
  }
  CHECK(statuses ==
        std::vector<std::string>{"restocked", "scrapped", "refurbished", "restocked", "scrapped"});
  CHECK(row.context->at("credit") == 10 + 0 + 15 + 40 + 0);

  // Every line got its own disposition, under its own idempotency key.
  for (const auto& call : h.ext->calls()) {
    REQUIRE(call.input.contains("line"));
    std::string line = call.input["line"];
    CHECK(call.branch == "inspect_lines[" + line + "]");
    CHECK(call.idempotency_key == id + ":" + call.step + "[" + line + "]:1");
  }
  // The branch results do not leak into the instance's context.
  CHECK_FALSE(row.context->contains("inspection"));
  CHECK_FALSE(row.context->contains("line"));

  auto history = h.history(id);
  check_contiguous(history);
  int ended = 0;
  for (const auto& e : history) ended += e.type == EventType::branch_ended ? 1 : 0;
  CHECK(ended == 5);
}

// A branch's view is the context with its own keys laid over it, whichever branch was viewed
// before: a key another branch keeps (here one that hides the context's) never shows through.
TEST_CASE("FanOut.Foreach.ABranchSeesItsOwnKeysAndNoOtherBranchs") {
  Harness h(R"(
workflow: views
version: 1
start: mark
steps:
  mark:
    set:
      note: main
    next: each
  each:
    foreach: ${ .input.lines }
    as: line
    key: ${ .line.id }
    concurrency: 2
    start: look
    steps:
      look:
        action: ext.look
        with: { line: "${ .line.id }", note: "${ .note }", kept: "${ .kept }" }
        result: note
        next: again
      again:
        action: ext.again
        with: { line: "${ .line.id }", note: "${ .note.line }" }
        result: kept
        next: finished
      finished: { end: { status: done, output: "${ .kept }" } }
    next: after
  after:
    action: ext.after
    with: { note: "${ .note }", kept: "${ .kept }" }
    next: done
  done: { end: completed }
)");
  std::vector<Outcome> looks, agains;
  for (int i = 1; i <= 5; ++i) {
    looks.push_back(ok({{"line", "L" + std::to_string(i)}}));
    agains.push_back(ok({{"again", i}}));
  }
  h.ext->script("look", looks);
  h.ext->script("again", agains);
  h.ext->script("after", {ok()});
  auto id = h.start(five_lines()).instance_id;
  CHECK(h.row(id).status == InstanceStatus::completed);

  int looked = 0, again = 0;
  for (const auto& call : h.ext->calls()) {
    if (call.step == "look") {
      ++looked;
      CHECK(call.input["note"] == "main");  // not another branch's result
      CHECK(call.input["kept"].is_null());  // nor another branch's key
    } else if (call.step == "again") {
      ++again;
      CHECK(call.input["note"] == call.input["line"]);  // its own result
    } else {
      CHECK(call.input == json{{"note", "main"}, {"kept", nullptr}});  // the main line again
    }
  }
  CHECK(looked == 5);
  CHECK(again == 5);
}

TEST_CASE("FanOut.Foreach.Issue13.ConcurrencyNeverRunsMoreThanTwo") {
  Harness h(R"(
workflow: paced
version: 1
start: each
steps:
  each:
    foreach: ${ .input.lines }
    as: line
    key: ${ .line.id }
    concurrency: 2
    start: work
    steps:
      work:
        action: ext.work
        with: { line: "${ .line.id }" }
        next: finished
      finished: { end: done }
    next: done
  done: { end: completed }
)");
  auto id = h.start(five_lines()).instance_id;
  std::size_t peak = 0;
  std::vector<std::string> started;
  for (int answered = 0; answered < 5; ++answered) {
    peak = std::max(peak, h.ext->held());
    CHECK(h.ext->held() == std::min<std::size_t>(2, 5 - answered));
    h.ext->answer(ok());
    h.idle();
  }
  CHECK(peak == 2);
  CHECK(h.row(id).status == InstanceStatus::completed);
  // Branches start in input order as slots free up.
  CHECK(branches_of(h.ext->calls()) ==
        std::vector<std::string>{"each[L1]", "each[L2]", "each[L3]", "each[L4]", "each[L5]"});
}

namespace {

const char* kReceipts = R"(
workflow: receipts
version: 1
start: lines
steps:
  lines:
    foreach: ${ .input.lines }
    as: line
    key: ${ .line.id }
    result: lines
    start: announce
    steps:
      announce:
        action: ext.announce
        with: { line: "${ .line.id }" }
        next: await_line
      await_line:
        wait: { signal: warehouse.line_received, match: "${ .line.id }", timeout: 10d }
        result: receipt
        on_timeout: missing
        next: received
      received: { end: { status: received, output: "${ .receipt }" } }
      missing: { end: not_received }
    next: done
  done: { end: completed }
)";

}  // namespace

TEST_CASE("FanOut.Signal.Issue13.BufferedForLine3BeforeItWaits") {
  Harness h(kReceipts);
  auto id = h.start(five_lines()).instance_id;
  REQUIRE(h.ext->held() == 5);  // every branch is announcing; none waits yet

  auto accepted = h.signal(id, "warehouse.line_received", {{"scan", "S3"}}, "L3");
  CHECK_FALSE(accepted.duplicate);
  // Stored, not consumed: line 3 does not wait yet.
  CHECK(branch(h.row(id), "lines[L3]")->phase == Phase::invoking);

  for (int i = 0; i < 5; ++i) h.ext->answer(ok());
  h.idle();
  auto row = h.row(id);
  CHECK(branch(row, "lines[L3]")->phase == Phase::ended);
  CHECK(branch(row, "lines[L3]")->output == json({{"scan", "S3"}}));
  for (const char* other : {"lines[L1]", "lines[L2]", "lines[L4]", "lines[L5]"}) {
    CHECK(branch(row, other)->phase == Phase::waiting);
  }
  CHECK(row.status == InstanceStatus::waiting);

  // A match that no branch can take is refused, and so is a signal without a match.
  CHECK_THROWS_WITH_AS(h.signal(id, "warehouse.line_received", nullptr, "L9"),
                       doctest::Contains("no branch"), Error);
  CHECK_THROWS_WITH_AS(h.signal(id, "warehouse.line_received", nullptr),
                       doctest::Contains("needs a match value"), Error);
  CHECK_THROWS_WITH_AS(h.signal(id, "carrier.scanned", nullptr),
                       doctest::Contains("it waits for: warehouse.line_received"), Error);
  // Line 3 has ended: a second scan for it has nowhere to go.
  CHECK_THROWS_AS(h.signal(id, "warehouse.line_received", nullptr, "L3"), Error);

  for (const char* line : {"L1", "L2", "L4"}) h.signal(id, "warehouse.line_received", {}, line);
  h.advance(Duration(10LL * 86'400'000));
  row = h.row(id);
  CHECK(row.status == InstanceStatus::completed);
  CHECK(line_statuses(row) ==
        std::vector<std::string>{"received", "received", "received", "received", "not_received"});
}

// Thirty lines waiting, scanned from the last to the first: each scan is taken by its own line
// and no other. A scan no line waits for is refused naming the first ten waiting and how many
// more, not all of them (a return may have thousands).
TEST_CASE("FanOut.Signal.ScansInAnyOrderEachTakenByItsLine") {
  Harness h(kReceipts);
  auto line = [](int i) { return fmt::format("L{:02}", i); };
  json lines = json::array();
  for (int i = 1; i <= 30; ++i) lines.push_back({{"id", line(i)}});
  auto id = h.start({{"lines", lines}}).instance_id;
  for (int i = 0; i < 30; ++i) h.ext->answer(ok());
  h.idle();
  try {
    h.signal(id, "warehouse.line_received", nullptr, "L99");
    FAIL("a scan no line waits for was taken");
  } catch (const Error& e) {
    std::string what = e.what();
    CHECK(what.find("with match \"L99\"; waiting for it: lines[L01] (\"L01\"), lines[L02] "
                    "(\"L02\"), ") != std::string::npos);
    CHECK(what.find("lines[L10] (\"L10\") and 20 more") != std::string::npos);
    CHECK(what.find("L11") == std::string::npos);
  }
  for (int i = 30; i > 1; --i) {
    CAPTURE(i);
    h.signal(id, "warehouse.line_received", {{"scan", i}}, line(i));
    auto row = h.row(id);
    for (int j = 1; j <= 30; ++j) {
      CAPTURE(j);
      const Cursor* c = branch(row, "lines[" + line(j) + "]");
      REQUIRE(c != nullptr);
      CHECK(c->phase == (j >= i ? Phase::ended : Phase::waiting));
    }
    CHECK(branch(row, "lines[" + line(i) + "]")->output == json({{"scan", i}}));
  }
  h.signal(id, "warehouse.line_received", {{"scan", 1}}, line(1));
  auto row = h.row(id);
  CHECK(row.status == InstanceStatus::completed);
  const json& results = row.context->at("lines");
  REQUIRE(results.size() == 30);
  for (int i = 1; i <= 30; ++i) {
    CAPTURE(i);
    CHECK(results[i - 1]["key"] == line(i));
    CHECK(results[i - 1]["output"] == json({{"scan", i}}));
  }
}

// Two orders, one at a time: the first order's lines wait for their scans while the second
// order stands at the same step, not started. A scan for a line of the second order is kept
// for it (its lines' branches are yet to be made) and taken once they are: where a branch can
// still go depends on where it stands at a step (joining there, or yet to enter it), not on the
// step alone.
TEST_CASE("FanOut.Signal.KeptForALineOfAnOrderNotStartedYet") {
  Harness h(R"(
workflow: orders
version: 1
start: orders
steps:
  orders:
    foreach: ${ .input.orders }
    as: order
    key: ${ .order.id }
    concurrency: 1
    result: orders
    start: lines
    steps:
      lines:
        foreach: ${ .order.lines }
        as: line
        key: ${ .line }
        result: lines
        start: await_line
        steps:
          await_line:
            wait: { signal: warehouse.line_received, match: "${ .line }", timeout: 10d }
            result: receipt
            next: received
          received: { end: { status: received, output: "${ .receipt }" } }
        next: shipped
      shipped: { end: { status: shipped, output: "${ .lines }" } }
    next: done
  done: { end: completed }
)");
  json orders = json::array({{{"id", "A"}, {"lines", json::array({"A1", "A2"})}},
                             {{"id", "B"}, {"lines", json::array({"B1"})}}});
  auto id = h.start({{"orders", orders}}).instance_id;
  h.idle();
  auto row = h.row(id);
  REQUIRE(branch(row, "orders[A]")->phase == Phase::joining);
  REQUIRE(branch(row, "orders[B]")->phase == Phase::pending);
  REQUIRE(branch(row, "orders[B]")->step == "lines");

  CHECK_FALSE(h.signal(id, "warehouse.line_received", {{"scan", "B1"}}, "B1").duplicate);
  CHECK(branch(h.row(id), "orders[B]")->phase == Phase::pending);
  h.signal(id, "warehouse.line_received", {{"scan", "A1"}}, "A1");
  h.signal(id, "warehouse.line_received", {{"scan", "A2"}}, "A2");
  h.idle();
  row = h.row(id);
  CHECK(row.status == InstanceStatus::completed);
  const json& results = row.context->at("orders");
  REQUIRE(results.size() == 2);
  CHECK(results[1]["status"] == "shipped");
  CHECK(results[1]["output"][0]["output"] == json({{"scan", "B1"}}));
}

TEST_CASE("FanOut.Signal.Issue14.LateLineSignalTakenByAWaitWithoutMatch") {
  // Each line waits 10 days for its parcel; afterwards the main line watches for parcels that
  // turn up late, whatever line they are of.
  Harness h(R"(
workflow: late-parcels
version: 1
start: lines
steps:
  lines:
    foreach: ${ .input.lines }
    as: line
    key: ${ .line.id }
    result: lines
    start: await_line
    steps:
      await_line:
        wait: { signal: warehouse.line_received, match: "${ .line.id }", timeout: 10d }
        result: receipt
        on_timeout: missing
        next: received
      received: { end: received }
      missing: { end: not_received }
    next: await_late
  await_late:
    wait: { signal: warehouse.line_received, timeout: 30d }
    result: late
    on_timeout: done
    next: late_parcel
  late_parcel: { end: completed }
  done: { end: expired }
)");
  auto id = h.start({{"lines", json::array({{{"id", "L1"}}, {{"id", "L2"}}})}}).instance_id;
  h.signal(id, "warehouse.line_received", {{"scan", "S1"}}, "L1");
  h.idle();
  // While the main line may still reach the wait without match, a value no branch renders
  // is kept for it rather than refused.
  CHECK_FALSE(h.signal(id, "warehouse.line_received", {{"scan", "S9"}}, "L9").duplicate);
  h.advance(Duration(10LL * 86'400'000));
  auto row = h.row(id);
  REQUIRE(row.step == "late_parcel");
  CHECK(line_statuses(row) == std::vector<std::string>{"received", "not_received"});
  // The kept signal was the oldest: the main line took it at once.
  CHECK(row.status == InstanceStatus::completed);
  CHECK(row.context->at("late") == json({{"scan", "S9"}}));

  // Another instance: the late parcel of L2 comes after the branch gave up on it.
  auto other = h.start({{"lines", json::array({{{"id", "L1"}}, {{"id", "L2"}}})}}).instance_id;
  h.signal(other, "warehouse.line_received", {}, "L1");
  h.advance(Duration(12LL * 86'400'000));
  REQUIRE(h.row(other).step == "await_late");
  CHECK_FALSE(h.signal(other, "warehouse.line_received", {{"scan", "late"}}, "L2").duplicate);
  h.idle();
  row = h.row(other);
  CHECK(row.status == InstanceStatus::completed);
  CHECK(row.context->at("late") == json({{"scan", "late"}}));
}

namespace {

const char* kFragile = R"(
workflow: fragile
version: 1
defaults:
  retry: { max_attempts: 1 }
start: lines
steps:
  lines:
    foreach: ${ .input.lines }
    as: line
    key: ${ .line.id }
    on_branch_failure: BRANCH_POLICY
    result: lines
    start: work
    steps:
      work:
        action: ext.work
        with: { line: "${ .line.id }" }
        next: finished
      finished: { end: done }
    catch: [ { errors: [BranchFailed], next: review } ]
    next: done
  review: { end: rejected }
  done: { end: completed }
)";

std::string fragile(const std::string& policy) {
  std::string yaml = kFragile;
  yaml.replace(yaml.find("BRANCH_POLICY"), 13, policy);
  return yaml;
}

}  // namespace

TEST_CASE("FanOut.BranchFailure.Issue13.ContinueSuspendsThatBranchAlone") {
  Harness h(fragile("continue"));
  auto id = h.start(five_lines()).instance_id;
  REQUIRE(h.ext->held() == 5);
  CHECK(h.ext->answer_branch("lines[L2]", business("NotEligible")));
  for (const char* line : {"lines[L1]", "lines[L3]", "lines[L4]", "lines[L5]"}) {
    CHECK(h.ext->answer_branch(line, ok()));
  }
  h.idle();
  auto row = h.row(id);
  CHECK(row.status == InstanceStatus::suspended);
  REQUIRE(branch(row, "lines[L2]")->incident.has_value());
  CHECK(branch(row, "lines[L2]")->incident->error.code == "NotEligible");
  for (const char* line : {"lines[L1]", "lines[L3]", "lines[L4]", "lines[L5]"}) {
    CHECK(branch(row, line)->phase == Phase::ended);
  }
  CHECK(incident_of(row)["branch"] == "lines[L2]");

  // The operator retries that branch alone (named by its key); the others are not touched.
  h.ext->script("work", {ok()});
  auto result = h.act(id, ActionKind::retry, {}, "L2");
  CHECK(result.branch == "lines[L2]");
  row = h.row(id);
  CHECK(row.status == InstanceStatus::completed);
  auto calls = h.ext->calls();
  CHECK(calls.size() == 6);
  CHECK(calls.back().branch == "lines[L2]");
  CHECK(calls.back().idempotency_key == id + ":work[L2]:1");  // the same effect, tried again
}

TEST_CASE("FanOut.BranchFailure.Issue13.ResolvingABranchLetsTheStepJoin") {
  Harness h(fragile("continue"));
  h.ext->script("work", {ok(), business("NotEligible"), ok(), ok(), ok()});
  auto id = h.start(five_lines()).instance_id;
  REQUIRE(h.row(id).status == InstanceStatus::suspended);
  // Without naming it: the one branch with an incident.
  h.act(id, ActionKind::resolve);
  auto row = h.row(id);
  CHECK(row.status == InstanceStatus::completed);
  CHECK(row.context->at("lines")[1]["status"] == "failed");
  CHECK(row.context->at("lines")[0]["status"] == "done");
}

TEST_CASE("FanOut.BranchFailure.Issue13.FailStopsTheOthersAndTheStepIsCaught") {
  Harness h(fragile("fail"));
  auto id = h.start(five_lines()).instance_id;
  REQUIRE(h.ext->held() == 5);
  CHECK(h.ext->answer_branch("lines[L1]", ok()));
  CHECK(h.ext->answer_branch("lines[L3]", business("NotEligible")));
  h.idle();
  auto row = h.row(id);
  CHECK(row.status == InstanceStatus::rejected);
  CHECK(row.context->at("error")["code"] == "BranchFailed");
  CHECK(row.context->at("error")["origin"] == "branch");
  CHECK(row.cursors.size() == 1);
  // The calls still out were abandoned, and the history says which.
  int abandoned = 0;
  for (const auto& e : h.history(id)) {
    if (e.type != EventType::branch_ended) continue;
    auto data = json::parse(e.data);
    if (data["status"] == "abandoned") {
      ++abandoned;
      CHECK(data.contains("abandoned_call"));
    }
  }
  CHECK(abandoned == 3);
  // Their late answers change nothing.
  while (h.ext->held() > 0) h.ext->answer(ok());
  h.idle();
  CHECK(h.row(id).status == InstanceStatus::rejected);
  check_contiguous(h.history(id));
}

TEST_CASE("FanOut.Compensation.Issue13.ExactReverseCompletionOrderAcrossBranches") {
  Harness h(R"(
workflow: undo
version: 1
on_failure: compensate
defaults:
  retry: { max_attempts: 1 }
start: label
steps:
  label:
    action: ext.create_label
    result: label
    compensate: { action: ext.void_label, with: { label: "${ .label.id }" } }
    next: lines
  lines:
    foreach: ${ .input.lines }
    as: line
    key: ${ .line.id }
    start: restock
    steps:
      restock:
        action: ext.restock
        with: { line: "${ .line.id }" }
        result: movement
        compensate: { action: ext.reverse, with: { movement: "${ .movement.id }" } }
        next: finished
      finished: { end: done }
    next: credit
  credit:
    action: ext.credit
    next: done
  done: { end: completed }
)");
  h.ext->script("create_label", {ok({{"id", "LBL"}})});
  json input = {{"lines", {{{"id", "L1"}}, {{"id", "L2"}}, {{"id", "L3"}}}}};
  auto id = h.start(input).instance_id;
  REQUIRE(h.ext->held() == 3);
  // The lines finish out of order: L2, L3, L1.
  CHECK(h.ext->answer_branch("lines[L2]", ok({{"id", "M2"}})));
  h.idle();
  CHECK(h.ext->answer_branch("lines[L3]", ok({{"id", "M3"}})));
  h.idle();
  CHECK(h.ext->answer_branch("lines[L1]", ok({{"id", "M1"}})));
  h.ext->script("credit", {business("CreditLimit")});
  h.ext->script("reverse", {ok(), ok(), ok()});
  h.ext->script("void_label", {ok()});
  h.idle();

  auto row = h.row(id);
  CHECK(row.status == InstanceStatus::compensated);
  auto calls = h.ext->calls();
  REQUIRE(calls.size() == 9);
  std::vector<json> undone;
  std::vector<std::string> keys;
  for (std::size_t i = 5; i < calls.size(); ++i) {
    CHECK(calls[i].compensation);
    undone.push_back(calls[i].input);
    keys.push_back(calls[i].idempotency_key);
  }
  CHECK(undone == std::vector<json>{{{"movement", "M1"}}, {{"movement", "M3"}},
                                    {{"movement", "M2"}}, {{"label", "LBL"}}});
  CHECK(keys == std::vector<std::string>{id + ":restock[L1]:1:compensate",
                                         id + ":restock[L3]:1:compensate",
                                         id + ":restock[L2]:1:compensate",
                                         id + ":label:1:compensate"});
  CHECK(row.step == "credit");  // where it ended, not the last step undone
  CHECK(row.saga.done.empty());
}

TEST_CASE("FanOut.Compensation.Issue13.APivotInABranchProtectsThatBranchOnly") {
  Harness h(R"(
workflow: pivots
version: 1
on_failure: compensate
defaults:
  retry: { max_attempts: 1 }
start: lines
steps:
  lines:
    foreach: ${ .input.lines }
    as: line
    key: ${ .line.id }
    start: restock
    steps:
      restock:
        action: ext.restock
        with: { line: "${ .line.id }" }
        compensate: { action: ext.reverse, with: { line: "${ .line.id }" } }
        next: decide
      decide:
        switch:
          - if: .line.final
            next: post
        default: finished
      post:
        action: ext.post
        pivot: true
        next: finished
      finished: { end: done }
    next: credit
  credit:
    action: ext.credit
    next: done
  done: { end: completed }
)");
  h.ext->script("restock", {ok(), ok()});
  h.ext->script("post", {ok()});
  h.ext->script("credit", {business("CreditLimit")});
  h.ext->script("reverse", {ok()});
  json input = {{"lines", {{{"id", "L1"}, {"final", true}}, {{"id", "L2"}, {"final", false}}}}};
  auto id = h.start(input).instance_id;
  CHECK(h.row(id).status == InstanceStatus::compensated);
  std::vector<json> undone;
  for (const auto& c : h.ext->calls())
    if (c.compensation) undone.push_back(c.input);
  CHECK(undone == std::vector<json>{{{"line", "L2"}}});  // L1 passed its pivot
}

TEST_CASE("FanOut.Parallel.Issue13.NamedBranchesJoin") {
  Harness h(R"(
workflow: fulfil
version: 1
start: both
steps:
  both:
    parallel:
      ship:
        start: order
        steps:
          order: { action: ext.order, result: order, next: shipped }
          shipped: { end: { status: shipped, output: "${ .order.id }" } }
      notify:
        start: mail
        steps:
          mail: { action: ext.mail, next: sent }
          sent: { end: sent }
    result: fulfilment
    next: done
  done: { end: completed }
)");
  auto id = h.start(json::object()).instance_id;
  REQUIRE(h.ext->held() == 2);
  CHECK(h.ext->answer_branch("both[notify]", ok()));
  h.idle();
  CHECK(h.row(id).status == InstanceStatus::running);
  CHECK(h.ext->answer_branch("both[ship]", ok({{"id", "SO-1"}})));
  h.idle();
  auto row = h.row(id);
  CHECK(row.status == InstanceStatus::completed);
  CHECK(row.context->at("fulfilment") ==
        json({{"ship", {{"status", "shipped"}, {"output", "SO-1"}}},
              {"notify", {{"status", "sent"}, {"output", nullptr}}}}));
}

namespace {

const char* kRepairParent = R"(
workflow: parent
version: 1
defaults:
  retry: { max_attempts: 1 }
start: repair
steps:
  repair:
    call: { workflow: repair, input: "${ {line: .input.line} }" }
    result: repair
    catch: [ { errors: [ChildFailed], next: refund_instead } ]
    next: done
  refund_instead: { end: rejected }
  done: { end: completed }
)";

const char* kRepairChild = R"(
workflow: repair
version: 1
defaults:
  retry: { max_attempts: 1 }
start: fix
steps:
  fix:
    action: ext.fix
    with: { line: "${ .input.line }" }
    result: fix
    catch: [ { errors: [Unrepairable], next: scrap } ]
    next: await_back
  await_back:
    wait: { signal: repair.returned, timeout: 30d }
    next: repaired
  repaired: { end: { status: completed, output: "${ {line: .input.line, fix: .fix.id} }" } }
  scrap: { end: rejected }
)";

}  // namespace

TEST_CASE("FanOut.Call.Issue13.ChildCompletesAndItsOutputReachesTheParent") {
  Harness h(kRepairParent);
  h.deploy(kRepairChild);
  h.ext->script("fix", {ok({{"id", "F-1"}})});
  auto id = h.start({{"line", "L1"}}).instance_id;
  auto parent = h.row(id);
  CHECK(parent.status == InstanceStatus::waiting);
  REQUIRE(!parent.main().child.empty());
  auto child_id = parent.main().child;
  auto child = h.row(child_id);
  CHECK(child.status == InstanceStatus::waiting);
  REQUIRE(child.parent.has_value());
  CHECK(child.parent->instance_id == id);
  CHECK(child.parent->step == "repair");

  h.signal(child_id, "repair.returned", json::object());
  parent = h.row(id);
  CHECK(parent.status == InstanceStatus::completed);
  CHECK(parent.context->at("repair") == json({{"instance_id", child_id},
                                              {"status", "completed"},
                                              {"output", {{"line", "L1"}, {"fix", "F-1"}}}}));
  CHECK(h.row(child_id).status == InstanceStatus::completed);
  auto types = h.event_types(id);
  CHECK(std::count(types.begin(), types.end(), EventType::child_started) == 1);
  CHECK(std::count(types.begin(), types.end(), EventType::child_ended) == 1);
}

TEST_CASE("FanOut.Call.Issue13.AChildThatFailsIsCaughtByTheParent") {
  Harness h(kRepairParent);
  h.deploy(kRepairChild);
  h.ext->script("fix", {business("Unrepairable")});
  auto id = h.start({{"line", "L1"}}).instance_id;
  auto parent = h.row(id);
  CHECK(parent.status == InstanceStatus::rejected);
  CHECK(parent.context->at("error")["code"] == "ChildFailed");
  CHECK(parent.context->at("error")["origin"] == "child");
}

TEST_CASE("FanOut.Call.Issue13.CancellingTheParentCancelsItsWaitingChild") {
  Harness h(kRepairParent);
  h.deploy(kRepairChild);
  h.ext->script("fix", {ok({{"id", "F-1"}})});
  auto id = h.start({{"line", "L1"}}).instance_id;
  auto child_id = h.row(id).main().child;
  REQUIRE(h.row(child_id).status == InstanceStatus::waiting);
  h.act(id, ActionKind::cancel);
  CHECK(h.row(id).status == InstanceStatus::cancelled);
  CHECK(h.row(child_id).status == InstanceStatus::cancelled);
  // The child's end reaches nobody: the parent stays cancelled.
  CHECK_THROWS_AS(h.signal(child_id, "repair.returned", json::object()), Error);
  CHECK(h.row(id).status == InstanceStatus::cancelled);
}

TEST_CASE("FanOut.Call.Issue13.CompensatingACompletedCallCompensatesTheChild") {
  Harness h(R"(
workflow: parent
version: 1
on_failure: compensate
defaults:
  retry: { max_attempts: 1 }
start: repair
steps:
  repair:
    call: { workflow: child, input: "${ {line: .input.line} }" }
    next: credit
  credit:
    action: ext.credit
    next: done
  done: { end: completed }
)");
  h.deploy(R"(
workflow: child
version: 1
start: book
steps:
  book:
    action: ext.book
    result: booking
    compensate: { action: ext.unbook, with: { booking: "${ .booking.id }" } }
    next: done
  done: { end: completed }
)");
  h.ext->script("book", {ok({{"id", "B-1"}})});
  h.ext->script("credit", {business("CreditLimit")});
  h.ext->script("unbook", {ok()});
  auto id = h.start({{"line", "L1"}}).instance_id;
  auto parent = h.row(id);
  CHECK(parent.status == InstanceStatus::compensated);
  auto calls = h.ext->calls();
  REQUIRE(calls.size() == 3);
  CHECK(calls[2].operation == "unbook");
  CHECK(calls[2].input == json({{"booking", "B-1"}}));
  // The child ran its own compensation and ended compensated.
  std::string child_id;
  for (const auto& e : h.history(id))
    if (e.type == EventType::child_started) child_id = json::parse(e.data)["child"];
  REQUIRE(!child_id.empty());
  CHECK(h.row(child_id).status == InstanceStatus::compensated);
}

TEST_CASE("FanOut.Operators.Issue13.GotoStaysWithinTheBranchFlow") {
  Harness h(fragile("continue"));
  h.ext->script("work", {ok(), business("NotEligible"), ok(), ok(), ok()});
  auto id = h.start(five_lines()).instance_id;
  REQUIRE(h.row(id).status == InstanceStatus::suspended);
  CHECK_THROWS_WITH_AS(h.act(id, ActionKind::goto_step, {{"step", "review"}}, "L2"),
                       doctest::Contains("within its flow"), Error);
  CHECK_THROWS_WITH_AS(h.act(id, ActionKind::retry, {}, "L9"), doctest::Contains("no branch L9"),
                       Error);
  h.act(id, ActionKind::goto_step, {{"step", "finished"}}, "L2");
  CHECK(h.row(id).status == InstanceStatus::completed);
}

// Three lines at a time; a line with `skip` ends as soon as it starts, the others call ext.work.
const char* const kPaced = R"(
workflow: paced
version: 1
start: each
steps:
  each:
    foreach: ${ .input.lines }
    as: line
    key: ${ .line.id }
    concurrency: 3
    result: lines
    start: triage
    steps:
      triage:
        switch:
          - if: .line.skip
            next: skipped
        default: work
      work:
        action: ext.work
        with: { line: "${ .line.id }" }
        next: worked
      worked: { end: worked }
      skipped: { end: skipped }
    next: done
  done: { end: completed }
)";

TEST_CASE("FanOut.Foreach.ConcurrencyHoldsWhenBranchesEndOutOfOrderOrAtOnce") {
  Harness h(kPaced);
  // Lines 2, 5 and 6 end as soon as they start; the others wait for an answer.
  json lines = json::array();
  for (int i = 1; i <= 8; ++i) {
    lines.push_back({{"id", "L" + std::to_string(i)}, {"skip", i == 2 || i == 5 || i == 6}});
  }
  auto id = h.start({{"lines", lines}}).instance_id;
  // L2 ended at once, so three are out: L1, L3 and L4.
  CHECK(held_branches(h) == std::vector<std::string>{"each[L1]", "each[L3]", "each[L4]"});
  // The newest answers first: its slot goes to L5 and L6, which end at once, then to L7.
  CHECK(h.ext->answer_branch("each[L4]", ok()));
  h.idle();
  CHECK(held_branches(h) == std::vector<std::string>{"each[L1]", "each[L3]", "each[L7]"});
  CHECK(h.row(id).status == InstanceStatus::running);
  CHECK(h.ext->answer_branch("each[L1]", ok()));
  h.idle();
  CHECK(held_branches(h) == std::vector<std::string>{"each[L3]", "each[L7]", "each[L8]"});
  for (const char* b : {"each[L8]", "each[L3]"}) {
    CHECK(h.ext->answer_branch(b, ok()));
    h.idle();
    CHECK(h.row(id).status == InstanceStatus::running);
  }
  CHECK(held_branches(h) == std::vector<std::string>{"each[L7]"});
  CHECK(h.ext->answer_branch("each[L7]", ok()));
  h.idle();
  auto row = h.row(id);
  REQUIRE(row.status == InstanceStatus::completed);
  CHECK(line_statuses(row) == std::vector<std::string>{"worked", "skipped", "worked", "worked",
                                                       "skipped", "skipped", "worked", "worked"});
  CHECK(branches_of(h.ext->calls()) ==
        std::vector<std::string>{"each[L1]", "each[L3]", "each[L4]", "each[L7]", "each[L8]"});
  check_contiguous(h.history(id));
}

TEST_CASE("FanOut.Operators.AGotoOnABranchNotYetStartedIsRefused") {
  Harness h(kPaced);
  json lines = json::array();
  for (int i = 1; i <= 4; ++i) lines.push_back({{"id", "L" + std::to_string(i)}, {"skip", false}});
  auto id = h.start({{"lines", lines}}).instance_id;
  REQUIRE(h.row(id).cursor("each[L4]")->phase == Phase::pending);
  // Moved now, L4 would run beside three others, past the fan-out's concurrency of 3.
  CHECK_THROWS_WITH_AS(h.act(id, ActionKind::goto_step, {{"step", "work"}}, "L4"),
                       doctest::Contains("its branch has not started"), Error);
  h.idle();
  CHECK(h.row(id).cursor("each[L4]")->phase == Phase::pending);
  CHECK(held_branches(h) == std::vector<std::string>{"each[L1]", "each[L2]", "each[L3]"});
  // Once it has started, it can be moved like any other.
  CHECK(h.ext->answer_branch("each[L1]", ok()));
  h.idle();
  CHECK(held_branches(h) == std::vector<std::string>{"each[L2]", "each[L3]", "each[L4]"});
  h.act(id, ActionKind::goto_step, {{"step", "skipped"}}, "L4");
  h.idle();
  CHECK(h.row(id).cursor("each[L4]")->phase == Phase::ended);
}

TEST_CASE("FanOut.Nested.AnInnerFailureDropsThatLinesBranchesAlone") {
  Harness h(R"(
workflow: nested
version: 1
defaults:
  retry: { max_attempts: 1 }
start: lines
steps:
  lines:
    foreach: ${ .input.lines }
    as: line
    key: ${ .line.id }
    result: lines
    start: checks
    steps:
      checks:
        parallel:
          a:
            start: check_a
            steps:
              check_a: { action: ext.check, with: { line: "${ .line.id }" }, next: a_done }
              a_done: { end: passed }
          b:
            start: check_b
            steps:
              check_b: { action: ext.check, with: { line: "${ .line.id }" }, next: b_done }
              b_done: { end: passed }
        on_branch_failure: fail
        catch: [ { errors: [BranchFailed], next: unchecked } ]
        next: checked
      checked: { end: checked }
      unchecked: { end: unchecked }
    next: done
  done: { end: completed }
)");
  json lines = json::array({{{"id", "L1"}}, {{"id", "L2"}}, {{"id", "L3"}}});
  auto id = h.start({{"lines", lines}}).instance_id;
  REQUIRE(h.ext->held() == 6);
  CHECK(h.ext->answer_branch("lines[L1]/checks[a]", ok()));
  CHECK(h.ext->answer_branch("lines[L2]/checks[a]", business("Damaged")));
  h.idle();
  // L2's other check is dropped with its step; L1's and L3's stand.
  CHECK(held_branches(h) == std::vector<std::string>{"lines[L1]/checks[b]", "lines[L2]/checks[b]",
                                                     "lines[L3]/checks[a]", "lines[L3]/checks[b]"});
  auto row = h.row(id);
  CHECK(row.cursor("lines[L2]")->phase == Phase::ended);
  CHECK(row.cursor("lines[L2]/checks[b]") == nullptr);
  CHECK(row.cursor("lines[L1]/checks[b]") != nullptr);
  std::vector<std::string> abandoned;
  for (const auto& e : h.history(id)) {
    if (e.type == EventType::branch_ended && json::parse(e.data)["status"] == "abandoned")
      abandoned.push_back(e.branch);
  }
  CHECK(abandoned == std::vector<std::string>{"lines[L2]/checks[b]"});

  // The dropped call's late answer changes nothing; the others finish the step.
  CHECK(h.ext->answer_branch("lines[L2]/checks[b]", ok()));
  for (const char* b : {"lines[L1]/checks[b]", "lines[L3]/checks[a]", "lines[L3]/checks[b]"}) {
    CHECK(h.ext->answer_branch(b, ok()));
  }
  h.idle();
  row = h.row(id);
  REQUIRE(row.status == InstanceStatus::completed);
  CHECK(row.cursors.size() == 1);
  CHECK(line_statuses(row) == std::vector<std::string>{"checked", "unchecked", "checked"});
  check_contiguous(h.history(id));
}

TEST_CASE("FanOut.Operators.ABranchSentBackByGotoIsWaitedForByTheJoin") {
  Harness h(fragile("continue"));
  auto id = h.start({{"lines", json::array({{{"id", "L1"}}, {{"id", "L2"}}})}}).instance_id;
  CHECK(h.ext->answer_branch("lines[L1]", ok()));
  h.idle();
  REQUIRE(h.row(id).cursor("lines[L1]")->phase == Phase::ended);
  // The operator sends the ended line back to its work; the join must wait for it again.
  h.act(id, ActionKind::goto_step, {{"step", "work"}}, "L1");
  CHECK(held_branches(h) == std::vector<std::string>{"lines[L1]", "lines[L2]"});
  CHECK(h.ext->answer_branch("lines[L2]", ok()));
  h.idle();
  CHECK(h.row(id).status == InstanceStatus::running);
  CHECK(held_branches(h) == std::vector<std::string>{"lines[L1]"});
  CHECK(h.ext->answer_branch("lines[L1]", ok()));
  h.idle();
  auto row = h.row(id);
  REQUIRE(row.status == InstanceStatus::completed);
  CHECK(line_statuses(row) == std::vector<std::string>{"done", "done"});
  CHECK(branches_of(h.ext->calls()) ==
        std::vector<std::string>{"lines[L1]", "lines[L2]", "lines[L1]"});
}
