// Simulation: scenario files read with precise errors, the scripted world (outcomes in order,
// repeats, latency in virtual time, idempotency), signals at virtual times, the horizon, and
// expectations reported as readable diffs.
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <map>

#include "rmaflow/simulation.hpp"
#include "tests/support/hostile_yaml.hpp"
#include "tests/support/process.hpp"

using namespace rmaflow;
using namespace rmaflow::testing;
using json = nlohmann::json;

namespace {

constexpr Duration kDay(86'400'000);

const char* kWorkflow = R"(workflow: parcel
version: 1
start: label
steps:
  label:
    action: carrier.create_label
    with: { rma: "${ .input.rma_id }" }
    result: label
    retry: { max_attempts: 4, interval: 1s, backoff: 2.0 }
    compensate: { action: carrier.void_label, with: { id: "${ .label.id }" } }
    next: await_parcel
  await_parcel:
    wait: { signal: warehouse.received, timeout: 10d }
    result: receipt
    on_timeout: expired
    next: credit
  credit:
    action: erp.credit
    with: { amount: "${ .receipt.value }" }
    result: memo
    next: done
  done: { end: completed }
  expired: { end: { status: expired, compensate: true } }
)";

struct Fixture {
  TempDir dir;
  std::shared_ptr<const Definition> definition;
  Fixture() {
    auto loaded = load_definition(kWorkflow, "parcel.yaml");
    REQUIRE(loaded.ok());
    definition = loaded.definition;
  }
  Scenario scenario(const std::string& yaml) {
    auto file = dir.write("s.yaml", "scenario: test\nworkflow: parcel.yaml\ninput: { rma_id: R1 }\n" + yaml);
    auto loaded = load_scenario(file);
    for (const auto& d : loaded.diagnostics) MESSAGE(format_diagnostic(d));
    REQUIRE(loaded.scenario.has_value());
    return *loaded.scenario;
  }
};

std::vector<std::string> actions(const SimulationResult& r) {
  std::vector<std::string> out;
  for (const auto* c : r.effects()) out.push_back(c->action);
  return out;
}

}  // namespace

TEST_CASE("Simulation.Scenario.ErrorsNameLineAndColumn") {
  TempDir dir;
  auto file = dir.write("bad.yaml", R"(scenario: broken
start: yesterday
adapters:
  erp.credit:
    - { result: 1, fail: Oops }
    - { resutl: 2 }
  noaction: []
signals:
  - { at: soon, name: x }
expect:
  status: done
  pathh: [a]
)");
  auto loaded = load_scenario(file);
  CHECK_FALSE(loaded.scenario.has_value());
  std::vector<std::string> lines;
  for (const auto& d : loaded.diagnostics) lines.push_back(format_diagnostic(d));
  INFO(fmt::format("{}", fmt::join(lines, "\n")));
  auto has = [&](const std::string& prefix) {
    return std::any_of(lines.begin(), lines.end(),
                       [&](const std::string& l) { return l.rfind(file + ":" + prefix, 0) == 0; });
  };
  CHECK(has("2:8: error[bad-value]"));       // start is not a time
  CHECK(has("5:7: error[bad-value]"));       // result and fail
  CHECK(has("6:9: error[unknown-key]"));     // resutl
  CHECK(has("7:3: error[bad-value]"));       // not adapter.operation
  CHECK(has("9:11: error[bad-duration]"));   // at: soon
  CHECK(has("11:11: error[bad-value]"));     // status
  CHECK(has("12:3: error[unknown-key]"));    // pathh
  auto missing = load_scenario(dir.file("none.yaml"));
  REQUIRE(missing.diagnostics.size() == 1);
  CHECK(missing.diagnostics[0].code == "io");
  CHECK(missing.diagnostics[0].message ==
        "cannot read the scenario file " + dir.file("none.yaml") + ": no such file");
}

