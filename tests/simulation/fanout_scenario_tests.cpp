// The fan-out scenarios in fanout/ stay loadable while they wait for the engine to run them
// (fanout_run_tests.cpp): each scenario reads without a problem and states expectations, and
// the workflow it names validates without a warning.
#include <doctest/doctest.h>

#include <fmt/format.h>

#include <filesystem>

#include "rmaflow/simulation.hpp"
#include "tests/support/process.hpp"

using namespace rmaflow;

TEST_CASE("Simulation.Issue13.FanOutScenariosLoad") {
  std::filesystem::path dir = testing::source_dir() + "/tests/simulation/fanout";
  int scenarios = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".yaml" || entry.path().filename() == "line-return.yaml")
      continue;
    INFO(entry.path().string());
    auto loaded = load_scenario(entry.path().string());
    for (const auto& d : loaded.diagnostics) MESSAGE(format_diagnostic(d));
    REQUIRE(loaded.scenario.has_value());
    CHECK(loaded.diagnostics.empty());
    CHECK(loaded.scenario->expect.any());
    auto workflow = load_definition_file(loaded.scenario->workflow_file);
    for (const auto& d : workflow.diagnostics) MESSAGE(format_diagnostic(d));
    CHECK(workflow.ok());
    CHECK(workflow.diagnostics.empty());
    ++scenarios;
  }
  CHECK(scenarios == 3);
}
