#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <future>
#include <map>
#include <set>

#include "tests/runtime/harness.hpp"

using namespace rmaflow;
using namespace rmaflow::testing;
using json = nlohmann::json;

namespace {

const char* kFlow = R"(
workflow: flow
version: 1
business_key: ${ .input.rma_id }
defaults:
  timeout: 30s
  retry: { max_attempts: 1 }
start: authorize
steps:
  authorize:
    action: ext.authorize
    with:
      rma: ${ .input.rma_id }
      lines: ${ .input.lines }
    result: authorization
    catch:
      - errors: [NotEligible]
        next: rejected
    next: compute
  compute:
    set:
      total: ${ [.input.lines[] | .qty * .price] | add }
      doubled: ${ .total * 2 }
    next: route
  route:
    switch:
      - if: .total > 100
        next: big
      - if: ${ .authorization.fast == true }
        next: done
    default: refund
  big:
    action: ext.review
    next: refund
  refund:
    action: ext.refund
    with: { amount: "${ .total }" }
    result: memo
    next: done
  done: { end: completed }
  rejected: { end: rejected }
)";

json rma(const std::string& id, int qty = 1, int price = 10) {
  return {{"rma_id", id}, {"lines", json::array({{{"qty", qty}, {"price", price}}})}};
}

}  // namespace

TEST_CASE("Runtime.Task.ResultsSetAndSwitchFlowThroughContext") {
  Harness h(kFlow);
  h.ext->script("authorize", {ok({{"fast", false}})});
  h.ext->script("refund", {ok({{"memo_id", "CM-1"}})});
  auto id = h.start(rma("R1", 2, 10)).instance_id;
  auto row = h.row(id);
  CHECK(row.status == InstanceStatus::completed);
  CHECK(row.step == "done");
  auto ctx = h.context(id);
  CHECK(ctx["authorization"]["fast"] == false);
  CHECK(ctx["total"] == 20);
  CHECK(ctx["doubled"] == 40);  // assignments see the ones before them
  CHECK(ctx["memo"]["memo_id"] == "CM-1");
  CHECK(ctx["instance"]["id"] == id);
  CHECK(ctx["instance"]["business_key"] == "R1");
  auto calls = h.ext->calls();
  REQUIRE(calls.size() == 2);
  CHECK(calls[0].input == json{{"rma", "R1"}, {"lines", rma("R1", 2, 10)["lines"]}});
  CHECK(calls[1].input == json{{"amount", 20}});  // a quoted template keeps its JSON type
  CHECK(calls[1].idempotency_key == id + ":refund:1");
  auto events = h.history(id);
  check_contiguous(events);
  CHECK(h.event_types(id) == std::vector<EventType>{
                                 EventType::instance_started, EventType::step_entered,
                                 EventType::attempt_started, EventType::step_completed,
                                 EventType::step_entered, EventType::step_completed,  // compute
                                 EventType::step_entered, EventType::step_completed,  // route
                                 EventType::step_entered, EventType::attempt_started,
                                 EventType::step_completed,                           // refund
                                 EventType::step_entered, EventType::instance_ended});
}

TEST_CASE("Runtime.Switch.FirstTrueCaseWins") {
  Harness h(kFlow);
  h.ext->script("authorize", {ok({{"fast", true}}), ok({{"fast", true}})});
  h.ext->script("review", {ok()});
  h.ext->script("refund", {ok()});
  auto big = h.start(rma("R1", 3, 50)).instance_id;  // total 150: first case, though fast
  auto fast = h.start(rma("R2", 1, 10)).instance_id;
  CHECK(h.row(big).status == InstanceStatus::completed);
  std::vector<std::string> steps;
  for (const auto& e : h.history(big))
    if (e.type == EventType::step_entered) steps.push_back(e.step);
  CHECK(steps == std::vector<std::string>{"authorize", "compute", "route", "big", "refund", "done"});
  CHECK(h.row(fast).status == InstanceStatus::completed);
  CHECK(h.history(fast).size() == 10);  // authorize, compute, route, done: no refund
}

