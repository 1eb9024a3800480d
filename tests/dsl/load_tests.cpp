// Loading into the model: the standard example, defaults and their merge, scalar typing, hashing.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "tests/dsl/dsl_test_support.hpp"

using namespace rmaflow;
using namespace rmaflow::dsl_testing;
using nlohmann::json;

namespace {
std::string read_fixture(const std::string& name) {
  std::ifstream in(fixtures_dir() + "/" + name);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}
}  // namespace

TEST_CASE("Dsl.Load.StandardReturn") {
  auto r = load_definition_file(fixtures_dir() + "/standard_return.yaml");
  REQUIRE_LOADED(r);
  INFO(listing(r));
  // The design's example authorizes (a read) before its credit-memo pivot without a
  // compensation: the one warning it gets.
  REQUIRE(r.diagnostics.size() == 1);
  CHECK(r.diagnostics[0].code == "uncompensated-before-pivot");
  CHECK(r.diagnostics[0].message.find("\"authorize\"") != std::string::npos);
  const Definition& d = *r.definition;
  CHECK(d.name == "standard-return");
  CHECK(d.version == 1);
  CHECK(d.start == "authorize");
  CHECK(d.steps.size() == 9);
  CHECK(d.on_failure == FailurePolicy::suspend);
  CHECK(d.sla == parse_duration("14d"));
  REQUIRE(d.input_schema);
  CHECK((*d.input_schema)["required"] == json({"rma_id", "invoice_id", "lines"}));
  REQUIRE(d.business_key);
  CHECK(d.business_key->evaluate({{"input", {{"rma_id", "R-9"}}}}) == "R-9");
  CHECK(d.default_timeout == Duration(30'000));
  CHECK(d.content_hash.size() == 64);
  CHECK(d.source.find("standard-return") != std::string::npos);
  CHECK(d.file.ends_with("standard_return.yaml"));

  const Step* authorize = d.find("authorize");
  REQUIRE(authorize);
  REQUIRE(authorize->task());
  CHECK(authorize->task()->adapter == "erp");
  CHECK(authorize->task()->operation == "authorize_return");
  CHECK(authorize->result == "authorization");
  CHECK(authorize->next == "route");
  REQUIRE(authorize->task()->catches.size() == 1);
  CHECK(authorize->task()->catches[0].errors == std::vector<std::string>{"NotEligible"});
  CHECK(authorize->task()->catches[0].next == "rejected");
  CHECK(authorize->task()->catches[0].where.line == 21);
  CHECK(authorize->where.line == 14);
  CHECK(authorize->where.column == 3);
  json input = {{"input", {{"invoice_id", "I-1"}, {"lines", json::array({1})}}}};
  CHECK(authorize->task()->with.render(input) ==
        json({{"invoice_id", "I-1"}, {"lines", json::array({1})}}));
  CHECK(authorize->successors() == std::vector<std::string>{"route", "rejected"});

  const Step* route = d.find("route");
  REQUIRE(route);
  CHECK(route->kind() == StepKind::switch_);
  const auto& sw = std::get<SwitchStep>(route->body);
  REQUIRE(sw.cases.size() == 1);
  CHECK(sw.cases[0].condition.source() == ".authorization.returnless");
  CHECK(sw.cases[0].next == "compute");
  CHECK(sw.default_next == "issue_label");

  const Step* label = d.find("issue_label");
  REQUIRE(label);
  REQUIRE(label->task()->compensate);
  CHECK(label->task()->compensate->adapter == "carrier");
  CHECK(label->task()->compensate->operation == "void_label");
  CHECK(label->task()->compensate->with.render({{"label", {{"label_id", "L1"}}}}) ==
        json({{"label_id", "L1"}}));

  const Step* wait = d.find("await_receipt");
  REQUIRE(wait);
  const auto& w = std::get<WaitStep>(wait->body);
  CHECK(w.signal == "warehouse.received");
  CHECK(w.timeout == parse_duration("30d"));
  CHECK_FALSE(w.duration);
  CHECK(w.on_timeout == "expired");
  CHECK(wait->result == "receipt");
  CHECK(wait->next == "compute");

  const Step* compute = d.find("compute");
  REQUIRE(compute);
  const auto& set = std::get<SetStep>(compute->body);
  REQUIRE(set.assignments.size() == 1);
  CHECK(set.assignments[0].first == "refund_amount");
  json lines = {
      {"input",
       {{"lines", json::parse(R"([{"qty":2,"unit_price":10},{"qty":1,"unit_price":3}])")}}}};
  CHECK(set.assignments[0].second.render(lines) == 23);

  const Step* refund = d.find("refund");
  REQUIRE(refund);
  CHECK(refund->task()->pivot);
  CHECK(refund->task()->timeout == Duration(120'000));

  const Step* expired = d.find("expired");
  REQUIRE(expired);
  const auto& end = std::get<EndStep>(expired->body);
  CHECK(end.status == InstanceStatus::expired);
  CHECK(end.compensate);
  CHECK(std::get<EndStep>(d.find("done")->body).status == InstanceStatus::completed);
  CHECK_FALSE(std::get<EndStep>(d.find("done")->body).compensate);
}

TEST_CASE("Dsl.Load.RetryDefaultsMergeKeyByKey") {
  auto r = load(R"(workflow: t
version: 1
defaults:
  timeout: 10s
  retry: { max_attempts: 4, interval: 1s, backoff: 3, jitter: full, errors: [any, NotEligible] }
start: a
steps:
  a:
    action: x.y
    retry: { max_attempts: 2, max_interval: 1m }
    compensate:
      action: x.undo
      retry: { interval: 5s }
      timeout: 1m
    next: b
  b:
    action: x.z
    timeout: 2s
    next: c
  c: { end: completed }
)");
  REQUIRE_LOADED(r);
  const Definition& d = *r.definition;
  CHECK(d.default_retry.max_attempts == 4);
  const TaskStep& a = *d.find("a")->task();
  CHECK(a.retry.max_attempts == 2);
  CHECK(a.retry.interval == Duration(1000));
  CHECK(a.retry.backoff == 3.0);
  CHECK(a.retry.max_interval == Duration(60'000));
  CHECK(a.retry.jitter == Jitter::full);
  CHECK(a.retry.errors == std::vector<std::string>{"any", "NotEligible"});
  CHECK(a.timeout == Duration(10'000));
  REQUIRE(a.compensate);
  CHECK(a.compensate->retry.max_attempts == 4);  // the workflow defaults, not the step's retry
  CHECK(a.compensate->retry.interval == Duration(5000));
  CHECK(a.compensate->timeout == Duration(60'000));
  CHECK(a.compensate->with.raw() == json::object());
  const TaskStep& b = *d.find("b")->task();
  CHECK(b.retry.max_attempts == 4);
  CHECK(b.timeout == Duration(2000));
}

TEST_CASE("Dsl.Load.BuiltInDefaults") {
  auto r = load(with_steps("  a:\n    action: x.y\n    next: b\n  b: { end: failed }\n"));
  REQUIRE_LOADED(r);
  const TaskStep& a = *r.definition->find("a")->task();
  CHECK(a.timeout == Duration(30'000));
  CHECK(a.retry.max_attempts == 5);
  CHECK(a.retry.interval == Duration(2000));
  CHECK(a.retry.errors == std::vector<std::string>{"any"});
  CHECK(a.with.raw() == json::object());
  CHECK_FALSE(r.definition->input_schema);
  CHECK_FALSE(r.definition->business_key);
  CHECK(std::get<EndStep>(r.definition->find("b")->body).status == InstanceStatus::failed);
}

TEST_CASE("Dsl.Load.ScalarsAreTyped") {
  auto r = load(with_steps(R"(  a:
    action: x.y
    with:
      yes_bool: true
      no_bool: False
      nothing: null
      tilde: ~
      empty:
      int: 42
      negative: -7
      hex: 0x10
      float: 1.5
      exp: 2e3
      quoted_int: "42"
      single_quoted_bool: 'true'
      text: plain text
      word_yes: yes
      tagged: !!str 12
      block: |
        two
        lines
      list: [1, "2", three, "${ .x }"]
    next: b
  b: { end: completed }
)"));
  REQUIRE_LOADED(r);
  json with = r.definition->find("a")->task()->with.raw();
  CHECK(with["yes_bool"] == true);
  CHECK(with["no_bool"] == false);
  CHECK(with["nothing"].is_null());
  CHECK(with["tilde"].is_null());
  CHECK(with["empty"].is_null());
  CHECK(with["int"].is_number_integer());
  CHECK(with["int"] == 42);
  CHECK(with["negative"] == -7);
  CHECK(with["hex"] == 16);
  CHECK(with["float"] == 1.5);
  CHECK(with["exp"] == 2000.0);
  CHECK(with["quoted_int"] == "42");
  CHECK(with["single_quoted_bool"] == "true");
  CHECK(with["text"] == "plain text");
  CHECK(with["word_yes"] == "yes");  // YAML 1.2: yes is a string
  CHECK(with["tagged"] == "12");
  CHECK(with["block"] == "two\nlines\n");
  CHECK(with["list"] == json({1, "2", "three", "${ .x }"}));
  CHECK(r.definition->find("a")->task()->with.holes().size() == 1);
}

TEST_CASE("Dsl.Load.ContentHashIgnoresFormatting") {
  std::string base = read_fixture("standard_return.yaml");
  auto original = load(base);
  REQUIRE_LOADED(original);

  // Same content: comments dropped, flow and block styles swapped, keys reordered, quoting.
  auto reformatted = load(R"(version: 1
workflow: "standard-return"
description: Standard RMA - authorize, label, receive, refund
input: schemas/rma.schema.json
business_key: "${ .input.rma_id }"
on_failure: suspend
sla: 14d
defaults:
  retry:
    max_attempts: 5
    interval: 2s
    backoff: 2.0
    max_interval: 5m
    jitter: none
    errors:
      - any
  timeout: 30s
start: authorize
steps:
  done: { end: completed }
  rejected: { end: rejected }
  expired:
    end:
      status: expired
      compensate: true
  authorize:
    action: erp.authorize_return
    with: { invoice_id: "${ .input.invoice_id }", lines: "${ .input.lines }" }
    result: authorization
    catch: [ { errors: [NotEligible], next: rejected } ]
    next: route
  route:
    switch:
      - { if: .authorization.returnless, next: compute }
    default: issue_label
  issue_label:
    action: carrier.create_label
    with:
      rma_id: ${ .input.rma_id }
    result: label
    retry: { max_attempts: 3 }
    compensate:
      action: carrier.void_label
      with:
        label_id: ${ .label.label_id }
    next: await_receipt
  await_receipt:
    wait:
      signal: warehouse.received
      timeout: 30d
    result: receipt
    on_timeout: expired
    next: compute
  compute:
    set: { refund_amount: "${ [.input.lines[] | .qty * .unit_price] | add }" }
    next: refund
  refund:
    action: erp.post_credit_memo
    with:
      amount: ${ .refund_amount }
    pivot: true
    timeout: 2m
    next: done
)");
  REQUIRE_LOADED(reformatted);
  CHECK(reformatted.definition->content_hash == original.definition->content_hash);
  CHECK(reformatted.definition->source != original.definition->source);

  std::string changed = base;
  changed.replace(changed.find("timeout: 2m"), 11, "timeout: 3m");
  auto other = load(changed);
  REQUIRE_LOADED(other);
  CHECK(other.definition->content_hash != original.definition->content_hash);
}

TEST_CASE("Dsl.Load.ContentHashCoversTheInputSchema") {
  auto with_schema = [](const std::string& schema) {
    return "workflow: t\nversion: 1\ninput: " + schema +
           "\nstart: a\nsteps:\n  a: { end: completed }\n";
  };
  auto a = load(with_schema("{ type: object }"));
  auto b = load(with_schema("{ type: object, required: [x] }"));
  auto file = load(with_schema("schemas/rma.schema.json"));
  REQUIRE_LOADED(a);
  REQUIRE_LOADED(b);
  REQUIRE_LOADED(file);
  CHECK(a.definition->content_hash != b.definition->content_hash);
  CHECK((*a.definition->input_schema) == json({{"type", "object"}}));
  CHECK((*file.definition->input_schema)["type"] == "object");
}

TEST_CASE("Dsl.Load.SwitchConditionMayBeATemplate") {
  auto r = load(with_steps(R"(  a:
    switch:
      - if: ${ .input.n > 2 }
        next: big
      - if: true
        next: small
  big: { end: completed }
  small: { end: rejected }
)"));
  REQUIRE_LOADED(r);
  const auto& sw = std::get<SwitchStep>(r.definition->find("a")->body);
  REQUIRE(sw.cases.size() == 2);
  CHECK(sw.cases[0].condition.source() == ".input.n > 2");
  CHECK(sw.cases[0].condition.test({{"input", {{"n", 3}}}}));
  CHECK(sw.cases[0].where.line == 7);
  CHECK(sw.default_next.empty());
}

TEST_CASE("Dsl.Load.DurationWait") {
  auto r = load(
      with_steps("  a:\n    wait: { duration: 250ms }\n    next: b\n  b: { end: completed }\n"));
  REQUIRE_LOADED(r);
  const auto& w = std::get<WaitStep>(r.definition->find("a")->body);
  CHECK(w.signal.empty());
  CHECK(w.duration == Duration(250));
  CHECK_FALSE(w.timeout);
}

TEST_CASE("Dsl.Load.DefinitionErrorCarriesDiagnostics") {
  auto r = load("workflow: t\n");
  CHECK_FALSE(r.ok());
  DefinitionError error(r.diagnostics);
  CHECK(error.code() == Errc::invalid_definition);
  CHECK(std::string(error.what()).find("test.yaml:1:1: error[missing-key]") != std::string::npos);
}

// A definition read back from the store was checked when it was deployed: its jq programs
// compile when they first run. A file being checked reports every program that does not compile.
TEST_CASE("Dsl.Load.StoredDefinitionsCompileTheirProgramsOnFirstUse") {
  const std::string yaml = R"(workflow: t
version: 1
start: route
steps:
  route:
    switch:
      - if: .input.a | foo(
        next: done
    default: done
  done: { end: completed }
)";
  auto checked = load(yaml);
  REQUIRE_FALSE(checked.ok());
  CHECK(checked.diagnostics.front().code == "jq-compile");

  auto now = load_stored_definition(yaml, "t.yaml", "", Compilation::now);
  CHECK_FALSE(now.ok());
  auto stored = load_stored_definition(yaml, "t.yaml", "", Compilation::on_first_use);
  REQUIRE(stored.ok());
  const auto& route = std::get<SwitchStep>(stored.definition->find("route")->body);
  REQUIRE(route.cases.size() == 1);
  CHECK_THROWS_WITH_AS(route.cases[0].condition.test(json::object()),
                       doctest::Contains("does not compile"), ExpressionError);
}

namespace {

// The first error's code, or "" when the text loads.
std::string first_error(const LoadResult& r) {
  for (const auto& d : r.diagnostics)
    if (d.severity == Severity::error) return d.code;
  return "";
}

}  // namespace

TEST_CASE("Dsl.Load.Issue12.HostileFilesAreRefusedBeforeAnyWork") {
  SUBCASE("billion laughs: aliases standing for 10^10 nodes") {
    std::string yaml = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
    for (int i = 1; i <= 10; ++i) {
      std::string list;
      for (int k = 0; k < 10; ++k) list += (k ? ", *a" : "*a") + std::to_string(i - 1);
      yaml += fmt::format("a{}: &a{} [{}]\n", i, i, list);
    }
    yaml += "workflow: bomb\nversion: 1\nstart: s\nsteps:\n  s: { end: completed }\n";
    auto r = load(yaml);
    CHECK_FALSE(r.ok());
    CHECK(first_error(r) == "yaml-too-large");
  }
  SUBCASE("an alias inside the node it names") {
    auto r = load("workflow: &w [*w]\nversion: 1\n");
    CHECK_FALSE(r.ok());
    CHECK(first_error(r) == "yaml-alias");
  }
  SUBCASE("nested past the bound") {
    auto r = load("workflow: t\nversion: 1\nx: " + std::string(200, '[') + std::string(200, ']') + "\n");
    CHECK_FALSE(r.ok());
    CHECK(first_error(r) == "yaml-too-deep");
  }
  SUBCASE("not UTF-8, with where") {
    auto r = load("workflow: t\nversion: 1\ndescription: caf\xE9\n");
    CHECK_FALSE(r.ok());
    REQUIRE(first_error(r) == "yaml-encoding");
    CHECK(r.diagnostics.front().where.line == 3);
    CHECK(r.diagnostics.front().where.column == 17);
  }
  SUBCASE("larger than a workflow file may be") {
    auto r = load("workflow: t\nversion: 1\ndescription: " + std::string(2 << 20, 'x') + "\n");
    CHECK_FALSE(r.ok());
    CHECK(first_error(r) == "yaml-too-large");
  }
}
