// Loading foreach, parallel and call steps into the definition model: the sub-flows and the
// steps in them, the flow each step belongs to, match on waits, outputs and free-text statuses
// on branch ends, and the child workflow a call starts.
#include <doctest/doctest.h>

#include "tests/dsl/dsl_test_support.hpp"

using namespace rmaflow;
using namespace rmaflow::dsl_testing;
using json = nlohmann::json;

namespace {

std::shared_ptr<const Definition> load_per_line_return() {
  auto r = load_definition_file(fixtures_dir() + "/per_line_return.yaml");
  REQUIRE_LOADED(r);
  return r.definition;
}

std::vector<std::string> names(const std::vector<Step>& steps) {
  std::vector<std::string> out;
  for (const auto& s : steps) out.push_back(s.name);
  return out;
}

}  // namespace

TEST_CASE("Dsl.Fanout.PerLineReturnLoadsWithoutAWarning") {
  auto r = load_definition_file(fixtures_dir() + "/per_line_return.yaml");
  REQUIRE_LOADED(r);
  INFO(listing(r));
  CHECK(r.diagnostics.empty());
}

TEST_CASE("Dsl.Fanout.EveryStepInFileOrderWithItsFlow") {
  auto d = load_per_line_return();
  CHECK(names(d->steps) ==
        std::vector<std::string>{"authorize", "inspect_lines", "await_line", "inspect", "dispose",
                                 "restock", "repair", "restocked", "repaired", "scrapped",
                                 "not_received", "price_credit", "refund", "close_and_notify",
                                 "close_rma", "closed", "send_email", "sent", "done", "rejected"});
  CHECK(d->find("authorize")->flow == "");
  CHECK(d->find("await_line")->flow == "inspect_lines");
  CHECK(d->find("not_received")->flow == "inspect_lines");
  CHECK(d->find("close_rma")->flow == "close_and_notify.close");
  CHECK(d->find("sent")->flow == "close_and_notify.notify");
  CHECK(d->top.start == "authorize");
  CHECK(d->top.steps == std::vector<std::string>{"authorize", "inspect_lines", "price_credit",
                                                 "refund", "close_and_notify", "done",
                                                 "rejected"});
  REQUIRE(d->flow("inspect_lines") != nullptr);
  CHECK(d->flow("inspect_lines")->start == "await_line");
  CHECK(d->flow("inspect_lines")->steps ==
        std::vector<std::string>{"await_line", "inspect", "dispose", "restock", "repair",
                                 "restocked", "repaired", "scrapped", "not_received"});
  REQUIRE(d->flow("close_and_notify.notify") != nullptr);
  CHECK(d->flow("close_and_notify.notify")->steps == std::vector<std::string>{"send_email", "sent"});
  CHECK(d->flow("close_and_notify.nope") == nullptr);
  CHECK(d->flow("refund") == nullptr);  // a task runs no branches
  CHECK(d->flow("") == &d->top);
}

TEST_CASE("Dsl.Fanout.ForeachStep") {
  auto d = load_per_line_return();
  const Step* step = d->find("inspect_lines");
  REQUIRE(step != nullptr);
  CHECK(step->kind() == StepKind::foreach);
  CHECK(step->fans_out());
  CHECK(step->result == "lines");
  CHECK(step->next == "price_credit");
  CHECK(step->successors() == std::vector<std::string>{"price_credit"});  // not its branches
  const auto& f = std::get<ForeachStep>(step->body);
  CHECK(f.as == "line");
  CHECK(f.concurrency == 10);
  CHECK(f.on_branch_failure == BranchFailure::continue_);
  json context = {{"authorization", {{"lines", {{{"line_id", "L1"}}, {{"line_id", "L2"}}}}}}};
  CHECK(f.items.render(context) == context["authorization"]["lines"]);
  REQUIRE(f.key.has_value());
  CHECK(f.key->render({{"line", {{"line_id", "L2"}}}}) == "L2");
  CHECK(f.flow.start == "await_line");
  CHECK(f.catches.empty());
}

