// Issue 17: a task step's `posting:` (what an auditor lists): a kind that is a name and fields
// that are literals or templates, refused with their line and column otherwise. Its fields see
// the step's own result, which is written before they are rendered.
#include <doctest/doctest.h>

#include "tests/dsl/dsl_test_support.hpp"

using namespace rmaflow;
using namespace rmaflow::dsl_testing;

namespace {

// Lines 1-4 header; the task's posting is on line 8.
std::string task_with(const std::string& posting) {
  return with_steps(
      "  a:\n"
      "    action: erp.post_credit_memo\n"
      "    result: memo\n"
      "    posting: " + posting + "\n"
      "    next: done\n"
      "  done: { end: completed }\n");
}

}  // namespace

TEST_CASE("Dsl.Issue17.APostingHasAKindAndRenderedFields") {
  auto r = load(task_with(R"({ kind: credit_memo, reference: "${ .memo.id }", amount: 12.5 })"));
  REQUIRE_LOADED(r);
  const auto* task = r.definition->find("a")->task();
  REQUIRE(task->posting.has_value());
  CHECK(task->posting->kind == "credit_memo");
  auto fields = task->posting->fields.render({{"memo", {{"id", "CM-1"}}}});
  CHECK(fields == nlohmann::json{{"reference", "CM-1"}, {"amount", 12.5}});
  // The step's own result is in scope: no undefined-reference warning for .memo.
  CHECK(find(r, "undefined-reference") == nullptr);
}

TEST_CASE("Dsl.Issue17.BadPostingsAreRefusedWhereTheyAreWritten") {
  CHECK_DIAG(load(task_with(R"({ kind: "credit memo" })")), "bad-value", 8, 22);
  CHECK_DIAG(load(task_with("{ amount: 1 }")), "missing-key", 8, 5);
  CHECK_DIAG(load(task_with("{ kind: refund, iban: x }")), "unknown-key", 8, 30);
  CHECK_DIAG(load(task_with("[refund]")), "wrong-type", 8, 14);
  CHECK_DIAG(load(task_with(R"({ kind: refund, amount: "${ .memo.amount | }" })")), "jq-compile", 8, 38);
}
