// rmaflow run: the embedded mode. Deploys the workflows of a directory, resumes what the
// database left unfinished, starts one instance per input, and runs until every instance is
// finished, waiting or suspended; then prints what became of them. With --clock virtual it
// runs in virtual time: waits, retries and simulated latencies pass at once, so weeks of
// returns run in seconds.
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <unordered_set>

#include "engine/api/views.hpp"
#include "engine/cli/cli_support.hpp"
#include "engine/cli/commands.hpp"
#include "engine/cli/instance_view.hpp"
#include "engine/cli/run_summary.hpp"
#include "engine/observe/deployed_definitions.hpp"
#include "engine/observe/observability.hpp"
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
  std::string clock = "real";
  std::string start;
  std::string horizon;  // default 365d
  std::string metrics;  // file for what the run measured
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
      throw Error(Errc::invalid_argument,
                  fmt::format("{} holds several workflows; choose one with --workflow, or name "
                              "it in each input as {{\"workflow\": ..., \"input\": ...}}",
                              opt.workflows));
    }
    only = d->name;
  }
  return only;
}

// The latest moment the database has recorded: a virtual clock resumes from there, never
// earlier, so that no timer appears to run backwards.
std::optional<TimePoint> latest_recorded(Store& store) {
  std::optional<TimePoint> latest;
  for_each_instance(store, {}, [&](InstanceRow& row) {
    auto t = std::max(row.updated_at, row.ended_at.value_or(row.updated_at));
    if (!latest || t > *latest) latest = t;
    return true;
  });
  return latest;
}

// The instances this run moves on: those in memory (running, compensating) and those waiting
// for a timer due by `until`.
std::vector<std::string> instances_to_resume(Store& store, TimePoint until) {
  std::vector<std::string> ids;
  for (const auto& row : store.active_instances()) ids.push_back(row.id);
  InstanceFilter waiting;
  waiting.statuses = {InstanceStatus::waiting};
  for_each_instance(store, waiting, [&](InstanceRow& row) {
    if (row.deadline && *row.deadline <= until) ids.push_back(row.id);
    return true;
  });
  return ids;
}

std::shared_ptr<ManualClock> virtual_clock(const RunOptions& opt) {
  TimePoint start = std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now());
  if (!opt.start.empty()) {
    auto parsed = parse_time(opt.start);
    if (!parsed) {
      throw Error(Errc::invalid_argument,
                  fmt::format("--start \"{}\" is not a time such as 2025-06-02T08:00:00Z", opt.start));
    }
    start = *parsed;
  }
  if (is_postgres_location(opt.db) || std::filesystem::exists(opt.db)) {
    // Writable: an older database is migrated here (as the engine would), an empty file made one.
    auto store = open_store(opt.db, StoreOptions{SyncMode::normal, false});
    if (auto latest = latest_recorded(*store)) start = std::max(start, *latest);
  }
  return std::make_shared<ManualClock>(start);
}

// What the run measured, as /metrics would show it (Prometheus text).
void write_metrics_file(const observe::Observability& observability, const std::string& path) {
  std::string text;
  observability.write_metrics(text);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out.flush()) throw Error(Errc::io, fmt::format("cannot write the metrics to {}", path));
}