TEST_CASE("Runtime.Catch.RoutesWithErrorInContext") {
  Harness h(kFlow);
  h.ext->script("authorize", {business("NotEligible")});
  auto id = h.start(rma("R1")).instance_id;
  auto row = h.row(id);
  CHECK(row.status == InstanceStatus::rejected);
  CHECK(row.step == "rejected");
  auto ctx = h.context(id);
  CHECK(ctx["error"]["code"] == "NotEligible");
  CHECK(ctx["error"]["step"] == "authorize");
  CHECK(ctx["error"]["attempt"] == 1);
  auto types = h.event_types(id);
  CHECK(std::count(types.begin(), types.end(), EventType::catch_routed) == 1);
}

TEST_CASE("Runtime.Suspend.UnhandledFailureOpensIncident") {
  Harness h(kFlow);
  h.ext->script("authorize", {business("CreditHold")});
  auto id = h.start(rma("R1")).instance_id;
  auto row = h.row(id);
  CHECK(row.status == InstanceStatus::suspended);
  CHECK(row.step == "authorize");
  auto incident = testing::incident_of(row);
  CHECK(incident["step"] == "authorize");
  CHECK(incident["error"]["code"] == "CreditHold");
  CHECK(incident["attempts"] == 1);
  CHECK(h.event_types(id).back() == EventType::incident_opened);
  CHECK(h.engine->stats().active_instances == 0);  // a suspended instance is only rows
}

TEST_CASE("Runtime.Switch.NoMatchAndExpressionErrorsSuspend") {
  Harness h(R"(
workflow: sw
version: 1
start: pick
steps:
  pick:
    switch:
      - if: .input.x == 1
        next: done
  done: { end: completed }
)");
  auto nomatch = h.start({{"x", 2}}).instance_id;
  CHECK(h.row(nomatch).status == InstanceStatus::suspended);
  CHECK(testing::incident_of(h.row(nomatch))["error"]["code"] == "NoMatch");
  auto matched = h.start({{"x", 1}}).instance_id;
  CHECK(h.row(matched).status == InstanceStatus::completed);
}

TEST_CASE("Runtime.Task.InputExpressionErrorFailsTheStep") {
  Harness h(R"(
workflow: bad-input
version: 1
start: call
steps:
  call:
    action: ext.op
    with: { n: "${ .input.name | tonumber }" }
    next: done
  done: { end: completed }
)");
  auto id = h.start({{"name", "not-a-number"}}).instance_id;
  auto row = h.row(id);
  CHECK(row.status == InstanceStatus::suspended);
  CHECK(testing::incident_of(row)["error"]["code"] == "ExpressionError");
  CHECK(h.ext->calls().empty());  // nothing invoked with a broken input
}

TEST_CASE("Runtime.Start.BusinessKeyIsIdempotent") {
  Harness h(kFlow);
  auto first = h.start(rma("R1"));
  CHECK(first.created);
  auto again = h.start(rma("R1"));
  CHECK_FALSE(again.created);
  CHECK(again.instance_id == first.instance_id);
  CHECK_THROWS_AS(h.start(rma("R1", 5)), Error);
  try {
    h.start(rma("R1", 5));
  } catch (const Error& e) {
    CHECK(e.code() == Errc::conflict);
  }
  // Two starts for one key in the same commit: one instance.
  StartRequest a{"flow", std::nullopt, rma("R9"), std::nullopt, ""};
  auto fa = h.engine->start(a);
  auto fb = h.engine->start(a);
  h.idle();
  CHECK(fa.get().instance_id == fb.get().instance_id);
  CHECK(h.engine->store().list_instances({}).size() == 2);
}

TEST_CASE("Runtime.Start.RefusesUnknownWorkflowAndNonObjectInput") {
  Harness h(kFlow);
  StartRequest unknown{"nope", std::nullopt, json::object(), std::nullopt, ""};
  auto f1 = h.engine->start(unknown);
  StartRequest array{"flow", std::nullopt, json::array({1}), std::nullopt, ""};
  auto f2 = h.engine->start(array);
  h.idle();
  try {
    f1.get();
    FAIL("expected not_found");
  } catch (const Error& e) {
    CHECK(e.code() == Errc::not_found);
    CHECK(std::string(e.what()).find("nope") != std::string::npos);
  }
  try {
    f2.get();
    FAIL("expected invalid_input");
  } catch (const Error& e) {
    CHECK(e.code() == Errc::invalid_input);
  }
}

