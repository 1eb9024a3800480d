// rmaflow validate FILE... [--format text|json]
//
// Loads and checks each workflow file. Everything goes to stdout, so the report can be piped
// as a whole:
//   text: one line per diagnostic, "FILE:LINE:COL: error[CODE]: message" (or warning[CODE]),
//         then for each valid file "FILE: ok (workflow NAME version V, N steps)".
//   json: one array with one object per file:
//         {"file", "valid", "workflow"?, "version"?, "steps"?, "diagnostics": [
//            {"file", "line", "column", "severity", "code", "message"}, ...]}
// With --adapters F, every action and compensation is also checked against the adapters F
// configures (as deploy, run and serve check them).
// Exit 0 when every file is valid (warnings allowed), 1 when any file has an error (with
// --strict, also when any has a warning), 2 on a usage error.
#include <fmt/format.h>

#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/cli/cli_support.hpp"
#include "engine/cli/commands.hpp"
#include "rmaflow/definition.hpp"

namespace rmaflow::cli {

namespace {

struct ValidateOptions {
  std::vector<std::string> files;
  std::string format = "text";
  bool strict = false;
  std::string adapters;
};

std::size_t warnings(const LoadResult& result) {
  std::size_t n = 0;
  for (const auto& d : result.diagnostics) n += d.severity == Severity::warning ? 1 : 0;
  return n;
}

// Valid, and under --strict also free of warnings.
bool passes(const LoadResult& result, bool strict) {
  return result.ok() && (!strict || warnings(result) == 0);
}

nlohmann::ordered_json to_json(const Diagnostic& d) {
  return {
      {"file", d.file},           {"line", d.where.line},
      {"column", d.where.column}, {"severity", d.severity == Severity::error ? "error" : "warning"},
      {"code", d.code},           {"message", d.message}};
}

void print_text(const std::string& file, const LoadResult& result, bool strict) {
  for (const auto& d : result.diagnostics) fmt::print("{}\n", format_diagnostic(d));
  if (result.ok() && !passes(result, strict)) {
    fmt::print("{}: fails --strict ({} warning(s))\n", file, warnings(result));
  } else if (result.ok()) {
    const Definition& def = *result.definition;
    fmt::print("{}: ok (workflow {} version {}, {} steps)\n", file, def.name, def.version,
               def.steps.size());
  }
}

nlohmann::ordered_json file_report(const std::string& file, const LoadResult& result,
                                   bool strict) {
  nlohmann::ordered_json report = {{"file", file}, {"valid", passes(result, strict)}};
  if (result.ok()) {
    report["workflow"] = result.definition->name;
    report["version"] = result.definition->version;
    report["steps"] = result.definition->steps.size();
  }
  report["diagnostics"] = nlohmann::ordered_json::array();
  for (const auto& d : result.diagnostics) report["diagnostics"].push_back(to_json(d));
  return report;
}

// With --adapters, a definition whose actions the adapters cannot run is invalid: its
// diagnostics gain those errors and it loses its definition.
void check_against(const AdapterRegistry* adapters, LoadResult& result) {
  if (adapters == nullptr || !result.ok()) return;
  auto unknown = check_actions(*result.definition, *adapters);
  if (unknown.empty()) return;
  result.diagnostics.insert(result.diagnostics.end(), unknown.begin(), unknown.end());
  result.definition.reset();
}

int run_validate(const ValidateOptions& options) {
  std::shared_ptr<AdapterRegistry> adapters;
  if (!options.adapters.empty()) adapters = load_adapters(options.adapters);
  bool all_valid = true;
  nlohmann::ordered_json reports = nlohmann::ordered_json::array();
  for (const auto& file : options.files) {
    LoadResult result = load_definition_file(file);
    check_against(adapters.get(), result);
    all_valid = all_valid && passes(result, options.strict);
    if (options.format == "json")
      reports.push_back(file_report(file, result, options.strict));
    else
      print_text(file, result, options.strict);
  }
  if (options.format == "json") fmt::print("{}\n", reports.dump(2));
  std::fflush(stdout);
  return all_valid ? kExitOk : kExitFailure;
}

}  // namespace

void register_validate(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<ValidateOptions>();
  auto* cmd = app.add_subcommand(
      "validate",
      "Load and check workflow definitions, and lint them. Diagnostics and results go to "
      "stdout, one line each (FILE:LINE:COL: error[CODE]: message, or warning[CODE]), or as one "
      "JSON array with --format json. Exit 0 when every file is valid, 1 when any has an error "
      "(or, with --strict, a warning), 2 on usage errors.");
  cmd->add_option("files", options->files, "Workflow YAML files")->required();
  cmd->add_option("--format", options->format,
                  "text (default), or json: [{file, valid, workflow, version, steps, "
                  "diagnostics: [{file, line, column, severity, code, message}]}]")
      ->check(CLI::IsMember({"text", "json"}));
  cmd->add_flag("--strict", options->strict,
                "Treat warnings (the lints) as failures: exit 1 when any file has one");
  cmd->add_option("--adapters", options->adapters,
                  "Adapters file: also check that every action and compensation names a "
                  "configured adapter and one of its operations (error unknown-action)");
  cmd->callback([options, &exit_code] { exit_code = run_validate(*options); });
}

}  // namespace rmaflow::cli
