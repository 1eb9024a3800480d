// rmaflow: the command-line entry point. Every failure ends as one sentence on stderr and a
// non-zero exit; nothing escapes as an uncaught exception.
#include <cstdio>
#include <exception>

#include <fmt/format.h>

#include "engine/cli/commands.hpp"
#include "rmaflow/errors.hpp"

int main(int argc, char** argv) {
  using namespace rmaflow::cli;
  CLI::App app{"rmaflow: durable workflows for product returns", "rmaflow"};
  app.require_subcommand(1);
  int exit_code = kExitOk;
  register_validate(app, exit_code);
  register_run(app, exit_code);
  register_queries(app, exit_code);
  register_bench(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  } catch (const rmaflow::Error& e) {
    fmt::print(stderr, "rmaflow: {}\n", e.what());
    return kExitFailure;
  } catch (const std::exception& e) {
    fmt::print(stderr, "rmaflow: unexpected error: {}\n", e.what());
    return kExitFailure;
  }
  return exit_code;
}