TEST_CASE("Runtime.GroupCommit.ManyInstancesShareCommits") {
  Harness h(R"(
workflow: noop
version: 1
start: a
steps:
  a: { action: builtin.noop, next: b }
  b: { action: builtin.noop, next: c }
  c: { action: builtin.noop, next: done }
  done: { end: completed }
)");
  std::vector<std::future<StartResult>> futures;
  for (int i = 0; i < 200; ++i) {
    futures.push_back(h.engine->start(StartRequest{"noop", std::nullopt, {{"i", i}}, std::nullopt, ""}));
  }
  auto before = h.engine->stats();
  h.idle();
  auto after = h.engine->stats();
  for (auto& f : futures) CHECK(h.row(f.get().instance_id).status == InstanceStatus::completed);
  auto events = after.events - before.events;
  auto commits = after.commits - before.commits;
  CHECK(events == 200 * 12);  // started, 3 x (entered, attempt, completed), entered end, ended
  CHECK(commits <= 10);  // one commit per step wave, not one per transition
}

// Batches capped at 16 events: each fills while the one before it is being written, and
// goes to the writer (its rows copied while the engine thread waited) as soon as that one has
// committed. Every instance still makes each call once and completes, its history whole.
TEST_CASE("Runtime.GroupCommit.FullBatchesLoseAndDoubleNothing") {
  Harness h(R"(
workflow: capped
version: 1
start: a
steps:
  a: { action: ext.a, next: b }
  b: { action: ext.b, next: done }
  done: { end: completed }
)");
  h.max_batch_events = 16;
  h.open();
  constexpr int kInstances = 300;
  for (const char* op : {"a", "b"}) h.ext->script(op, std::vector<Outcome>(kInstances, ok()));
  std::vector<std::future<StartResult>> futures;
  for (int i = 0; i < kInstances; ++i) {
    futures.push_back(
        h.engine->start(StartRequest{"capped", std::nullopt, {{"i", i}}, std::nullopt, ""}));
  }
  auto before = h.engine->stats();
  h.idle();
  auto after = h.engine->stats();
  std::map<std::pair<std::string, std::string>, int> calls;
  for (const auto& call : h.ext->calls()) ++calls[{call.instance_id, call.operation}];
  CHECK(calls.size() == 2 * kInstances);
  for (const auto& [call, times] : calls) CHECK(times == 1);
  for (auto& f : futures) {
    auto id = f.get().instance_id;
    CHECK(h.row(id).status == InstanceStatus::completed);
    auto history = h.history(id);
    check_contiguous(history);
    CHECK(history.size() == 9);  // started, 2 x (entered, attempt, completed), entered end, ended
  }
  auto events = after.events - before.events;
  CHECK(events == 9 * kInstances);
  // Cut at the cap (a handler may add a few events past it), not once per wave of steps.
  CHECK(after.commits - before.commits >= events / 32);
}

TEST_CASE("Runtime.Durability.AdapterInvokedOnlyAfterAttemptIsCommitted") {
  // The adapter looks at the database from another connection when it is called: the
  // attempt that caused the call must already be there.
  struct Peeking final : Adapter {
    std::string db;
    std::vector<bool> seen;
    void invoke(const Invocation& call, AdapterHost&, Completion done) override {
      auto reader = open_sqlite_store(db, StoreOptions{SyncMode::normal, true});
      bool found = false;
      for (const auto& e : reader->history(call.instance_id)) {
        if (e.type == EventType::attempt_started && e.step == call.step &&
            json::parse(e.data)["attempt"] == call.attempt) {
          found = true;
        }
      }
      seen.push_back(found);
      done(Outcome::success(json::object()));
    }
    bool has_operation(std::string_view) const override { return true; }
  };
  auto peek = std::make_shared<Peeking>();
  Harness h(R"(
workflow: peek
version: 1
start: a
steps:
  a: { action: peek.one, next: b }
  b: { action: peek.two, next: done }
  done: { end: completed }
)",
            {{"peek", peek}});
  peek->db = h.db;
  auto id = h.start(json::object()).instance_id;
  CHECK(h.row(id).status == InstanceStatus::completed);
  CHECK(peek->seen == std::vector<bool>{true, true});
}

