// The rmaflow subcommands. Each register_* adds one subcommand to the app; its callback
// returns the process exit code through `exit_code`. Errors the user can fix are reported
// by throwing rmaflow::Error (main prints its message as one sentence and exits 1).
#pragma once

#include <CLI/CLI.hpp>

namespace rmaflow::cli {

// Exit codes shared by every subcommand.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // invalid, refused, or an error
inline constexpr int kExitUsage = 2;

void register_validate(CLI::App& app, int& exit_code);
void register_run(CLI::App& app, int& exit_code);
void register_queries(CLI::App& app, int& exit_code);  // list, show, history
void register_start(CLI::App& app, int& exit_code);
void register_serve(CLI::App& app, int& exit_code);
void register_token(CLI::App& app, int& exit_code);  // token add, list, remove
void register_db(CLI::App& app, int& exit_code);     // db check, backup
void register_bench(CLI::App& app, int& exit_code);
void register_report(CLI::App& app, int& exit_code);  // report sla
void register_audit(CLI::App& app, int& exit_code);   // audit (cmd_report.cpp)
void register_deploy(CLI::App& app, int& exit_code);
void register_versions(CLI::App& app, int& exit_code);
void register_graph(CLI::App& app, int& exit_code);
void register_migrate(CLI::App& app, int& exit_code);
void register_simulate(CLI::App& app, int& exit_code);  // simulate, test
// signal, retry, skip, goto, cancel, patch, resolve
void register_operator_commands(CLI::App& app, int& exit_code);
void register_commands(CLI::App& app, int& exit_code);  // commands list, withdraw
void register_jobs(CLI::App& app, int& exit_code);      // job start, list, show, cancel
void register_completion(CLI::App& app, int& exit_code);  // completion bash

}  // namespace rmaflow::cli
