// The lints: one small fixture per code, asserting its line and column, and the shapes that
// must not be reported. Fixtures built with with_steps() start their steps on line 5.
#include <doctest/doctest.h>

#include "engine/dsl/jq_references.hpp"
#include "tests/dsl/dsl_test_support.hpp"

using namespace rmaflow;
using namespace rmaflow::dsl_testing;

namespace {

const Diagnostic* warning(const LoadResult& r, const std::string& code) {
  const Diagnostic* d = find(r, code);
  if (d != nullptr) CHECK(d->severity == Severity::warning);
  return d;
}

bool contains_text(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::vector<std::string> reads(const std::string& program) {
  std::vector<std::string> out;
  for (const auto& r : dsl::context_reads(program)) out.push_back(r.key);
  return out;
}

}  // namespace

TEST_CASE("Dsl.Lint.SwitchWithoutDefaultThatMayMatchNothing") {
  auto r = load(with_steps(R"(  a:
    switch:
      - if: .input.big
        next: b
  b: { end: completed }
)"));
  REQUIRE_LOADED(r);
  CHECK_DIAG(r, "switch-no-default", 6, 5);
  REQUIRE(warning(r, "switch-no-default") != nullptr);
  CHECK(warning(r, "switch-no-default")->message ==
        "switch step \"a\" has no default and its conditions may all be false; the instance "
        "would then suspend with NoMatch: add a default");
}

TEST_CASE("Dsl.Lint.ExhaustiveSwitchesNeedNoDefault") {
  for (const char* cases : {
           "      - if: .input.n > 3\n        next: b\n      - if: .input.n <= 3\n        next: b\n",
           "      - if: .input.kind == \"a\"\n        next: b\n"
           "      - if: .input.kind != \"a\"\n        next: b\n",
           "      - if: .input.ok\n        next: b\n      - if: .input.ok | not\n        next: b\n",
           "      - if: (.input.ok)\n        next: b\n      - if: true\n        next: b\n",
       }) {
    auto r = load(with_steps(std::string("  a:\n    switch:\n") + cases +
                             "  b: { end: completed }\n"));
    INFO(cases);
    REQUIRE_LOADED(r);
    CHECK(count(r, "switch-no-default") == 0);
  }
  // Same operands, but not opposite operators: still not exhaustive.
  auto r = load(with_steps(R"(  a:
    switch:
      - if: .input.n > 3
        next: b
      - if: .input.n < 3
        next: b
  b: { end: completed }
)"));
  CHECK_DIAG(r, "switch-no-default", 6, 5);
}

TEST_CASE("Dsl.Lint.ResultOverwritesAnotherStepsResult") {
  auto r = load(with_steps(R"(  a:
    action: x.y
    result: label
    next: b
  b:
    action: x.z
    result: label
    next: c
  c: { end: completed }
)"));
  REQUIRE_LOADED(r);
  CHECK_DIAG(r, "result-overwrites", 11, 13);
  CHECK(count(r, "result-overwrites") == 1);  // a, written first, is not reported
  CHECK(warning(r, "result-overwrites")->message ==
        "result \"label\" of step \"b\" overwrites .label, which step \"a\" can write before it; "
        "give each its own name");
}

TEST_CASE("Dsl.Lint.ResultOverwritesSetKeyButNotExclusiveBranchesOrUpdates") {
  auto r = load(with_steps(R"(  a:
    switch:
      - if: .input.x
        next: b
    default: c
  b:
    action: x.y
    result: decision
    next: d
  c:
    action: x.z
    result: decision
    next: d
  d:
    set:
      total: 1
    next: e
  e:
    set:
      total: ${ .total + 1 }
    next: f
  f:
    set:
      decision: overridden
    next: g
  g: { end: completed }
)"));
  REQUIRE_LOADED(r);
  // b and c write .decision on exclusive branches; e updates .total from itself; f overwrites.
  CHECK(count(r, "result-overwrites") == 1);
  CHECK_DIAG(r, "result-overwrites", 28, 7);
}

TEST_CASE("Dsl.Lint.ResultNamedLikeTheEnginesKeysIsAnError") {
  auto r = load(with_steps(R"(  a:
    action: x.y
    result: error
    next: b
  b: { end: completed }
)"));
  CHECK_FALSE(r.ok());
  CHECK_DIAG(r, "result-overwrites", 7, 13);
  CHECK(find(r, "result-overwrites")->severity == Severity::error);
}

TEST_CASE("Dsl.Lint.ReferenceToAFieldNoStepWritesBeforeIt") {
  auto r = load(with_steps(R"(  a:
    action: x.y
    with: { amount: "${ .refund_amount }" }
    next: b
  b:
    set:
      refund_amount: 5
    next: c
  c: { end: completed }
)"));
  REQUIRE_LOADED(r);
  CHECK_DIAG(r, "undefined-reference", 7, 21);
  CHECK(warning(r, "undefined-reference")->message ==
        ".refund_amount in with/amount of step \"a\" is never written before it runs: no step on "
        "a path from the start to it writes it as a result or set key; step \"b\" writes it, "
        "but only later");
}

TEST_CASE("Dsl.Lint.ReferenceSuggestsTheNearestKey") {
  auto r = load(with_steps(R"(  a:
    action: x.y
    result: authorization
    next: b
  b:
    switch:
      - if: .authorisation.ok
        next: c
    default: c
  c: { end: completed }
)"));
  CHECK_DIAG(r, "undefined-reference", 11, 13);
  CHECK(warning(r, "undefined-reference")->message.find("; did you mean .authorization?") !=
        std::string::npos);
}

TEST_CASE("Dsl.Lint.ErrorIsVisibleOnlyAfterACatch") {
  auto r = load(with_steps(R"(  a:
    action: x.y
    catch:
      - errors: [any]
        next: handled
    next: b
  b:
    set:
      why: ${ .error.code }
    next: c
  handled:
    set:
      why: ${ .error.code }
    next: c
  c: { end: completed }
)"));
  REQUIRE_LOADED(r);
  CHECK(count(r, "undefined-reference") == 1);
  CHECK_DIAG(r, "undefined-reference", 13, 12);
  CHECK(warning(r, "undefined-reference")->message.find("only a catch target") !=
        std::string::npos);
}

TEST_CASE("Dsl.Lint.ReferencesThatAreWrittenOnSomePathAreNotReported") {
  auto r = load(R"(workflow: t
version: 1
business_key: ${ .input.rma_id }
start: a
steps:
  a:
    action: x.y
    with: { lines: "${ [.input.lines[] | .qty * .unit_price] }" }
    result: label
    compensate:
      action: x.undo
      with: { id: "${ .label.id }" }
    next: b
  b:
    set:
      gross: ${ .label.total }
      net: ${ .gross * 0.9 }
      count: ${ .input.lines | map(.qty) | add }
      id: ${ .instance.id }
    next: c
  c: { end: completed }
)");
  REQUIRE_LOADED(r);
  CHECK(count(r, "undefined-reference") == 0);
}

TEST_CASE("Dsl.Lint.BusinessKeySeesOnlyTheInput") {
  auto r = load(R"(workflow: t
version: 1
business_key: ${ .instance.id }
start: a
steps:
  a: { end: completed }
)");
  REQUIRE_LOADED(r);
  CHECK_DIAG(r, "undefined-reference", 3, 15);
}

TEST_CASE("Dsl.Lint.SignalWaitWithoutTimeout") {
  auto r = load(with_steps(R"(  a:
    wait: { signal: warehouse.received }
    next: b
  b:
    wait: { signal: warehouse.received, timeout: 30d }
    on_timeout: c
    next: c
  c:
    wait: { duration: 2h }
    next: d
  d: { end: completed }
)"));
  REQUIRE_LOADED(r);
  CHECK(count(r, "wait-without-timeout") == 1);
  CHECK_DIAG(r, "wait-without-timeout", 6, 5);
}

TEST_CASE("Dsl.Lint.EndReachedOnlyThroughCompensation") {
  auto r = load(with_steps(R"(  a:
    action: x.y
    next: b
  b:
    end: { status: completed, compensate: true }
)"));
  REQUIRE_LOADED(r);
  CHECK(count(r, "end-only-via-compensation") == 2);
  CHECK_DIAG(r, "end-only-via-compensation", 9, 5);  // completed, yet it undoes everything
  CHECK_DIAG(r, "end-only-via-compensation", 3, 8);  // no end finishes without undoing

  auto fine = load(with_steps(R"(  a:
    action: x.y
    catch:
      - errors: [any]
        next: undo
    next: b
  b: { end: completed }
  undo:
    end: { status: failed, compensate: true }
)"));
  REQUIRE_LOADED(fine);
  CHECK(count(fine, "end-only-via-compensation") == 0);
}

TEST_CASE("Dsl.Lint.JqEnvironmentAccessIsRefused") {
  auto r = load(with_steps(R"(  a:
    set:
      home: ${ env.HOME }
      path: ${ $ENV.PATH }
      env_note: "${ {env: 1} }"
    next: b
  b: { end: completed }
)"));
  CHECK_FALSE(r.ok());
  CHECK_DIAG(r, "jq-env", 7, 13);
  CHECK_DIAG(r, "jq-env", 8, 13);
  CHECK(count(r, "jq-env") == 2);  // an object key named env is not a read
  CHECK(find(r, "jq-env")->message ==
        "jq expression \"env.HOME\" in set/home of step \"a\" reads the environment (env); "
        "expressions may read only the instance context");
}

TEST_CASE("Dsl.Lint.ContextReadsFollowWhatDotMeans") {
  CHECK(reads(".refund_amount > 2000") == std::vector<std::string>{"refund_amount"});
  CHECK(reads("[.input.lines[] | .qty * .unit_price] | add") == std::vector<std::string>{"input"});
  CHECK(reads(".a as $x | .b + $x.c") == std::vector<std::string>{"a", "b"});
  CHECK(reads("select(.a) | .b") == std::vector<std::string>{"a"});
  CHECK(reads("map(.qty) | .total") == std::vector<std::string>{});
  CHECK(reads("reduce .items[] as $i (0; . + $i.qty + .extra)") ==
        std::vector<std::string>{"items"});
  CHECK(reads("if .a then .b else .c end") == std::vector<std::string>{"a", "b", "c"});
  CHECK(reads("{x: .a, y: [.b, .a]}") == std::vector<std::string>{"a", "b"});
  CHECK(reads("\"RMA \\(.input.rma_id)\"") == std::vector<std::string>{"input"});
  CHECK(reads("try .a catch .b") == std::vector<std::string>{"a"});
  CHECK(reads("limit(2; .a[]); .b") == std::vector<std::string>{"a", "b"});
  CHECK(reads(".a.b.c") == std::vector<std::string>{"a"});
  CHECK(reads(".a |= .b") == std::vector<std::string>{"a"});
}

// ---- issue 11: mistakes caught at the first moment possible ---------------------------------

TEST_CASE("Dsl.Lint.Issue11.SwitchConditionThatCannotBeBoolean") {
  for (const char* condition : {R"(.input.kind = "x")", R"(.input.n |= 1)", R"({a: .input.kind})",
                                R"([.input.kind])", R"("yes")", "42", R"(.input | .kind += "x")"}) {
    INFO(condition);
    auto r = load(with_steps(std::string("  a:\n    switch:\n      - if: '") + condition +
                             "'\n        next: b\n    default: b\n  b: { end: completed }\n"));
    REQUIRE_LOADED(r);
    CHECK_DIAG(r, "switch-not-boolean", 7, 13);
    REQUIRE(warning(r, "switch-not-boolean") != nullptr);
    CHECK(contains_text(warning(r, "switch-not-boolean")->message, "always matches"));
  }
  for (const char* condition :
       {R"(.input.kind == "x")", R"(.input.kind != "x")", R"(.input.n >= 1)", R"(.input.n < 1)",
        R"(.input.ok | not)", R"(.input.ok and .input.fine)", R"(.input.ok // false)",
        R"({a: 1} | .a == 1)", R"(.input.tags | contains(["x"]))", R"(.input.ok)",
        R"(if .input.ok then true else false end)", R"(.input.kind | test("^a"))"}) {
    INFO(condition);
    auto r = load(with_steps(std::string("  a:\n    switch:\n      - if: '") + condition +
                             "'\n        next: b\n    default: b\n  b: { end: completed }\n"));
    REQUIRE_LOADED(r);
    CHECK(count(r, "switch-not-boolean") == 0);
  }
}

TEST_CASE("Dsl.Lint.Issue11.SwitchConditionNotBooleanFailsStrict") {
  auto r = load(with_steps(R"(  a:
    switch:
      - if: .input.kind = "refund"
        next: b
    default: b
  b: { end: completed }
)"));
  REQUIRE_LOADED(r);
  const Diagnostic* d = warning(r, "switch-not-boolean");
  REQUIRE(d != nullptr);
  CHECK(d->message ==
        "the condition \".input.kind = \"refund\"\" of a case of switch step \"a\" is an "
        "assignment, which outputs the whole input with the change made, never true or false: jq "
        "takes it as true, so the case always matches; compare with == (or test with a function "
        "that gives true or false)");
}

// The fixture schema declares rma_id, invoice_id and lines [{sku, qty, unit_price}].
TEST_CASE("Dsl.Lint.Issue11.InputFieldTheSchemaDoesNotDeclare") {
  auto r = load(R"(workflow: t
version: 1
input: schemas/rma.schema.json
start: a
steps:
  a:
    action: erp.authorize
    with:
      rma: ${ .input.rma_id }
      reason: ${ .input.reason_code }
      qty: ${ .input.lines[0].qtty }
      all: ${ [.input.lines[] | .qty] }
      ok: ${ .input.lines[].sku }
    next: b
  b: { end: completed }
)");
  REQUIRE_LOADED(r);
  INFO(listing(r));
  CHECK(count(r, "undeclared-input") == 2);
  CHECK_DIAG(r, "undeclared-input", 10, 15);
  CHECK_DIAG(r, "undeclared-input", 11, 12);
  const Diagnostic* d = warning(r, "undeclared-input");
  REQUIRE(d != nullptr);
  CHECK(d->message ==
        ".input.reason_code in with/reason of step \"a\" reads a field the input schema does not "
        "declare (under .input it declares: invoice_id, lines, rma_id)");
  for (const auto& diag : r.diagnostics) {
    if (diag.code == "undeclared-input" && diag.where.line == 11) {
      CHECK(diag.message ==
            ".input.lines[0].qtty in with/qty of step \"a\" reads a field the input schema does "
            "not declare (under .input.lines[0] it declares: qty, sku, unit_price)");
    }
  }
}

TEST_CASE("Dsl.Lint.Issue11.InputReadsWithoutASchemaOrBeyondItAreNotReported") {
  // No schema: nothing to compare with.
  auto r = load(with_steps("  a:\n    action: erp.x\n    with: { v: \"${ .input.anything }\" }\n"
                           "    next: b\n  b: { end: completed }\n"));
  REQUIRE_LOADED(r);
  CHECK(count(r, "undeclared-input") == 0);
  // A schema the check cannot see through (a combinator) is not second-guessed.
  auto open = load(R"(workflow: t
version: 1
input: { type: object, anyOf: [ { properties: { a: { type: string } } } ] }
start: a
steps:
  a:
    action: erp.x
    with: { v: "${ .input.b }" }
    next: b
  b: { end: completed }
)");
  REQUIRE_LOADED(open);
  CHECK(count(open, "undeclared-input") == 0);
}

TEST_CASE("Dsl.Lint.Issue11.ShippedWorkflowsReadOnlyDeclaredInput") {
  for (const auto& file : shipped_workflows()) {
    auto r = load_definition_file(file);
    INFO(file, "\n", listing(r));
    REQUIRE(r.ok());
    CHECK(count(r, "undeclared-input") == 0);
    CHECK(count(r, "switch-not-boolean") == 0);
  }
}