TEST_CASE("Dsl.Fanout.ForeachDefaults") {
  auto r = load(with_steps(R"(  a:
    foreach: [1, 2, 3]
    start: one
    steps:
      one: { end: done }
    next: b
  b: { end: completed }
)"));
  REQUIRE_LOADED(r);
  const auto& f = std::get<ForeachStep>(r.definition->find("a")->body);
  CHECK(f.as == "item");
  CHECK_FALSE(f.key.has_value());
  CHECK(f.concurrency == 0);
  CHECK(f.on_branch_failure == BranchFailure::continue_);
  CHECK(f.items.render(json::object()) == json::array({1, 2, 3}));
  CHECK(r.definition->find("a")->result.empty());
}

TEST_CASE("Dsl.Fanout.BranchEndsNameHowTheBranchEnded") {
  auto d = load_per_line_return();
  const auto& end = std::get<EndStep>(d->find("not_received")->body);
  CHECK(end.label == "not_received");
  CHECK_FALSE(end.compensate);
  REQUIRE(end.output.has_value());
  CHECK(end.output->render({{"line", {{"line_id", "L3"}}}}) ==
        json({{"line_id", "L3"}, {"credit", false}}));
  const auto& top = std::get<EndStep>(d->find("done")->body);
  CHECK(top.status == InstanceStatus::completed);
  CHECK(top.label == "completed");
  REQUIRE(top.output.has_value());
  CHECK(top.output->render({{"credited_lines", 2}}) == json({{"credited_lines", 2}}));
  const auto& rejected = std::get<EndStep>(d->find("rejected")->body);
  CHECK(rejected.status == InstanceStatus::rejected);
  CHECK(rejected.label == "rejected");
  CHECK_FALSE(rejected.output.has_value());
}

TEST_CASE("Dsl.Fanout.WaitMatch") {
  auto d = load_per_line_return();
  const auto& wait = std::get<WaitStep>(d->find("await_line")->body);
  CHECK(wait.signal == "warehouse.line_received");
  REQUIRE(wait.match.has_value());
  CHECK(wait.match->render({{"line", {{"line_id", "L7"}}}}) == "L7");
  auto literal = load(with_steps(R"(  a:
    foreach: [1]
    start: w
    steps:
      w:
        wait: { signal: s, match: 42, timeout: 1d }
        on_timeout: e
        next: e
      e: { end: done }
    next: b
  b: { end: completed }
)"));
  REQUIRE_LOADED(literal);
  CHECK(std::get<WaitStep>(literal.definition->find("w")->body).match->render({}) == 42);
}

TEST_CASE("Dsl.Fanout.ParallelStep") {
  auto d = load_per_line_return();
  const Step* step = d->find("close_and_notify");
  REQUIRE(step != nullptr);
  CHECK(step->kind() == StepKind::parallel);
  CHECK(step->fans_out());
  const auto& p = std::get<ParallelStep>(step->body);
  REQUIRE(p.branches.size() == 2);
  CHECK(p.branches[0].first == "close");
  CHECK(p.branches[0].second.start == "close_rma");
  CHECK(p.branches[1].first == "notify");
  CHECK(p.branches[1].second.steps == std::vector<std::string>{"send_email", "sent"});
  CHECK(p.on_branch_failure == BranchFailure::fail);
  REQUIRE(p.catches.size() == 1);
  CHECK(p.catches[0].errors == std::vector<std::string>{"BranchFailed"});
  CHECK(step->catches().size() == 1);
  CHECK(step->result == "fulfilment");
}

TEST_CASE("Dsl.Fanout.CallStep") {
  auto d = load_per_line_return();
  const Step* step = d->find("repair");
  REQUIRE(step != nullptr);
  CHECK(step->kind() == StepKind::call);
  CHECK_FALSE(step->fans_out());
  CHECK(step->flow == "inspect_lines");
  const auto& c = std::get<CallStep>(step->body);
  CHECK(c.workflow == "vendor-repair");
  CHECK(c.version == 2);
  CHECK(c.input.render({{"input", {{"rma_id", "R1"}}}, {"line", {{"line_id", "L1"}}}}) ==
        json({{"rma_id", "R1"}, {"line", {{"line_id", "L1"}}}}));
  REQUIRE(c.catches.size() == 1);
  CHECK(c.catches[0].next == "scrapped");
  CHECK(step->successors() == std::vector<std::string>{"repaired", "scrapped"});
  auto latest = load(with_steps(R"(  a:
    call: { workflow: child, input: { id: 1 } }
    next: b
  b: { end: completed }
)"));
  REQUIRE_LOADED(latest);
  CHECK_FALSE(std::get<CallStep>(latest.definition->find("a")->body).version.has_value());
}

TEST_CASE("Dsl.Fanout.NestedFanOut") {
  auto r = load_definition_file(fixtures_dir() + "/nested_branches.yaml");
  REQUIRE_LOADED(r);
  INFO(listing(r));
  CHECK(r.diagnostics.empty());
  const auto& d = *r.definition;
  CHECK(d.find("each")->flow == "a.left");
  CHECK(d.find("check")->flow == "each");
  CHECK(d.find("ok")->flow == "each");
  CHECK(d.find("right_done")->flow == "a.right");
  REQUIRE(d.flow("each") != nullptr);
  CHECK(d.flow("each")->start == "check");
  CHECK(names(d.steps) == std::vector<std::string>{"a", "each", "check", "ok", "left_done",
                                                    "right_done", "b"});
}