int run(const RunOptions& opt) {
  auto defs = load_workflow_dir_reporting(opt.workflows, "run", opt.db);
  if (!defs) return kExitFailure;
  if (opt.clock == "real" && (!opt.start.empty() || !opt.horizon.empty())) {
    throw Error(Errc::invalid_argument,
                "--start and --until are for the virtual clock; add --clock virtual");
  }
  auto horizon = parse_duration(opt.horizon.empty() ? "365d" : opt.horizon);
  if (!horizon) {
    throw Error(Errc::invalid_argument,
                fmt::format("--until \"{}\" is not a duration such as 90d", opt.horizon));
  }
  // Read every input before touching the database, so a bad file changes nothing.
  std::vector<StartInput> inputs = read_start_inputs(opt.inputs);
  bool bare = std::any_of(inputs.begin(), inputs.end(),
                          [](const StartInput& in) { return !in.names_workflow; });
  // A named workflow must exist even when there is nothing to start: the name is a mistake.
  std::string workflow = bare || !opt.workflow.empty() ? pick_workflow(opt, *defs) : "";
  for (auto& in : inputs)
    if (!in.names_workflow) in.request.workflow = workflow;
  auto adapters = load_adapters(opt.adapters);
  if (!check_actions_reporting(*defs, *adapters, opt.adapters, "run")) return kExitFailure;
  check_db_path(opt.db);  // before the virtual clock reads the database's latest time
  std::shared_ptr<ManualClock> clock;
  if (opt.clock == "virtual") clock = virtual_clock(opt);
  std::shared_ptr<observe::Observability> observability;
  if (!opt.metrics.empty()) {
    auto deployed = std::make_shared<observe::DeployedDefinitions>(opt.db, *defs);
    observability = std::make_shared<observe::Observability>(
        [deployed](const std::string& name, int version) { return deployed->get(name, version); });
  }
  auto engine = open_engine(opt.db, opt.sync, adapters, clock,
                            observability ? observe::Observability::commit_observer(observability)
                                          : nullptr);
  for (const auto& def : *defs) engine->deploy(def);

  auto until = clock ? clock->now() + *horizon
                     : std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now());
  // The instances the summary shows, in the order first met: those resumed, those commands
  // queued for, those started. A run may start hundreds of thousands.
  std::vector<std::string> ids = instances_to_resume(engine->store(), until);
  std::unordered_set<std::string> listed(ids.begin(), ids.end());
  auto list = [&](const std::string& id) {
    if (listed.insert(id).second) ids.push_back(id);
  };
  std::size_t resumed = ids.size();
  // Commands queued by the offline CLI: the engine applies them as it opens; their outcomes
  // are committed with its first batch.
  auto commands = engine->store().pending_commands(10'000);
  for (const auto& c : commands) list(c.instance_id);

  std::vector<std::pair<std::string, std::future<StartResult>>> starts;
  for (auto& in : inputs) starts.emplace_back(in.name, engine->start(std::move(in.request)));
  if (clock) {
    engine->run_virtual(until);
  } else {
    engine->run_until_idle();
  }

  int exit_code = kExitOk;
  std::size_t created = 0;
  for (auto& [name, future] : starts) {
    try {
      auto result = future.get();
      list(result.instance_id);
      created += result.created ? 1 : 0;
      if (!result.created && opt.format == "text") {
        fmt::print("{}: already started as instance {}\n", name, result.instance_id);
      }
    } catch (const Error& e) {
      fmt::print(stderr, "rmaflow: {}: {}\n", name, e.what());
      exit_code = kExitFailure;
    }
  }

  if (observability) write_metrics_file(*observability, opt.metrics);

  std::vector<InstanceRow> rows;
  for (const auto& id : ids) {
    if (auto row = engine->store().get_instance(id)) rows.push_back(std::move(*row));
  }
  if (opt.format == "json") {
    fmt::print("{}\n", api::instances_json(rows).dump(2));
    return exit_code;
  }
  for (const auto& queued : commands) {
    auto done = engine->store().get_command(queued.id);
    fmt::print("command {} ({} {}): {}\n", queued.id, queued.kind, queued.instance_id,
               done && !done->outcome.empty() ? done->outcome : "pending");
  }
  auto now = clock ? clock->now() : std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now());
  fmt::print("{}", render_run_summary(RunSummary{rows, created, resumed, now}, engine->store()));
  if (clock) {
    fmt::print("virtual clock: {} (durations above are virtual time)\n", format_time(now));
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
  cmd->add_option("--db", opt->db, "Database: a SQLite file (created if missing) or a postgresql:// URI")->required();
  cmd->add_option("--workflows", opt->workflows, "Directory of workflow YAML files")->required();
  cmd->add_option("--adapters", opt->adapters, "Adapters YAML file (default: builtin only)");
  cmd->add_option("--workflow", opt->workflow,
                  "Workflow to start for bare inputs (needed when DIR holds several)");
  cmd->add_option("--sync", opt->sync, "SQLite synchronous mode: full (default) or normal")
      ->check(CLI::IsMember({"full", "normal"}));
  cmd->add_option("--clock", opt->clock,
                  "real (default), or virtual: timers and simulated latencies pass at once")
      ->check(CLI::IsMember({"real", "virtual"}));
  cmd->add_option("--start", opt->start,
                  "With --clock virtual: the time it starts at (default: now, or where the "
                  "database left off if later)");
  cmd->add_option("--until", opt->horizon,
                  "With --clock virtual: how far ahead to run (default 365d)");
  cmd->add_option("--format", opt->format, "Output: text (default) or json")
      ->check(CLI::IsMember({"text", "json"}));
  cmd->add_option("--metrics", opt->metrics,
                  "Write what this run measured to FILE, as serve's /metrics shows it "
                  "(Prometheus text: step, adapter-call, commit and milestone histograms)");
  cmd->add_option("inputs", opt->inputs,
                  "JSON files, each an input object or an array of them; an element "
                  "{\"workflow\": W, \"input\": {...}} starts workflow W");
  cmd->callback([opt, &exit_code] { exit_code = run(*opt); });
}

}  // namespace rmaflow::cli
