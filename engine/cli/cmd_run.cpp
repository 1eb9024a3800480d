// rmaflow run: the embedded mode. Deploys the workflows of a directory, resumes what the
// database left unfinished, starts one instance per input, and runs until every instance is
// finished, waiting or suspended; then prints what became of them.
#include <algorithm>
#include <cstdio>
#include <map>

#include <fmt/format.h>

#include "engine/api/views.hpp"
#include "engine/cli/cli_support.hpp"
#include "engine/cli/commands.hpp"
#include "engine/cli/instance_view.hpp"
#include "rmaflow/engine.hpp"

namespace rmaflow::cli {

namespace {

struct RunOptions {
  std::string db;
  std::string workflows;
  std::string adapters;
  std::string workflow;
  std::string sync = "full";
  std::string format = "text";
  std::vector<std::string> inputs;
};

std::string pick_workflow(const RunOptions& opt,
                          const std::vector<std::shared_ptr<const Definition>>& defs) {
  if (!opt.workflow.empty()) {
    for (const auto& d : defs)
      if (d->name == opt.workflow) return opt.workflow;
    throw Error(Errc::not_found,
                fmt::format("no workflow named {} in {}", opt.workflow, opt.workflows));
  }
  std::string only;
  for (const auto& d : defs) {
    if (!only.empty() && only != d->name) {
      throw Error(
          Errc::invalid_argument,
          fmt::format("{} holds several workflows; choose one with --workflow", opt.workflows));
    }
    only = d->name;
  }
  return only;
}

int run(const RunOptions& opt) {
  auto defs = load_workflow_dir_reporting(opt.workflows, "run");
  if (!defs) return kExitFailure;
  // Read every input before touching the database, so a bad file changes nothing.
  auto inputs = read_named_inputs(opt.inputs);
  // A named workflow must exist even when there is nothing to start: the name is a mistake.
  std::string workflow =
      inputs.empty() && opt.workflow.empty() ? std::string() : pick_workflow(opt, *defs);
  auto engine = open_engine(opt.db, opt.sync, opt.adapters);
  for (const auto& def : *defs) engine->deploy(def);

  std::vector<std::string> ids;
  for (const auto& row : engine->store().active_instances()) ids.push_back(row.id);
  std::size_t resumed = ids.size();
  // Commands queued by the offline CLI: the engine applies them as it opens; their outcomes
  // are committed with its first batch.
  auto commands = engine->store().pending_commands(10'000);
  for (const auto& c : commands) {
    if (std::find(ids.begin(), ids.end(), c.instance_id) == ids.end()) ids.push_back(c.instance_id);
  }

  std::vector<std::pair<std::string, std::future<StartResult>>> starts;
  for (auto& [name, input] : inputs) {
    StartRequest request;
    request.workflow = workflow;
    request.input = std::move(input);
    starts.emplace_back(name, engine->start(std::move(request)));
  }
  engine->run_until_idle();

  int exit_code = kExitOk;
  std::size_t created = 0;
  for (auto& [name, future] : starts) {
    try {
      auto result = future.get();
      if (std::find(ids.begin(), ids.end(), result.instance_id) == ids.end()) {
        ids.push_back(result.instance_id);
      }
      created += result.created ? 1 : 0;
      if (!result.created && opt.format == "text") {
        fmt::print("{}: already started as instance {}\n", name, result.instance_id);
      }
    } catch (const Error& e) {
      fmt::print(stderr, "rmaflow: {}: {}\n", name, e.what());
      exit_code = kExitFailure;
    }
  }

  std::vector<InstanceRow> rows;
  for (const auto& id : ids) {
    if (auto row = engine->store().get_instance(id)) rows.push_back(std::move(*row));
  }
  if (opt.format == "json") {
    fmt::print("{}\n", api::instances_json(rows).dump(2));
  } else {
    for (const auto& queued : commands) {
      auto done = engine->store().get_command(queued.id);
      fmt::print("command {} ({} {}): {}\n", queued.id, queued.kind, queued.instance_id,
                 done && !done->outcome.empty() ? done->outcome : "pending");
    }
    fmt::print("{}", instances_table(api::instances_json(rows)));
    std::map<std::string, int> totals;
    for (const auto& r : rows) ++totals[std::string(to_string(r.status))];
    std::vector<std::string> parts;
    for (const auto& [status, n] : totals) parts.push_back(fmt::format("{} {}", n, status));
    fmt::print("\n{} instance(s): {} started, {} resumed; {}\n", rows.size(), created, resumed,
               parts.empty() ? "nothing to do" : fmt::format("{}", fmt::join(parts, ", ")));
  }
  return exit_code;
}

}  // namespace

void register_run(CLI::App& app, int& exit_code) {
  auto opt = std::make_shared<RunOptions>();
  auto* cmd = app.add_subcommand(
      "run",
      "Run workflows embedded: deploy DIR's workflows, resume unfinished instances, start "
      "one instance per input, run until all are finished, waiting or suspended");
  cmd->add_option("--db", opt->db, "Database file (created if missing)")->required();
  cmd->add_option("--workflows", opt->workflows, "Directory of workflow YAML files")->required();
  cmd->add_option("--adapters", opt->adapters, "Adapters YAML file (default: builtin only)");
  cmd->add_option("--workflow", opt->workflow,
                  "Workflow to start for the inputs (needed when DIR holds several)");
  cmd->add_option("--sync", opt->sync, "SQLite synchronous mode: full (default) or normal")
      ->check(CLI::IsMember({"full", "normal"}));
  cmd->add_option("--format", opt->format, "Output: text (default) or json")
      ->check(CLI::IsMember({"text", "json"}));
  cmd->add_option("inputs", opt->inputs,
                  "JSON files, each one input object or an array of input objects");
  cmd->callback([opt, &exit_code] { exit_code = run(*opt); });
}

}  // namespace rmaflow::cli