// A scenario is bounded as a workflow file is (an input made of aliases took 17 s and 3 GB
// before it was refused for its other keys), and its input file is parsed as the API parses a
// body: a key given twice is refused.
TEST_CASE("Simulation.Scenario.BoundedAsAWorkflowIs") {
  TempDir dir;
  auto bombed = dir.write("bomb.yaml", yaml_alias_bomb() + "scenario: bomb\ninput: { junk: *h }\n");
  auto loaded = load_scenario(bombed);
  CHECK_FALSE(loaded.scenario.has_value());
  REQUIRE(loaded.diagnostics.size() == 1);
  CHECK(loaded.diagnostics[0].code == "yaml-too-large");
  CHECK(loaded.diagnostics[0].message.find("the most a scenario file may hold") !=
        std::string::npos);

  dir.write("input.json", R"({"rma_id": "R1", "rma_id": "R2"})");
  auto twice = load_scenario(
      dir.write("twice.yaml", "scenario: twice\nworkflow: parcel.yaml\ninput_file: input.json\n"));
  CHECK_FALSE(twice.scenario.has_value());
  REQUIRE(twice.diagnostics.size() == 1);
  CHECK(twice.diagnostics[0].message.find("gives the key \"rma_id\" twice in one object") !=
        std::string::npos);

  // Its input file is refused by its size, unread, or named with why it was not read.
  auto big = dir.write("big.json", "");
  REQUIRE(::truncate(big.c_str(), off_t{8} << 30) == 0);  // sparse
  auto named = [&](const std::string& input) {
    auto scenario = load_scenario(
        dir.write("named.yaml", "scenario: named\nworkflow: parcel.yaml\ninput_file: " + input));
    CHECK_FALSE(scenario.scenario.has_value());
    REQUIRE(scenario.diagnostics.size() == 1);
    return scenario.diagnostics[0].message;
  };
  CHECK(named("big.json")
            .ends_with("names " + big +
                       ", which holds 8589934592 bytes, more than the 16777216 an "
                       "input file of a scenario may hold"));
  CHECK(named(".").ends_with("which cannot be read: it is a directory"));
  CHECK(named("gone.json").ends_with("which cannot be read: no such file"));
}

TEST_CASE("Simulation.Run.ScriptedOutcomesInOrderWithLatencyInVirtualTime") {
  Fixture f;
  auto s = f.scenario(R"(start: 2026-03-02T09:00:00Z
adapters:
  carrier.create_label:
    - { fail: Transient, times: 2 }
    - { result: { id: L-1 }, latency: 5s }
  erp.credit:
    - result: { memo: CM-1 }
signals:
  - { at: 3d, name: warehouse.received, payload: { value: 42 } }
)");
  auto r = simulate(f.definition, s);
  CHECK(r.row.status == InstanceStatus::completed);
  CHECK(r.path() == std::vector<std::string>{"label", "await_parcel", "credit", "done"});
  REQUIRE(r.calls.size() == 4);  // two failures, the label, the credit
  CHECK(r.calls[0].outcome.error.code == "Transient");
  CHECK(r.calls[1].attempt == 2);
  CHECK(r.calls[1].at - r.start == Duration(1000));  // the first retry after 1s
  CHECK(r.calls[2].at - r.start == Duration(3000));  // the second 2s later
  CHECK(r.calls[2].idempotency_key == r.calls[0].idempotency_key);
  CHECK(r.calls[3].at - r.start == 3 * kDay);
  CHECK(r.calls[3].input == json({{"amount", 42}}));
  CHECK(*r.row.ended_at - r.start == 3 * kDay);
  CHECK(actions(r) == std::vector<std::string>{"carrier.create_label", "erp.credit"});
  json context = r.row.context;
  CHECK(context["label"] == json({{"id", "L-1"}}));
  CHECK(r.calls[2].scripted);
}

TEST_CASE("Simulation.Run.ThirtyDaysOfWaitingEndInCompensation") {
  Fixture f;
  auto s = f.scenario(R"(adapters:
  carrier.create_label: { result: { id: L-9 } }
)");
  auto r = simulate(f.definition, s);
  CHECK(r.row.status == InstanceStatus::expired);
  CHECK(*r.row.ended_at - r.start == 10 * kDay);
  CHECK(r.compensated() == std::vector<std::string>{"label"});
  CHECK(actions(r) == std::vector<std::string>{"carrier.create_label", "carrier.void_label"});
  CHECK(r.calls.back().compensation);
  CHECK(r.calls.back().input == json({{"id", "L-9"}}));
  CHECK_FALSE(r.calls.back().scripted);  // no script for void_label: answered {}
}