TEST_CASE("Runtime.Start.RefusesInputNestedTooDeep") {
  Harness h(kFlow);
  json deep = json::object();
  json* at = &deep;
  // Far past the limit of 100; moved, never copied (copying JSON is recursive).
  for (int i = 0; i < 2'000; ++i) at = &((*at)["a"] = json::object());
  deep["rma_id"] = "R1";
  StartRequest request;
  request.workflow = "flow";
  request.input = std::move(deep);
  auto future = h.engine->start(std::move(request));
  h.idle();
  try {
    future.get();
    FAIL("a 2,000-level input was accepted");
  } catch (const Error& e) {
    CHECK(e.code() == Errc::invalid_input);
  }
  CHECK(h.engine->store().list_instances({}).empty());
}

TEST_CASE("Runtime.Start.InputMustMatchTheWorkflowSchema") {
  Harness h(R"(
workflow: typed
version: 1
input:
  type: object
  required: [rma_id, lines]
  properties:
    rma_id: { type: string }
    lines:
      type: array
      items:
        type: object
        required: [qty]
        properties:
          qty: { type: integer, minimum: 1 }
start: done
steps:
  done: { end: completed }
)");
  auto start = [&](json input) {
    auto future = h.engine->start(StartRequest{"typed", std::nullopt, std::move(input), std::nullopt, ""});
    h.idle();
    return future;
  };
  auto bad_qty = start({{"rma_id", "R1"}, {"lines", json::array({{{"qty", 2}}, {{"qty", 0}}})}});
  try {
    bad_qty.get();
    FAIL("an input with qty 0 was accepted");
  } catch (const InvalidInput& e) {
    CHECK(e.code() == Errc::invalid_input);
    CHECK(e.pointer() == "/lines/1/qty");
    CHECK(std::string(e.what()).find("/lines/1/qty") != std::string::npos);
  }
  auto missing = start({{"lines", json::array()}});
  try {
    missing.get();
    FAIL("an input without rma_id was accepted");
  } catch (const InvalidInput& e) {
    CHECK(std::string(e.what()).find("rma_id") != std::string::npos);
  }
  CHECK(h.engine->store().list_instances({}).empty());  // nothing started
  auto good = start({{"rma_id", "R1"}, {"lines", json::array({{{"qty", 1}}})}});
  CHECK(h.row(good.get().instance_id).status == InstanceStatus::completed);
}

// ---- issue 11 -------------------------------------------------------------------------------

namespace {

const char* kPriced = R"(
workflow: priced
version: 1
business_key: ${ .input.rma_id }
input:
  type: object
  properties:
    rma_id: { type: string }
    lines:
      type: array
      items:
        type: object
        properties:
          qty: { type: integer, minimum: 1 }
          unit_price: { type: number }
start: done
steps:
  done: { end: completed }
)";

std::future<StartResult> start_priced(Harness& h, const std::string& input) {
  auto future = h.engine->start(StartRequest{"priced", std::nullopt, json::parse(input), std::nullopt, ""});
  h.idle();
  return future;
}

}  // namespace

TEST_CASE("Engine.Issue11.IdempotentStartComparesInputsByValue") {
  Harness h(kPriced);
  auto first = start_priced(h, R"({"rma_id":"R1","lines":[{"qty":1,"unit_price":329}]})").get();
  CHECK(first.created);
  // The same RMA, the price written as a float and the quantity as 1.0: the same input.
  auto again = start_priced(h, R"({"rma_id":"R1","lines":[{"qty":1.0,"unit_price":329.0}]})").get();
  CHECK_FALSE(again.created);
  CHECK(again.instance_id == first.instance_id);
  // Another price is a conflict naming the field.
  auto other = start_priced(h, R"({"rma_id":"R1","lines":[{"qty":1,"unit_price":339}]})");
  try {
    other.get();
    FAIL("a different input was accepted");
  } catch (const InputConflict& e) {
    CHECK(e.code() == Errc::conflict);
    CHECK(e.pointer() == "/lines/0/unit_price");
    CHECK(std::string(e.what()).find("/lines/0/unit_price is 329 there and 339 here") !=
          std::string::npos);
  }
  // Two starts in one batch (the first not committed yet) compare the same way.
  auto a = h.engine->start(StartRequest{"priced", std::nullopt,
                                        json::parse(R"({"rma_id":"R2","lines":[{"qty":2,"unit_price":5}]})"),
                                        std::nullopt, ""});
  auto b = h.engine->start(StartRequest{"priced", std::nullopt,
                                        json::parse(R"({"rma_id":"R2","lines":[{"qty":2.0,"unit_price":5.0}]})"),
                                        std::nullopt, ""});
  auto c = h.engine->start(StartRequest{"priced", std::nullopt,
                                        json::parse(R"({"rma_id":"R2","lines":[{"qty":3,"unit_price":5}]})"),
                                        std::nullopt, ""});
  h.idle();
  CHECK(a.get().instance_id == b.get().instance_id);
  CHECK_THROWS_AS(c.get(), InputConflict);
}

