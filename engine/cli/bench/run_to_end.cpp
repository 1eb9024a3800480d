// The modes that start their instances at once and run them to the end: throughput, fanout.
#include <fmt/format.h>
#include <sys/resource.h>

#include <algorithm>
#include <filesystem>
#include <future>

#include "engine/cli/bench/bench_modes.hpp"
#include "engine/cli/bench/bench_report.hpp"
#include "engine/cli/bench/bench_workflows.hpp"
#include "engine/cli/cli_support.hpp"
#include "rmaflow/engine.hpp"

namespace rmaflow::cli::bench {

namespace fs = std::filesystem;

nlohmann::json run_to_end(
    const BenchOptions& opt, const std::string& db_path, const std::string& yaml,
    const std::string& name, const std::function<nlohmann::json(int)>& input,
    std::function<void(const WriteBatch&, std::chrono::nanoseconds)> on_commit,
    double trace_sample) {
  auto loaded = load_definition(yaml, name + ".yaml");
  if (!loaded.ok()) throw DefinitionError(loaded.diagnostics);

  std::vector<double> step_latency_ms;
  step_latency_ms.reserve(static_cast<std::size_t>(opt.instances) * opt.steps);
  EngineOptions eo;
  eo.db_path = db_path;
  eo.sync = parse_sync(opt.sync);
  eo.on_step_latency = [&](std::chrono::nanoseconds d) {
    step_latency_ms.push_back(static_cast<double>(d.count()) / 1e6);
  };
  eo.on_commit = std::move(on_commit);
  eo.trace_sample = trace_sample;
  auto engine = Engine::open(std::move(eo));
  engine->deploy(loaded.definition);

  // The engine runs on this thread (run_until_idle): its CPU time is the engine's own, apart
  // from the disk's waits and any other thread's work.
  auto thread_cpu = [] { return cpu_seconds(RUSAGE_THREAD); };
  double cpu_before = thread_cpu();
  auto started = SteadyClock::now();
  std::vector<std::future<StartResult>> futures;
  futures.reserve(static_cast<std::size_t>(opt.instances));
  for (int i = 0; i < opt.instances; ++i) {
    StartRequest request;
    request.workflow = name;
    request.input = input(i);
    futures.push_back(engine->start(std::move(request)));
  }
  engine->run_until_idle();
  double seconds = std::chrono::duration<double>(SteadyClock::now() - started).count();
  double engine_cpu = thread_cpu() - cpu_before;
  for (auto& f : futures) f.get();
  auto stats = engine->stats();
  InstanceFilter finished;
  finished.statuses = {InstanceStatus::completed};
  finished.limit = static_cast<std::size_t>(opt.instances) + 1;
  auto completed = engine->store().list_instances(finished);
  if (completed.size() != static_cast<std::size_t>(opt.instances)) {
    throw Error(Errc::storage, fmt::format("only {} of {} benchmark instances completed",
                                           completed.size(), opt.instances));
  }
  engine.reset();
  std::sort(step_latency_ms.begin(), step_latency_ms.end());
  double transitions_per_s = static_cast<double>(stats.events) / seconds;
  return {{"workflow", name},
          {"instances", opt.instances},
          {"seconds", seconds},
          {"instances_per_s", opt.instances / seconds},
          {"engine_cpu_seconds", engine_cpu},
          {"transitions", stats.events},
          {"transitions_per_s", transitions_per_s},
          {"adapter_calls", stats.invocations},
          {"commits", stats.commits},
          {"transitions_per_commit",
           static_cast<double>(stats.events) / std::max<double>(1, stats.commits)},
          {"step_latency_ms",
           {{"p50", percentile(step_latency_ms, 0.50)},
            {"p99", percentile(step_latency_ms, 0.99)},
            {"samples", step_latency_ms.size()}}}};
}

int throughput_mode(const BenchOptions& opt, const std::string& db_path,
                    const std::string& raw_dir) {
  auto report = run_to_end(opt, db_path, bench_workflow(opt), "bench", start_input(opt));
  report["steps"] = opt.steps;
  report["input_lines"] = opt.input_lines;
  report["results"] = opt.results;
  name_store(report, opt);
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  report["peak_rss_mb"] = static_cast<double>(usage.ru_maxrss) / 1024.0;
  report.update(raw_rates(opt, raw_dir, report["transitions_per_s"].get<double>()));
  print_report(report);
  return kExitOk;
}

int fan_out_mode(const BenchOptions& opt, const std::string& db_path) {
  auto linear =
      run_to_end(opt, db_path + ".linear", bench_workflow(opt), "bench", start_input(opt));
  auto fan_out = run_to_end(opt, db_path, fan_out_workflow(opt.steps), "bench-lines", [&](int i) {
    nlohmann::json lines = nlohmann::json::array();
    for (int l = 0; l < opt.lines; ++l) lines.push_back({{"id", fmt::format("L{}", l)}});
    return nlohmann::json{{"rma_id", fmt::format("RMA-{}", i)}, {"lines", lines}};
  });
  fan_out["lines"] = opt.lines;
  fan_out["branches"] = opt.instances * opt.lines;
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  nlohmann::json report = {
      {"mode", "fanout"},  {"steps", opt.steps},
      {"sync", opt.sync},  {"linear", linear},
      {"fanout", fan_out}, {"peak_rss_mb", static_cast<double>(usage.ru_maxrss) / 1024.0}};
  report.update(raw_rates(opt, fs::absolute(db_path).parent_path().string(),
                          fan_out["transitions_per_s"].get<double>()));
  print_report(report);
  return kExitOk;
}

}  // namespace rmaflow::cli::bench