TEST_CASE("Simulation.Run.SignalsBeforeTheWaitAndAfterTheEnd") {
  Fixture f;
  auto s = f.scenario(R"(adapters:
  carrier.create_label:
    - { result: { id: L-1 }, latency: 20s }
signals:
  - { at: 10s, name: warehouse.received, payload: { value: 7 } }
  - { at: 5d, name: warehouse.received }
)");
  auto r = simulate(f.definition, s);
  // The parcel was scanned before the label call returned: kept, consumed when the wait began.
  CHECK(r.row.status == InstanceStatus::completed);
  CHECK(*r.row.ended_at - r.start == Duration(20'000));
  CHECK(r.calls.back().input == json({{"amount", 7}}));
  REQUIRE(r.notes.size() == 1);
  CHECK(r.notes[0].find("signal warehouse.received at +5d was refused: ") == 0);
}

TEST_CASE("Simulation.Run.ARetriedKeyGetsTheFirstAnswerWithoutASecondEffect") {
  Fixture f;
  // The answer takes longer than the 30s attempt timeout: the attempt times out and is
  // retried with the same key, which the world answers at once with what it did the first time.
  auto s = f.scenario(R"(adapters:
  carrier.create_label:
    - { result: { id: L-1 }, latency: 2h }
    - { result: { id: L-2 } }
until: 1d
)");
  auto r = simulate(f.definition, s);
  REQUIRE(r.calls.size() == 2);
  CHECK(r.calls[1].attempt == 2);
  CHECK(r.calls[1].at - r.start == Duration(31'000));  // timeout after 30s, retry 1s later
  CHECK(r.calls[1].outcome.result == json({{"id", "L-1"}}));
  CHECK(r.effects().size() == 1);
  CHECK(r.row.context->at("label") == json({{"id", "L-1"}}));
}

TEST_CASE("Simulation.Run.StopsAtTheHorizon") {
  Fixture f;
  auto s = f.scenario("until: 4d\n");
  auto r = simulate(f.definition, s);
  CHECK(r.row.status == InstanceStatus::waiting);
  CHECK(r.row.step == "await_parcel");
  CHECK_FALSE(r.row.ended_at.has_value());
}

TEST_CASE("Simulation.Expectations.MismatchesReadAsDiffs") {
  Fixture f;
  auto s = f.scenario(R"(adapters:
  carrier.create_label: { result: { id: L-1 } }
expect:
  status: completed
  path: [label, await_parcel, credit, done]
  visited: [credit]
  not_visited: [expired]
  effects:
    - carrier.create_label
    - action: erp.credit
  compensated: []
  context: { label: { id: L-2 }, memo: { ok: true } }
  ended_after: 3d
)");
  auto r = simulate(f.definition, s);
  auto mismatches = check_expectations(s.expect, r);
  std::map<std::string, std::vector<std::string>> by_what;
  for (const auto& m : mismatches) by_what[m.what] = m.lines;
  CHECK(by_what["status"] == std::vector<std::string>{"expected completed, got expired"});
  CHECK(by_what["path"] == std::vector<std::string>{"(- expected, + actual)", "  label",
                                                     "  await_parcel", "- credit", "- done",
                                                     "+ expired"});
  CHECK(by_what["visited"] == std::vector<std::string>{"step credit was never entered"});
  CHECK(by_what["not_visited"] == std::vector<std::string>{"step expired was entered"});
  CHECK(by_what["effects"] == std::vector<std::string>{"(- expected, + actual)",
                                                        "  carrier.create_label", "- erp.credit",
                                                        "+ carrier.void_label"});
  CHECK(by_what["compensated"] ==
        std::vector<std::string>{"(- expected, + actual)", "+ label"});
  CHECK(by_what["context"] ==
        std::vector<std::string>{"/label/id: expected \"L-2\", got \"L-1\"",
                                 "/memo: expected {\"ok\":true}, but it is not there"});
  CHECK(by_what["ended_after"] == std::vector<std::string>{"expected 3d, ended after 10d"});
  CHECK(mismatches.size() == 8);

  Expectations met;
  met.status = InstanceStatus::expired;
  met.effects = std::vector<ExpectedEffect>{{"carrier.create_label", json{{"rma", "R1"}}},
                                            {"carrier.void_label", json{{"id", "L-1"}}}};
  CHECK(check_expectations(met, r).empty());
  met.effects->back().input = json{{"id", "L-3"}};
  auto input = check_expectations(met, r);
  REQUIRE(input.size() == 1);
  CHECK(input[0].what == "effect 2 (carrier.void_label) input");
  CHECK(input[0].lines == std::vector<std::string>{"input/id: expected \"L-3\", got \"L-1\""});
}

TEST_CASE("Simulation.Run.InputFailingTheSchemaIsAnError") {
  TempDir dir;
  auto loaded = load_definition(
      "workflow: t\nversion: 1\ninput: { type: object, required: [rma_id] }\nstart: a\nsteps:\n"
      "  a: { end: completed }\n",
      "t.yaml");
  REQUIRE(loaded.ok());
  auto file = dir.write("s.yaml", "scenario: no id\ninput: { other: 1 }\n");
  auto s = load_scenario(file);
  REQUIRE(s.scenario.has_value());
  CHECK_THROWS_AS(simulate(loaded.definition, *s.scenario), InvalidInput);
}
