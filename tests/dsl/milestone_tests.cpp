// Issue 17: business milestones (`milestones:`): a name per top-level step, with an optional
// SLA; refused with their line and column when they name no step, a step inside a branch, or
// a name that cannot be a metric label.
#include <doctest/doctest.h>

#include "tests/dsl/dsl_test_support.hpp"

using namespace rmaflow;
using namespace rmaflow::dsl_testing;

namespace {

// Lines 1-4 header, 5-13 steps, milestones from line 14.
std::string workflow(const std::string& milestones) {
  return with_steps(
             "  a:\n"
             "    action: erp.authorize\n"
             "    next: lines\n"
             "  lines:\n"
             "    foreach: ${ .input.lines }\n"
             "    start: inspect\n"
             "    steps: { inspect: { end: done } }\n"
             "    next: done\n") +
         "  done: { end: completed }\n" + milestones;
}

}  // namespace

TEST_CASE("Dsl.Issue17.MilestonesNameTopLevelStepsWithAnOptionalSla") {
  auto r = load(workflow("milestones:\n  authorized: a\n  closed: { step: done, sla: 14d }\n"));
  REQUIRE_LOADED(r);
  const auto& m = r.definition->milestones;
  REQUIRE(m.size() == 2);
  CHECK(m[0].name == "authorized");
  CHECK(m[0].step == "a");
  CHECK_FALSE(m[0].sla.has_value());
  CHECK(m[1].name == "closed");
  CHECK(m[1].step == "done");
  REQUIRE(m[1].sla.has_value());
  CHECK(*m[1].sla == Duration(14LL * 24 * 3600 * 1000));
}

TEST_CASE("Dsl.Issue17.MilestonesThatCannotBeReachedAreRefused") {
  CHECK_DIAG(load(workflow("milestones:\n  credited: nowhere\n")), "unknown-target", 15, 13);
  CHECK_DIAG(load(workflow("milestones:\n  inspected: inspect\n")), "bad-value", 15, 14);
  CHECK_DIAG(load(workflow("milestones:\n  Credited!: a\n")), "bad-value", 15, 3);
  CHECK_DIAG(load(workflow("milestones:\n  credited: { step: a, within: 1d }\n")), "unknown-key", 15, 24);
  CHECK_DIAG(load(workflow("milestones:\n  credited: { step: a, sla: soon }\n")), "bad-duration", 15, 29);
  CHECK_DIAG(load(workflow("milestones: [a]\n")), "wrong-type", 14, 13);
}

TEST_CASE("Dsl.Issue17.ShippedWorkflowsDeclareTheirCreditMilestone") {
  for (const auto& file : shipped_workflows()) {
    auto r = load_definition_file(file);
    REQUIRE_LOADED(r);
    CAPTURE(file);
    CHECK_FALSE(r.definition->milestones.empty());
    // A workflow that closes the RMA in the ERP reports when it did.
    if (r.definition->find("close_rma") != nullptr) {
      bool closed = false;
      for (const auto& m : r.definition->milestones) closed = closed || (m.name == "closed" && m.step == "close_rma");
      CHECK(closed);
    }
  }
}