TEST_CASE("Engine.Issue11.IntegersWrittenAsFloatsPassTheSchema") {
  Harness h(kPriced);
  auto started = start_priced(h, R"({"rma_id":"R1","lines":[{"qty":1.0,"unit_price":10}]})").get();
  CHECK(started.created);
  CHECK(h.context(started.instance_id)["input"]["lines"][0]["qty"] == 1);
  CHECK_THROWS_AS(start_priced(h, R"({"rma_id":"R2","lines":[{"qty":1.5,"unit_price":10}]})").get(),
                  InvalidInput);
}

TEST_CASE("Engine.Issue11.SchemaRefusalListsEveryViolation") {
  Harness h(kPriced);
  auto bad = start_priced(h, R"({"rma_id":7,"lines":[{"qty":0,"unit_price":"x"}]})");
  try {
    bad.get();
    FAIL("accepted");
  } catch (const InvalidInput& e) {
    REQUIRE(e.violations().size() == 3);
    std::string what = e.what();
    CHECK(what.find("/rma_id must be a string, not an integer") != std::string::npos);
    CHECK(what.find("/lines/0/qty must be at least 1") != std::string::npos);
    CHECK(what.find("/lines/0/unit_price must be a number, not a string") != std::string::npos);
  }
}

TEST_CASE("Engine.Issue11.DeployRefusesActionsItsAdaptersCannotRun") {
  Harness h(kFlow);
  auto loaded = load_definition(R"(
workflow: typo
version: 1
start: a
steps:
  a:
    action: erp.authorize
    compensate: { action: ext.void }
    next: done
  done: { end: completed }
)", "typo.yaml");
  REQUIRE(loaded.ok());
  try {
    h.engine->deploy(loaded.definition);
    FAIL("deployed");
  } catch (const DefinitionError& e) {
    REQUIRE(e.diagnostics().size() == 1);
    const auto& d = e.diagnostics()[0];
    CHECK(d.code == "unknown-action");
    CHECK(d.where.line == 6);
    CHECK(d.message ==
          "step \"a\" calls erp.authorize, but no adapter named erp is configured (the adapters "
          "are: builtin, ext)");
  }
  CHECK_FALSE(h.engine->store().get_definition("typo", 1).has_value());
}

// A jq error while a step renders its input names the step and the field.
TEST_CASE("Engine.Issue11.ExpressionErrorNamesStepAndField") {
  Harness h(R"(
workflow: render
version: 1
start: a
steps:
  a:
    action: ext.call
    with: { code: "${ .input.n | explode }" }
    next: done
  done: { end: completed }
)");
  auto id = h.start({{"n", 5}}).instance_id;
  auto row = h.row(id);
  REQUIRE(row.status == InstanceStatus::suspended);
  REQUIRE(row.main().incident.has_value());
  const auto& incident = *row.main().incident;
  CHECK(incident.error.code == "ExpressionError");
  CHECK(incident.error.message ==
        "with/code of step \"a\": jq expression \".input.n | explode\" failed: explode input must "
        "be a string");
}

