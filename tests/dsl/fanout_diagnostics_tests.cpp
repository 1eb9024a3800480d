// The diagnostics of foreach, parallel and call steps, of match and of branch ends, each at its
// exact line and column; and the checks that work flow by flow: targets that leave their flow,
// reachability and ends inside branches, pivots per flow, and what a branch's steps see.
// Positions are 1-based; the with_steps() header takes lines 1-4, so step text starts on line 5.
#include <doctest/doctest.h>

#include "tests/dsl/dsl_test_support.hpp"

using namespace rmaflow;
using namespace rmaflow::dsl_testing;

namespace {

std::string message_at(const LoadResult& r, const std::string& code, int line, int column) {
  for (const auto& d : r.diagnostics)
    if (d.code == code && d.where.line == line && d.where.column == column) return d.message;
  return "";
}

}  // namespace

TEST_CASE("Dsl.Validate.Issue13.ForeachKeys") {
  auto r = load(with_steps(R"(  a:
    foreach: lines
    as: branch
    key: L1
    concurrency: 0
    on_branch_failure: stop
    result: a_out
    nxt: b
  b: { end: completed }
)"));
  CHECK_FALSE(r.ok());
  CHECK_DIAG(r, "wrong-type", 6, 14);         // neither a template nor a list
  CHECK_DIAG(r, "result-overwrites", 7, 9);   // .branch is the engine's inside a branch
  CHECK_DIAG(r, "bad-value", 8, 10);          // a literal key
  CHECK_DIAG(r, "bad-value", 9, 18);          // concurrency < 1
  CHECK_DIAG(r, "bad-value", 10, 24);         // on_branch_failure
  CHECK_DIAG(r, "unknown-key", 12, 5);        // nxt
  CHECK_DIAG(r, "missing-key", 5, 3);         // start, steps and next
  CHECK(count(r, "missing-key") == 3);
  CHECK(message_at(r, "unknown-key", 12, 5) ==
        "unknown key \"nxt\" in step \"a\"; did you mean \"next\"?");
  CHECK(message_at(r, "result-overwrites", 7, 9) ==
        "\"as\" in step \"a\" would overwrite .branch, which the engine fills inside a branch; "
        "choose another name");
  CHECK(message_at(r, "bad-value", 10, 24) ==
        "\"on_branch_failure\" in step \"a\" must be continue or fail, not \"stop\"");
  CHECK(message_at(r, "bad-value", 8, 10).find("each branch needs a key of its own") !=
        std::string::npos);
}

TEST_CASE("Dsl.Validate.Issue13.BranchEnds") {
  auto r = load(with_steps(R"(  a:
    foreach: ${ .input.lines }
    start: x
    steps:
      x:
        switch:
          - if: .a
            next: y
        default: z
      y: { end: { status: Done, outputs: 1 } }
      z: { end: not received }
    next: b
  b: { end: restocked }
)"));
  CHECK_FALSE(r.ok());
  CHECK_DIAG(r, "bad-value", 14, 27);    // a branch status in capitals
  CHECK_DIAG(r, "unknown-key", 14, 33);  // outputs
  CHECK_DIAG(r, "bad-value", 15, 17);    // a branch status with a space
  CHECK_DIAG(r, "bad-value", 17, 13);    // a status of its own at the top level
  CHECK(message_at(r, "unknown-key", 14, 33) ==
        "unknown key \"outputs\" in the end of step \"y\"; did you mean \"output\"?");
  CHECK(message_at(r, "bad-value", 17, 13) ==
        "\"end\" in step \"b\" must be completed, rejected, expired, cancelled or failed, not "
        "\"restocked\"; a status of its own such as this ends a branch, not an instance");
  CHECK(message_at(r, "bad-value", 14, 27).find("must name how the branch ended") !=
        std::string::npos);

  // Inside a branch an end may compensate (the branch's own steps) and take instance statuses
  // as free text; its output is a template.
  auto ok = load(with_steps(R"(  a:
    foreach: [1]
    start: x
    steps:
      x: { end: { status: completed, compensate: true, output: "${ .item }" } }
    next: b
  b: { end: { status: completed, output: { done: true } } }
)"));
  REQUIRE_LOADED(ok);
  CHECK(ok.diagnostics.empty());  // a branch end that compensates is not end-only-via-compensation
  CHECK(std::get<EndStep>(ok.definition->find("x")->body).compensate);
}

TEST_CASE("Dsl.Validate.Issue13.ParallelKeys") {
  auto r = load(with_steps(R"(  a:
    parallel:
      left: [x]
      Right:
        start: r
        steps:
          r: { end: done }
        extra: 1
      empty:
        steps: {}
    next: b
  b:
    parallel: {}
    next: c
  c:
    parallel: [one]
    next: d
  d: { end: completed }
)"));
  CHECK_FALSE(r.ok());
  CHECK_DIAG(r, "wrong-type", 7, 13);    // a branch that is not a mapping
  CHECK_DIAG(r, "bad-value", 8, 7);      // a branch name in capitals
  CHECK_DIAG(r, "unknown-key", 12, 9);   // extra
  CHECK_DIAG(r, "missing-key", 13, 7);   // a branch without start
  CHECK_DIAG(r, "bad-value", 14, 16);    // a branch without steps
  CHECK_DIAG(r, "bad-value", 17, 15);    // no branches
  CHECK_DIAG(r, "wrong-type", 20, 15);   // not a mapping
  CHECK(message_at(r, "wrong-type", 7, 13) ==
        "branch \"left\" of step \"a\" must be a mapping {start, steps}, not a list");
  CHECK(message_at(r, "missing-key", 13, 7) ==
        "missing key \"start\" in branch \"empty\" of step \"a\"");
  CHECK(message_at(r, "bad-value", 14, 16) ==
        "\"steps\" in branch \"empty\" of step \"a\" must define at least one step");
}

TEST_CASE("Dsl.Validate.Issue13.CallKeys") {
  auto r = load(with_steps(R"(  a:
    call: { workflow: Child, version: 0, inputs: {} }
    next: b
  b:
    call: child
    next: c
  c:
    call: { workflow: child, input: 5 }
    next: d
  d: { end: completed }
)"));
  CHECK_FALSE(r.ok());
  CHECK_DIAG(r, "bad-value", 6, 23);     // not a workflow name
  CHECK_DIAG(r, "bad-value", 6, 39);     // version < 1
  CHECK_DIAG(r, "unknown-key", 6, 42);   // inputs
  CHECK_DIAG(r, "missing-key", 6, 5);    // input
  CHECK_DIAG(r, "wrong-type", 9, 11);    // call: a string
  CHECK_DIAG(r, "wrong-type", 12, 37);   // input: a number
  CHECK(message_at(r, "missing-key", 6, 5) == "missing key \"input\" in the call of step \"a\"");
  CHECK(message_at(r, "unknown-key", 6, 42) ==
        "unknown key \"inputs\" in the call of step \"a\"; did you mean \"input\"?");
  CHECK(message_at(r, "bad-value", 6, 23) ==
        "\"workflow\" in the call of step \"a\" must match [a-z][a-z0-9-]* in at most 200 bytes, "
        "not \"Child\"");
}

TEST_CASE("Dsl.Validate.Issue13.WaitMatch") {
  auto r = load(with_steps(R"(  a:
    wait: { duration: 1s, match: x }
    next: b
  b:
    wait: { signal: s, match: [1], timeout: 1d }
    on_timeout: c
    next: c
  c: { end: completed }
)"));
  CHECK_DIAG(r, "bad-value", 6, 34);   // match on a duration wait
  CHECK_DIAG(r, "wrong-type", 9, 31);  // match: a list
  CHECK(message_at(r, "bad-value", 6, 34) ==
        "\"match\" in the wait of step \"a\" applies only to a signal wait: it picks which "
        "signals it takes");
}

TEST_CASE("Dsl.Validate.Issue13.MatchOutsideABranchIsAWarning") {
  auto r = load(with_steps(R"(  a:
    wait: { signal: s, match: "${ .input.id }", timeout: 1d }
    on_timeout: b
    next: b
  b: { end: completed }
)"));
  REQUIRE_LOADED(r);
  REQUIRE(r.diagnostics.size() == 1);
  CHECK(r.diagnostics[0].severity == Severity::warning);
  CHECK_DIAG(r, "match-outside-branch", 6, 5);
  CHECK(r.diagnostics[0].message.find("never reaches it") != std::string::npos);

  auto in_branch = load(with_steps(R"(  a:
    foreach: ${ .input.lines }
    start: w
    steps:
      w:
        wait: { signal: s, match: "${ .item.id }", timeout: 1d }
        on_timeout: e
        next: e
      e: { end: done }
    next: b
  b: { end: completed }
)"));
  REQUIRE_LOADED(in_branch);
  CHECK(in_branch.diagnostics.empty());
}

TEST_CASE("Dsl.Validate.Issue13.ContextNamesInBranches") {
  auto r = load(with_steps(R"(  a:
    foreach: [1]
    as: input
    result: lines
    start: x
    steps:
      x:
        action: s.t
        result: branch
        next: y
      y:
        set: { branch: 1, ok: 2 }
        next: z
      z: { end: done }
    next: b
  b:
    foreach: [1]
    as: same
    result: same
    start: y2
    steps:
      y2: { end: done }
    next: c
  c:
    action: s.t
    result: branch
    next: d
  d: { end: completed }
)"));
  CHECK_FALSE(r.ok());
  CHECK_DIAG(r, "result-overwrites", 7, 9);    // as: input
  CHECK_DIAG(r, "result-overwrites", 13, 17);  // a branch's result .branch
  CHECK_DIAG(r, "result-overwrites", 16, 16);  // a branch's set key .branch
  CHECK_DIAG(r, "result-overwrites", 22, 9);   // the element named like the step's result
  CHECK(count(r, "result-overwrites") == 4);   // .branch at the top level is the workflow's own
  CHECK(message_at(r, "result-overwrites", 22, 9) ==
        "\"as\" in step \"b\" names the element .same, which is also the step's result; give "
        "them different names");
}

TEST_CASE("Dsl.Validate.Issue13.StepNamesAreUniqueAcrossFlows") {
  auto r = load(with_steps(R"(  a:
    foreach: [1]
    start: b
    steps:
      b:
        end: done
    next: b
  b: { end: completed }
)"));
  CHECK_FALSE(r.ok());
  REQUIRE(count(r, "duplicate-step") == 1);
  CHECK_DIAG(r, "duplicate-step", 12, 3);
  CHECK(find(r, "duplicate-step")->message ==
        "step \"b\" in the workflow has the name of a step in the branches of foreach \"a\" "
        "(line 9); step names are unique across the workflow, sub-flows included");
  CHECK(count(r, "unreachable-step") == 0);

  auto branches = load(with_steps(R"(  a:
    parallel:
      one:
        start: x
        steps:
          x: { end: done }
      two:
        start: x
        steps:
          x: { end: done }
    next: b
  b: { end: completed }
)"));
  REQUIRE(count(branches, "duplicate-step") == 1);
  CHECK_DIAG(branches, "duplicate-step", 14, 11);
  CHECK(find(branches, "duplicate-step")->message ==
        "step \"x\" in branch \"two\" of step \"a\" has the name of a step in branch \"one\" of "
        "step \"a\" (line 10); step names are unique across the workflow, sub-flows included");
}

TEST_CASE("Dsl.Validate.Issue13.TransitionsStayInTheirFlow") {
  auto r = load(with_steps(R"(  a:
    foreach: [1]
    start: x
    steps:
      x:
        action: s.t
        catch:
          - errors: [any]
            next: b
        next: doen
      done: { end: done }
    next: x
  b:
    foreach: [1]
    start: a
    steps:
      z: { end: done }
    next: c
  c: { end: completed }
)"));
  CHECK_FALSE(r.ok());
  CHECK_DIAG(r, "leaves-flow", 13, 19);     // out of a branch
  CHECK_DIAG(r, "unknown-target", 14, 15);  // a typo, suggested from the branch's own steps
  CHECK_DIAG(r, "leaves-flow", 16, 11);     // into a branch
  CHECK_DIAG(r, "leaves-flow", 19, 12);     // a sub-flow starting at a step of the workflow
  CHECK(count(r, "leaves-flow") == 3);
  CHECK(message_at(r, "leaves-flow", 16, 11) ==
        "\"next\" in step \"a\" names \"x\", a step of the branches of foreach \"a\"; a transition "
        "stays in its flow: a branch is entered only through its fan-out step");
  CHECK(message_at(r, "leaves-flow", 13, 19) ==
        "\"next\" in catch entry 1 of step \"x\" names \"b\", a step of the workflow; a transition "
        "stays in its flow: a branch ends at an end step of its own (e.g. done: { end: done }), "
        "and its fan-out step's next goes on from there");
  CHECK(message_at(r, "leaves-flow", 19, 12) ==
        "\"start\" in step \"b\" names \"a\", a step of the workflow; a transition stays in its "
        "flow: a branch ends at an end step of its own (e.g. done: { end: done }), and its "
        "fan-out step's next goes on from there");
  CHECK(message_at(r, "unknown-target", 14, 15) ==
        "\"next\" in step \"x\" names \"doen\", which is not a step; did you mean \"done\"?");
  // The wrong transitions meant some step: none is reported unreachable because of them.
  CHECK(count(r, "unreachable-step") == 0);
}

TEST_CASE("Dsl.Graph.Issue13.AnUnknownNextLeavesLaterStepsAlone") {
  // No step is like the name: any step could be the one meant.
  auto unknown = load(with_steps(R"(  a:
    action: s.t
    next: zzz_step
  b:
    action: s.t
    next: c
  c: { end: completed }
)"));
  CHECK(count(unknown, "unknown-target") == 1);
  CHECK(count(unknown, "unreachable-step") == 0);

  // A likely typo is taken as meant: what it leads to is reachable, a real orphan is not.
  auto typo = load(with_steps(R"(  a:
    action: s.t
    next: shipp
  ship:
    action: s.t
    next: done
  orphan:
    action: s.t
    next: done
  done: { end: completed }
)"));
  CHECK_DIAG(typo, "unknown-target", 7, 11);
  REQUIRE(count(typo, "unreachable-step") == 1);
  CHECK_DIAG(typo, "unreachable-step", 11, 3);

  // The same inside a branch.
  auto branch = load(with_steps(R"(  a:
    foreach: [1]
    start: x
    steps:
      x:
        action: s.t
        next: nowhere_at_all
      y:
        action: s.t
        next: z
      z: { end: done }
    next: b
  b: { end: completed }
)"));
  CHECK(count(branch, "unknown-target") == 1);
  CHECK(count(branch, "unreachable-step") == 0);
}

TEST_CASE("Dsl.Graph.Issue13.ReachabilityAndEndsInsideBranches") {
  auto r = load(with_steps(R"(  a:
    foreach: [1]
    start: x
    steps:
      x:
        wait: { duration: 1s }
        next: x
      orphan: { end: done }
    next: b
  b: { end: completed }
)"));
  CHECK_FALSE(r.ok());
  CHECK_DIAG(r, "no-path-to-end", 9, 7);
  CHECK_DIAG(r, "unreachable-step", 12, 7);
  CHECK(message_at(r, "unreachable-step", 12, 7) ==
        "step \"orphan\" is not reachable from the start step \"x\" of the branches of foreach "
        "\"a\"");
  CHECK(count(r, "no-path-to-end") == 1);
  CHECK(count(r, "unreachable-step") == 1);
}

TEST_CASE("Dsl.Lint.Issue13.UncompensatedBeforePivotPerFlow") {
  // A pivot inside a branch covers that branch's earlier steps only.
  auto inside = load(with_steps(R"(  a:
    action: s.a
    next: f
  f:
    foreach: [1]
    start: x
    steps:
      x:
        action: s.x
        next: p
      p:
        action: s.p
        pivot: true
        next: y
      y:
        action: s.y
        next: z
      z: { end: done }
    next: b
  b: { end: completed }
)"));
  REQUIRE_LOADED(inside);
  REQUIRE(count(inside, "uncompensated-before-pivot") == 1);
  CHECK_DIAG(inside, "uncompensated-before-pivot", 12, 7);
  CHECK(find(inside, "uncompensated-before-pivot")->message.find("pivot \"p\"") !=
        std::string::npos);

  // A pivot after a fan-out step covers what its branches did.
  auto after = load(with_steps(R"(  a:
    foreach: [1]
    start: x
    steps:
      x:
        action: s.x
        next: z
      z: { end: done }
    next: credit
  credit:
    action: s.c
    pivot: true
    next: b
  b: { end: completed }
)"));
  REQUIRE_LOADED(after);
  REQUIRE(count(after, "uncompensated-before-pivot") == 1);
  CHECK_DIAG(after, "uncompensated-before-pivot", 9, 7);
  CHECK(find(after, "uncompensated-before-pivot")->message.find("pivot \"credit\"") !=
        std::string::npos);
}

TEST_CASE("Dsl.Lint.Issue13.WhatABranchSees") {
  auto r = load(with_steps(R"(  a:
    foreach: ${ .input.lines }
    as: line
    key: ${ .line.id }
    start: x
    steps:
      x:
        action: s.t
        with: { id: "${ .line.id }", at: "${ .branch.index }" }
        result: checked
        next: y
      y: { end: { status: done, output: "${ .checked }" } }
    result: lines
    next: b
  b:
    action: s.t
    with: { l: "${ .line }", c: "${ .checked }", k: "${ .branch }", ok: "${ .lines }" }
    next: c
  c: { end: completed }
)"));
  REQUIRE_LOADED(r);
  INFO(listing(r));
  CHECK(count(r, "undefined-reference") == 3);  // only in the step after the foreach
  CHECK(message_at(r, "undefined-reference", 21, 16) ==
        ".line in with/l of step \"b\" is never written before it runs: it is the element of "
        "foreach \"a\", which only the steps of its branches see");
  CHECK(message_at(r, "undefined-reference", 21, 33) ==
        ".checked in with/c of step \"b\" is never written before it runs: no step on a path from "
        "the start to it writes it as a result or set key; step \"x\" writes it inside the "
        "branches of step \"a\", and a branch's results stay in the branch: read them from "
        ".lines");
  CHECK(message_at(r, "undefined-reference", 21, 53) ==
        ".branch in with/k of step \"b\" is never written before it runs: only the steps inside "
        "a branch of a foreach or parallel step see .branch");

  // A parallel branch sees .branch too; a foreach's key sees the element and the index.
  auto parallel = load(with_steps(R"(  a:
    parallel:
      one:
        start: x
        steps:
          x:
            action: s.t
            with: { name: "${ .branch.key }" }
            next: y
          y: { end: done }
    next: b
  b:
    foreach: ${ .input.lines }
    key: ${ .item.sku + "-" + (.branch.index | tostring) }
    start: z
    steps:
      z: { end: done }
    next: c
  c: { end: completed }
)"));
  REQUIRE_LOADED(parallel);
  CHECK(parallel.diagnostics.empty());
}

TEST_CASE("Dsl.Lint.Issue13.AnElementThatHidesAKey") {
  auto r = load(with_steps(R"(  a:
    action: s.t
    result: line
    next: f
  f:
    foreach: [1]
    as: line
    start: x
    steps:
      x:
        action: s.t
        result: line
        next: y
      y: { end: done }
    next: b
  b: { end: completed }
)"));
  REQUIRE_LOADED(r);
  CHECK_DIAG(r, "result-overwrites", 11, 9);
  CHECK_DIAG(r, "result-overwrites", 16, 17);
  CHECK(count(r, "result-overwrites") == 2);
  CHECK(message_at(r, "result-overwrites", 11, 9) ==
        "element \"line\" of foreach \"f\" hides .line, which step \"a\" can write before it, from "
        "the steps of its branches; give each its own name");
  CHECK(message_at(r, "result-overwrites", 16, 17) ==
        "result \"line\" of step \"x\" overwrites .line, which step \"f\" can write before it; give "
        "each its own name");
}

TEST_CASE("Dsl.Validate.Issue13.JqInTheNewTemplates") {
  auto r = load(with_steps(R"(  a:
    foreach: ${ .input | recurse }
    key: ${ .x | }
    start: w
    steps:
      w:
        wait: { signal: s, match: "${ env.HOME }", timeout: 1d }
        on_timeout: e
        next: c
      c:
        call: { workflow: child, input: "${ [range(0; .n)] }" }
        next: e
      e: { end: { status: done, output: "${ .a[ }" } }
    next: b
  b: { end: completed }
)"));
  CHECK_FALSE(r.ok());
  CHECK_DIAG(r, "jq-unbounded", 6, 14);  // foreach
  CHECK_DIAG(r, "jq-compile", 7, 10);    // key
  CHECK_DIAG(r, "jq-env", 11, 35);       // match
  CHECK_DIAG(r, "jq-unbounded", 15, 41); // call input
  CHECK_DIAG(r, "jq-compile", 17, 41);   // end output
}

TEST_CASE("Dsl.Lint.Issue13.WaitsInBranchesAndBranchEnds") {
  auto r = load(with_steps(R"(  a:
    foreach: [1]
    start: w
    steps:
      w:
        wait: { signal: s }
        next: e
      e: { end: { status: completed, compensate: true } }
    next: b
  b: { end: completed }
)"));
  REQUIRE_LOADED(r);
  CHECK_DIAG(r, "wait-without-timeout", 10, 9);
  CHECK(find(r, "wait-without-timeout")->message.find("its branch waits forever") !=
        std::string::npos);
  CHECK(count(r, "end-only-via-compensation") == 0);  // a branch's end ends no instance
}

TEST_CASE("Dsl.Validate.Issue13.NeverThrowsOnGarbageInTheNewKeys") {
  const std::string head = "workflow: t\nversion: 1\nstart: a\nsteps:\n";
  for (const char* steps :
       {"  a: { foreach: ~ }\n", "  a: { foreach: {x: 1}, start: [s], steps: [x], next: ~ }\n",
        "  a: { foreach: [1], start: x, steps: { x: ~ }, next: b }\n",
        "  a: { foreach: [1], start: x, steps: { x: { foreach: [2] } }, next: b }\n",
        "  a: { foreach: [1], as: [x], key: {k: 1}, concurrency: many, start: x, steps: {}, next: b }\n",
        "  a: { parallel: ~ , next: b }\n", "  a: { parallel: { b: ~ }, next: b }\n",
        "  a: { parallel: { b: { steps: { c: ~ } } }, next: b }\n",
        "  a: { parallel: { 1: { start: 2, steps: { 2: 3 } } }, next: b }\n",
        "  a: { call: [] , next: b }\n", "  a: { call: { workflow: [x], input: [1], version: x } }\n",
        "  a: { wait: { signal: s, match: ~ }, next: b }\n",
        "  a: { end: { status: [x], output: { a: '${ .x | }' } } }\n",
        "  a: { foreach: [1], start: a, steps: { a: { end: done } }, next: a }\n",
        "  a: { foreach: [1], start: b, steps: { b: { foreach: [1], start: a, steps: { c: { end: x } }, next: c } }, next: b }\n"}) {
    INFO(steps);
    LoadResult r;
    CHECK_NOTHROW(r = load(head + steps));
    CHECK_FALSE(r.ok());
    CHECK_FALSE(r.diagnostics.empty());
    for (const auto& d : r.diagnostics) {
      CHECK(d.where.line > 0);
      CHECK(d.where.column > 0);
    }
  }
}
