// rmaflow bench: the engine's throughput and per-step overhead on the builtin noop adapter,
// next to the raw SQLite append rates measured in the same run on the same disk.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <filesystem>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "engine/cli/cli_support.hpp"
#include "engine/cli/commands.hpp"
#include "engine/store/raw_append_bench.hpp"
#include "rmaflow/engine.hpp"

namespace rmaflow::cli {

namespace {

namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;

struct BenchOptions {
  int instances = 20000;
  int steps = 5;
  std::string sync = "full";
  std::string db;
  int raw_budget_ms = 1000;
};

// A K-step workflow of noop tasks, each rendering its input from the context.
std::string bench_workflow(int steps) {
  std::string yaml = "workflow: bench\nversion: 1\nstart: step1\nsteps:\n";
  for (int i = 1; i <= steps; ++i) {
    yaml += fmt::format(
        "  step{}:\n    action: builtin.noop\n    with: {{ rma: \"${{ .input.rma_id }}\", n: {} }}\n"
        "    next: {}\n",
        i, i, i == steps ? std::string("done") : fmt::format("step{}", i + 1));
  }
  yaml += "  done: { end: completed }\n";
  return yaml;
}

double percentile(std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  auto index = static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1));
  return sorted[index];
}

// Removes a scratch directory when the bench ends, however it ends.
struct ScratchDir {
  fs::path path;
  bool owned = false;
  ~ScratchDir() {
    std::error_code ec;
    if (owned) fs::remove_all(path, ec);
  }
};

int bench(const BenchOptions& opt) {
  ScratchDir scratch;
  std::string db_path = opt.db;
  if (db_path.empty()) {
    std::string pattern = (fs::temp_directory_path() / "rmaflow-bench-XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw Error(Errc::io, "cannot create a scratch directory for the benchmark");
    scratch.path = pattern;
    scratch.owned = true;
    db_path = (scratch.path / "bench.db").string();
  } else if (fs::exists(db_path)) {
    throw Error(Errc::invalid_argument,
                fmt::format("{} exists; the benchmark needs a new database file", db_path));
  }
  auto dir = fs::absolute(db_path).parent_path().string();

  auto loaded = load_definition(bench_workflow(opt.steps), "bench.yaml");
  if (!loaded.ok()) throw DefinitionError(loaded.diagnostics);

  std::vector<double> step_latency_ms;
  step_latency_ms.reserve(static_cast<std::size_t>(opt.instances) * opt.steps);
  EngineOptions eo;
  eo.db_path = db_path;
  eo.sync = parse_sync(opt.sync);
  eo.on_step_latency = [&](std::chrono::nanoseconds d) {
    step_latency_ms.push_back(static_cast<double>(d.count()) / 1e6);
  };
  auto engine = Engine::open(std::move(eo));
  engine->deploy(loaded.definition);

  auto started = SteadyClock::now();
  std::vector<std::future<StartResult>> futures;
  futures.reserve(static_cast<std::size_t>(opt.instances));
  for (int i = 0; i < opt.instances; ++i) {
    StartRequest request;
    request.workflow = "bench";
    request.input = {{"rma_id", fmt::format("RMA-{}", i)}};
    futures.push_back(engine->start(std::move(request)));
  }
  engine->run_until_idle();
  double seconds = std::chrono::duration<double>(SteadyClock::now() - started).count();
  for (auto& f : futures) f.get();
  auto stats = engine->stats();
  auto completed = engine->store().list_instances(
      InstanceFilter{{InstanceStatus::completed}, "", std::nullopt, "", "", "",
                     static_cast<std::size_t>(opt.instances) + 1});
  if (completed.size() != static_cast<std::size_t>(opt.instances)) {
    throw Error(Errc::storage, fmt::format("only {} of {} benchmark instances completed",
                                           completed.size(), opt.instances));
  }
  engine.reset();

  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);

  RawAppendOptions raw_opt;
  raw_opt.directory = dir;
  raw_opt.sync = parse_sync(opt.sync);
  raw_opt.budget = std::chrono::milliseconds(opt.raw_budget_ms);
  auto raw = measure_raw_append(raw_opt);

  std::sort(step_latency_ms.begin(), step_latency_ms.end());
  double transitions_per_s = static_cast<double>(stats.events) / seconds;
  nlohmann::json report = {
      {"instances", opt.instances},
      {"steps", opt.steps},
      {"sync", opt.sync},
      {"seconds", seconds},
      {"instances_per_s", opt.instances / seconds},
      {"transitions", stats.events},
      {"transitions_per_s", transitions_per_s},
      {"commits", stats.commits},
      {"transitions_per_commit", static_cast<double>(stats.events) / std::max<double>(1, stats.commits)},
      {"step_latency_ms", {{"p50", percentile(step_latency_ms, 0.50)},
                           {"p99", percentile(step_latency_ms, 0.99)},
                           {"samples", step_latency_ms.size()}}},
      {"peak_rss_mb", static_cast<double>(usage.ru_maxrss) / 1024.0},
      {"raw_sqlite",
       {{"single_row_commits_per_s", raw.single_row_commits_per_s},
        {"batched_rows_per_s", raw.batched_rows_per_s},
        {"rows_per_batch", raw_opt.rows_per_commit}}},
      {"ratio_transitions_to_single_commit_rate",
       transitions_per_s / std::max(1.0, raw.single_row_commits_per_s)},
      {"ratio_transitions_to_batched_rate",
       transitions_per_s / std::max(1.0, raw.batched_rows_per_s)},
  };
  fmt::print("{}\n", report.dump(2));
  return kExitOk;
}

}  // namespace

void register_bench(CLI::App& app, int& exit_code) {
  auto opt = std::make_shared<BenchOptions>();
  auto* cmd = app.add_subcommand(
      "bench", "Measure engine throughput and per-step overhead on noop steps, next to raw "
               "SQLite append rates on the same disk; prints JSON");
  cmd->add_option("--instances", opt->instances, "Instances to run (default 20000)")
      ->check(CLI::Range(1, 10'000'000));
  cmd->add_option("--steps", opt->steps, "Task steps per instance (default 5)")
      ->check(CLI::Range(1, 1000));
  cmd->add_option("--sync", opt->sync, "SQLite synchronous mode: full (default) or normal")
      ->check(CLI::IsMember({"full", "normal"}));
  cmd->add_option("--db", opt->db, "New database file to use (default: a scratch directory)");
  cmd->add_option("--raw-budget-ms", opt->raw_budget_ms,
                  "Time for each raw SQLite measurement (default 1000)")
      ->check(CLI::Range(50, 60'000));
  cmd->callback([opt, &exit_code] { exit_code = bench(*opt); });
}

}  // namespace rmaflow::cli
