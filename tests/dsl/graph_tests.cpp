// The graph checks: unreachable steps, and steps from which no end step is reachable.
#include <doctest/doctest.h>

#include "tests/dsl/dsl_test_support.hpp"

using namespace rmaflow;
using namespace rmaflow::dsl_testing;

TEST_CASE("Dsl.Graph.UnreachableStep") {
  auto r = load(with_steps(R"(  a:
    action: x.y
    next: b
  orphan:
    action: x.y
    next: b
  b: { end: completed }
  c: { end: failed }
)"));
  CHECK_DIAG(r, "unreachable-step", 8, 3);
  CHECK_DIAG(r, "unreachable-step", 12, 3);
  CHECK(count(r, "unreachable-step") == 2);
  CHECK(find(r, "unreachable-step")->message ==
        "step \"orphan\" is not reachable from the start step \"a\"");
}

TEST_CASE("Dsl.Graph.NoPathToEndReportedOncePerLoop") {
  auto r = load(with_steps(R"(  a:
    action: x.y
    next: l1
  l1:
    set: { n: 1 }
    next: l2
  l2:
    wait: { duration: 1s }
    next: l1
)"));
  REQUIRE(count(r, "no-path-to-end") == 1);  // the loop, not also "a" that leads into it
  CHECK_DIAG(r, "no-path-to-end", 8, 3);
  CHECK(find(r, "no-path-to-end")->message ==
        "steps \"l1\", \"l2\" only lead to one another; no end step is reachable from them");
}

TEST_CASE("Dsl.Graph.SelfLoopAndEscapes") {
  auto self = load(with_steps("  a:\n    set: { n: 1 }\n    next: a\n"));
  CHECK_DIAG(self, "no-path-to-end", 5, 3);
  CHECK(find(self, "no-path-to-end")->message.find("only leads back to itself") !=
        std::string::npos);

  // A loop with a way out (a catch, a switch case, a wait timeout) is fine.
  auto retry_loop = load(with_steps(R"(  a:
    action: x.y
    catch:
      - errors: [any]
        next: done
    next: check
  check:
    switch:
      - if: .a.more
        next: a
    default: a
  done: { end: completed }
)"));
  REQUIRE_LOADED(retry_loop);
}

TEST_CASE("Dsl.Graph.BrokenTargetsAreNotReportedTwice") {
  auto r = load(with_steps("  a:\n    action: x.y\n    next: nowhere\n"));
  CHECK(count(r, "unknown-target") == 1);
  CHECK(count(r, "no-path-to-end") == 0);
}

TEST_CASE("Dsl.Graph.UncompensatedTaskBeforePivotWarns") {
  auto result = rmaflow::load_definition(R"(workflow: pv
version: 1
start: authorize
steps:
  authorize:
    action: erp.authorize
    next: label
  label:
    action: carrier.create_label
    compensate: { action: carrier.void_label }
    next: memo
  memo:
    action: erp.post_credit_memo
    pivot: true
    next: close
  close:
    action: erp.close
    next: done
  done: { end: completed }
)", "pv.yaml");
  REQUIRE(result.ok());  // a warning, not an error
  std::vector<rmaflow::Diagnostic> warnings;
  for (const auto& d : result.diagnostics)
    if (d.code == "uncompensated-before-pivot") warnings.push_back(d);
  REQUIRE(warnings.size() == 1);  // authorize; not label (compensated), memo or close (after)
  CHECK(warnings[0].severity == rmaflow::Severity::warning);
  CHECK(warnings[0].where.line == 5);
  CHECK(warnings[0].where.column == 3);
  CHECK(warnings[0].message.find("\"memo\"") != std::string::npos);
}
