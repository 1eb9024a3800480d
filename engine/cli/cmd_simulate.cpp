// rmaflow simulate [FILE] --scenario S.yaml [--format text|json]
// rmaflow test PATH...
//
// simulate runs one scenario (simulation.hpp) and prints the timeline in virtual time, the
// path, the compensations, the effects and the final context; when the scenario states
// expectations, those that do not hold are listed and the exit is 1.
// test runs every scenario file under the given directories (files whose top-level mapping
// has a `scenario` key), each against the workflow it names, and reports PASS or FAIL per
// scenario with a readable diff, like a test runner: exit 0 when all pass, 1 otherwise.
#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include "engine/cli/cli_support.hpp"
#include "engine/cli/commands.hpp"
#include "engine/cli/sim_view.hpp"
#include "engine/dsl/yaml_bounds.hpp"
#include "rmaflow/simulation.hpp"

namespace rmaflow::cli {

namespace {

namespace fs = std::filesystem;

struct SimulateOptions {
  std::string file;
  std::string scenario;
  std::string format = "text";
};

struct TestOptions {
  std::vector<std::string> paths;
};

std::string diagnostics_text(const std::vector<Diagnostic>& diagnostics) {
  std::string out;
  for (const auto& d : diagnostics) out += format_diagnostic(d) + "\n";
  return out;
}

int simulate(const SimulateOptions& opt) {
  auto loaded = load_scenario(opt.scenario);
  if (!loaded.scenario) {
    fmt::print(stderr, "{}", diagnostics_text(loaded.diagnostics));
    fmt::print(stderr, "rmaflow: the scenario {} has errors; nothing was simulated\n", opt.scenario);
    return kExitFailure;
  }
  const Scenario& scenario = *loaded.scenario;
  std::string file = opt.file.empty() ? scenario.workflow_file : opt.file;
  if (file.empty())
    throw CLI::ValidationError("a workflow FILE is required: the scenario names none (workflow:)");
  auto definition = load_workflow(file);
  auto result = simulate(definition, scenario);
  auto mismatches = check_expectations(scenario.expect, result);
  if (opt.format == "json") {
    fmt::print("{}\n", simulation_json(scenario, *definition, result, mismatches).dump(2));
  } else {
    fmt::print("{}", simulation_text(scenario, *definition, result));
    if (!scenario.expect.any())
      fmt::print("expectations: none stated\n");
    else if (mismatches.empty())
      fmt::print("expectations: all met\n");
    else
      fmt::print("expectations not met:\n{}", mismatches_text(mismatches, "  "));
  }
  return mismatches.empty() ? kExitOk : kExitFailure;
}

// Scenario files: the files given, and under each directory every YAML file whose top-level
// mapping has a `scenario` key (workflow files beside them are not scenarios).
std::vector<std::string> scenario_files(const std::vector<std::string>& paths) {
  std::vector<std::string> files;
  for (const auto& path : paths) {
    std::error_code ec;
    if (fs::is_regular_file(path, ec)) {
      files.push_back(path);
      continue;
    }
    if (!fs::is_directory(path, ec))
      throw Error(Errc::io, fmt::format("{} is neither a scenario file nor a directory", path));
    std::vector<std::string> found;
    for (const auto& entry : fs::recursive_directory_iterator(path, ec)) {
      auto ext = entry.path().extension();
      if (!entry.is_regular_file() || (ext != ".yaml" && ext != ".yml")) continue;
      // Unreadable, broken, or past a scenario file's bounds: the loader says why.
      try {
        auto bounds = dsl::data_file_bounds("a scenario file");
        auto text = read_file(entry.path().string(), bounds.bytes, bounds.kind);
        if (dsl::check_yaml_bounds(text, bounds)) {
          found.push_back(entry.path().string());
          continue;
        }
        auto doc = YAML::Load(text);
        if (doc.IsMap() && doc["scenario"]) found.push_back(entry.path().string());
      } catch (const std::exception&) {
        found.push_back(entry.path().string());
      }
    }
    std::sort(found.begin(), found.end());
    files.insert(files.end(), found.begin(), found.end());
  }
  return files;
}

// Runs one scenario; "" when it passed, else why not (indented lines).
std::string run_one(const std::string& file, std::map<std::string, std::shared_ptr<const Definition>>& cache,
                    std::string& summary) {
  auto loaded = load_scenario(file);
  if (!loaded.scenario) {
    summary = "(the scenario does not load)";
    std::string out;
    for (const auto& d : loaded.diagnostics) out += "      " + format_diagnostic(d) + "\n";
    return out;
  }
  const Scenario& scenario = *loaded.scenario;
  summary = scenario.name;
  if (scenario.workflow_file.empty()) return "      the scenario names no workflow (workflow: PATH)\n";
  if (!scenario.expect.any()) return "      the scenario states no expectations (expect:)\n";
  auto& definition = cache[scenario.workflow_file];
  try {
    if (!definition) definition = load_workflow(scenario.workflow_file);
    auto result = simulate(definition, scenario);
    auto mismatches = check_expectations(scenario.expect, result);
    auto wall = std::chrono::duration_cast<std::chrono::milliseconds>(result.wall).count();
    summary += fmt::format(
        " ({} {}, {} ms)", to_string(result.row.status),
        result.row.ended_at ? "after " + format_offset(*result.row.ended_at - result.start).substr(1)
                            : "still at " + format_offset(scenario.until).substr(1),
        wall);
    return mismatches_text(mismatches, "      ");
  } catch (const Error& e) {
    return fmt::format("      {}\n", e.what());
  }
}

int test(const TestOptions& opt) {
  auto files = scenario_files(opt.paths);
  if (files.empty()) throw Error(Errc::not_found, "no scenario files found (YAML files with a scenario: key)");
  std::map<std::string, std::shared_ptr<const Definition>> cache;
  std::size_t failed = 0;
  for (const auto& file : files) {
    std::string summary;
    auto failure = run_one(file, cache, summary);
    fmt::print("{}  {}  {}\n{}", failure.empty() ? "PASS" : "FAIL", file, summary, failure);
    failed += failure.empty() ? 0 : 1;
    std::fflush(stdout);
  }
  fmt::print("{} scenario(s): {} passed, {} failed\n", files.size(), files.size() - failed, failed);
  return failed == 0 ? kExitOk : kExitFailure;
}

}  // namespace

void register_simulate(CLI::App& app, int& exit_code) {
  auto sim = std::make_shared<SimulateOptions>();
  auto* s = app.add_subcommand(
      "simulate",
      "Run a workflow in virtual time against a scenario's scripted adapter outcomes and "
      "signals; print the path, the timings, the compensations and the final context, and "
      "check the scenario's expectations (exit 1 when one does not hold)");
  s->add_option("file", sim->file, "Workflow YAML file (default: the scenario's workflow:)");
  s->add_option("--scenario", sim->scenario, "Scenario YAML file")->required();
  s->add_option("--format", sim->format, "Output: text (default) or json")
      ->check(CLI::IsMember({"text", "json"}));
  s->callback([sim, &exit_code] { exit_code = simulate(*sim); });

  auto t = std::make_shared<TestOptions>();
  auto* c = app.add_subcommand(
      "test",
      "Run every scenario file under the given directories against the workflow it names and "
      "report PASS/FAIL per scenario, with a diff of what did not hold; exit 1 when any fails");
  c->add_option("paths", t->paths, "Scenario files or directories")->required();
  c->callback([t, &exit_code] { exit_code = test(*t); });
}

}  // namespace rmaflow::cli