TEST_CASE("Runtime.Suspend.IncidentRoutedByCodeAndContext") {
  // The first route whose errors hold the code and whose condition holds names the team; a
  // condition that raises does not match; a route without errors takes any code.
  Harness h(R"(
workflow: routed
version: 1
incidents:
  - { errors: [CreditHold], if: '${ .input.value > 1000 }', team: finance-leads, sla: 1h }
  - { errors: [CreditHold], team: finance, sla: 4h }
  - { if: '${ .input.region | ascii_downcase == "eu" }', team: eu-desk }
  - { team: returns-ops, sla: 1d }
defaults:
  retry: { max_attempts: 1 }
start: authorize
steps:
  authorize:
    action: ext.authorize
    next: done
  done: { end: completed }
)");
  struct Case {
    json input;
    const char* code;
    const char* team;
    std::optional<Duration> sla;
  };
  for (const auto& c : std::vector<Case>{
           {{{"value", 5000}}, "CreditHold", "finance-leads", Duration(3'600'000)},
           {{{"value", 50}}, "CreditHold", "finance", Duration(4 * 3'600'000)},
           {{{"value", 50}, {"region", "EU"}}, "AddressInvalid", "eu-desk", std::nullopt},
           // .region is a number: ascii_downcase raises, so the route is passed over.
           {{{"value", 50}, {"region", 7}}, "AddressInvalid", "returns-ops", Duration(86'400'000)},
       }) {
    CAPTURE(c.input.dump());
    h.ext->script("authorize", {business(c.code)});
    auto id = h.start(c.input).instance_id;
    auto row = h.row(id);
    REQUIRE(row.status == InstanceStatus::suspended);
    const auto& incident = row.cursors.front().incident;
    REQUIRE(incident.has_value());
    CHECK(incident->team == c.team);
    CHECK(incident->due_at.has_value() == c.sla.has_value());
    if (c.sla) CHECK(*incident->due_at == incident->opened_at + *c.sla);
    // Recorded with the incident, as it opened.
    auto opened = h.history(id).back();
    REQUIRE(opened.type == EventType::incident_opened);
    CHECK(json::parse(opened.data)["team"] == c.team);
  }
  // Stored: an engine opened again on the same database reads the same routes back.
  h.ext->script("authorize", {business("CreditHold")});
  auto first = h.row(h.start({{"value", 9000}}).instance_id);
  REQUIRE(first.cursors.front().incident.has_value());
  CHECK(first.cursors.front().incident->team == "finance-leads");
  h.close();
  h.open();
  auto reread = h.row(first.id);
  REQUIRE(reread.cursors.front().incident.has_value());
  CHECK(reread.cursors.front().incident->team == first.cursors.front().incident->team);
  CHECK(reread.cursors.front().incident->due_at == first.cursors.front().incident->due_at);
}

// A start past EngineOptions::max_running is refused as busy while the instances begun hold
// their calls out, and nothing of it is stored; a start of a business key already begun is
// answered as before; once one of them ends, a start goes in.
TEST_CASE("Runtime.Start.PastMaxRunningIsBusy") {
  Harness h(kFlow);
  h.max_running = 2;
  h.open();
  auto first = h.start(rma("R1")).instance_id;
  h.start(rma("R2"));
  CHECK(h.ext->held() == 2);
  try {
    h.start(rma("R3"));
    FAIL("the third start should have been refused");
  } catch (const Error& error) {
    CHECK(error.code() == Errc::busy);
    CHECK(std::string(error.what()) ==
          "the engine runs as many instances at once as it may (2); start flow again shortly");
  }
  CHECK(h.engine->store().list_instances({}).size() == 2);
  CHECK(h.engine->stats().starts_refused == 1);
  CHECK(h.engine->stats().max_running == 2);
  auto again = h.start(rma("R1"));
  CHECK(again.instance_id == first);
  CHECK_FALSE(again.created);
  h.ext->answer(business("NotEligible"));  // R1 ends rejected
  h.idle();
  CHECK(h.row(first).status == InstanceStatus::rejected);
  auto third = h.start(rma("R3"));
  CHECK(third.created);
  CHECK(h.ext->held() == 2);
}

