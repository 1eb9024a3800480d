// rmaflow: the command-line entry point. Every failure ends as one sentence on stderr and a
// non-zero exit; nothing escapes as an uncaught exception.
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "engine/cli/commands.hpp"
#include "engine/cli/table.hpp"
#include "engine/support/utf8.hpp"
#include "rmaflow/errors.hpp"

namespace {

// The names of the subcommands, for the sentence that reports a missing or unknown one.
std::vector<std::string> command_list(CLI::App& app) {
  std::vector<std::string> names;
  // A command in no group is the binary's own business (layout-graph), never shown.
  for (const auto* sub : app.get_subcommands([](CLI::App* s) { return !s->get_group().empty(); }))
    names.push_back(sub->get_name());
  return names;
}

std::string command_names(CLI::App& app) {
  return fmt::format("{}", fmt::join(command_list(app), ", "));
}

bool is_command(CLI::App& app, const std::string& name) {
  auto all = app.get_subcommands([](CLI::App*) { return true; });
  return std::any_of(all.begin(), all.end(),
                     [&](CLI::App* sub) { return sub->get_name() == name; });
}

// CLI11 would print its message and a second "Run with --help" line; the product prints one
// sentence naming the subcommand and the option at fault.
int usage_error(CLI::App& app, const CLI::ParseError& e) {
  std::string where = "rmaflow";
  if (auto parsed = app.get_subcommands(); !parsed.empty())
    where += " " + parsed.back()->get_name();
  fmt::print(stderr, "{}: {} (see {} --help)\n", where, rmaflow::cli::printable(e.what()), where);
  return rmaflow::cli::kExitUsage;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace rmaflow::cli;
  CLI::App app{"rmaflow: durable workflows for product returns", "rmaflow"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("rmaflow ") + RMAFLOW_VERSION,
                       "Print the version and exit");
  int exit_code = kExitOk;
  register_validate(app, exit_code);
  register_run(app, exit_code);
  register_deploy(app, exit_code);
  register_versions(app, exit_code);
  register_graph(app, exit_code);
  register_serve(app, exit_code);
  register_start(app, exit_code);
  register_migrate(app, exit_code);
  register_simulate(app, exit_code);
  register_queries(app, exit_code);
  register_bench(app, exit_code);
  register_report(app, exit_code);
  register_audit(app, exit_code);
  register_operator_commands(app, exit_code);
  register_commands(app, exit_code);
  register_jobs(app, exit_code);
  register_token(app, exit_code);
  register_db(app, exit_code);
  // Arguments end up in JSON (queued commands, requests, history events), which holds text only.
  for (int i = 1; i < argc; ++i) {
    if (!rmaflow::is_valid_utf8(argv[i])) {
      fmt::print(stderr, "rmaflow: argument {} is not valid UTF-8 text\n", i);
      return kExitUsage;
    }
  }
  register_completion(app, exit_code);
  // CLI11 reports an unknown subcommand as "a subcommand is required": name it instead.
  if (argc < 2) {
    fmt::print(stderr, "rmaflow: a command is required: {} (see rmaflow --help)\n",
               command_names(app));
    return kExitUsage;
  }
  if (std::string first = argv[1]; first.rfind("-", 0) != 0 && !is_command(app, first)) {
    fmt::print(stderr,
               "rmaflow: unknown command \"{}\"; the commands are {} (see rmaflow --help)\n", first,
               command_names(app));
    return kExitUsage;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return usage_error(app, e);
  } catch (const rmaflow::Error& e) {
    // The sentence may quote what came from outside (an id, a server's detail): shown as text,
    // never as terminal control.
    fmt::print(stderr, "rmaflow: {}\n", rmaflow::cli::printable(e.what()));
    return kExitFailure;
  } catch (const std::exception& e) {
    fmt::print(stderr, "rmaflow: unexpected error: {}\n", rmaflow::cli::printable(e.what()));
    return kExitFailure;
  }
  return exit_code;
}