// The same for EngineOptions::max_running_bytes: a start whose input would take the instances
// running (their rows' text as stored: contexts, cursors, visits, sagas) past it is refused as
// busy, nothing of it stored, while a smaller one that fits goes in; an instance that ends
// gives its bytes back; one past the bound on its own runs when nothing else does; an engine
// opened again counts the rows it loads.
TEST_CASE("Runtime.Start.PastMaxRunningBytesIsBusy") {
  Harness h(kFlow);
  h.max_running_bytes = 10'000;
  h.open();
  auto padded = [](const std::string& id, std::size_t bytes) {
    auto input = rma(id);
    input["notes"] = std::string(bytes, 'x');
    return input;
  };
  auto refused_busy = [&h](const json& input) {
    try {
      h.start(input);
      return false;
    } catch (const Error& error) {
      return error.code() == Errc::busy;
    }
  };
  const auto r1 = padded("R1", 6'000);
  auto first = h.start(r1).instance_id;
  // Its row as committed: its context (the input and .instance), and its cursors, visits and
  // saga.
  const auto first_bytes = h.stored_bytes(first);
  CHECK(first_bytes > h.row(first).context.text().size());
  CHECK(h.row(first).context.text().size() > r1.dump().size());
  CHECK(h.engine->stats().held_bytes == first_bytes);
  try {
    h.start(padded("R2", 6'000));
    FAIL("the second start should have been refused");
  } catch (const Error& error) {
    CHECK(error.code() == Errc::busy);
    const auto sum = first_bytes + padded("R2", 6'000).dump().size();
    CHECK(std::string(error.what()) ==
          fmt::format("the instances the engine runs at once hold as many bytes as they may "
                      "(10000 bytes; {} with this input of {}); start flow again shortly",
                      sum, padded("R2", 6'000).dump().size()));
  }
  CHECK(h.engine->store().list_instances({}).size() == 1);
  CHECK(h.engine->stats().starts_refused == 1);
  CHECK(h.engine->stats().max_running_bytes == 10'000);
  CHECK(h.start(padded("R3", 100)).created);
  CHECK(h.ext->held() == 2);
  h.ext->answer(business("NotEligible"));  // R1 ends rejected
  h.ext->answer(business("NotEligible"));  // R3 too
  h.idle();
  CHECK(h.row(first).status == InstanceStatus::rejected);
  CHECK(h.engine->stats().active_instances == 0);
  CHECK(h.engine->stats().held_bytes == 0);
  // Alone past the bound: it runs, and holds the next start off.
  auto big = h.start(padded("R4", 20'000));
  CHECK(big.created);
  CHECK(refused_busy(padded("R5", 10)));
  // Loaded again, it is counted for its row as stored.
  h.close();
  h.open();
  CHECK(h.engine->stats().active_instances == 1);
  CHECK(h.engine->stats().held_bytes == h.stored_bytes(big.instance_id));
  CHECK(h.engine->stats().held_bytes > padded("R4", 20'000).dump().size());
  CHECK(refused_busy(padded("R5", 10)));
  CHECK(h.engine->store().list_instances({}).size() == 3);
}

// A running instance is counted for its row as last committed, its context with the results
// its steps kept: a start that its input alone would let in is refused once an answer has grown
// the context of one already running.
TEST_CASE("Runtime.Start.MaxRunningBytesCountsTheResultsKept") {
  Harness h(kFlow);
  h.max_running_bytes = 20'000;
  h.open();
  h.ext->script("authorize", {ok({{"fast", false}, {"note", std::string(12'000, 'y')}})});
  auto id = h.start(rma("R1")).instance_id;
  h.idle();
  REQUIRE(h.ext->held() == 1);  // the refund's call, with .authorization in the context
  CHECK(h.row(id).status == InstanceStatus::running);
  const auto held = h.engine->stats().held_bytes;
  CHECK(held > 12'000);
  CHECK(held == h.stored_bytes(id));
  json big = rma("R2");
  big["notes"] = std::string(9'000, 'x');
  try {
    h.start(big);
    FAIL("the start should have been refused");
  } catch (const Error& error) {
    CHECK(error.code() == Errc::busy);
  }
  h.ext->answer(ok({{"memo_id", "CM-1"}}));
  h.idle();
  CHECK(h.row(id).status == InstanceStatus::completed);
  CHECK(h.engine->stats().held_bytes == 0);
  CHECK(h.start(big).created);
}
