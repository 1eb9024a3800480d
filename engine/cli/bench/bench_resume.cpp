// --mode resume: what reopening a database of waiting instances costs, in a fresh process.
#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <future>

#include "engine/cli/bench/bench_modes.hpp"
#include "engine/cli/bench/bench_report.hpp"
#include "engine/cli/cli_support.hpp"
#include "rmaflow/engine.hpp"

namespace rmaflow::cli::bench {

namespace fs = std::filesystem;

int resume_child(const BenchOptions& opt) {
  double rss_before = current_rss_mb();
  auto started = SteadyClock::now();
  EngineOptions eo;
  eo.db_path = opt.resume_db;
  eo.sync = parse_sync(opt.sync);
  auto engine = Engine::open(std::move(eo));
  engine->run_until_idle();
  double seconds = std::chrono::duration<double>(SteadyClock::now() - started).count();
  nlohmann::json out = {{"resume_seconds", seconds},
                        {"rss_mb_before_open", rss_before},
                        {"rss_mb_after_resume", current_rss_mb()},
                        {"instances_in_memory", engine->stats().active_instances}};
  fmt::print("{}\n", out.dump());
  return kExitOk;
}

int resume_mode(const BenchOptions& opt, const std::string& db_path) {
  std::string timeout = opt.wait_timeout.empty() ? "" : ", timeout: " + opt.wait_timeout;
  auto loaded = load_definition(
      "workflow: waiting\nversion: 1\nstart: receipt\nsteps:\n"
      "  receipt:\n    wait: { signal: warehouse.received" +
          timeout +
          " }\n    result: receipt\n"
          "    next: done\n  done: { end: completed }\n",
      "waiting.yaml");
  if (!loaded.ok()) throw DefinitionError(loaded.diagnostics);
  auto started = SteadyClock::now();
  {
    EngineOptions eo;
    eo.db_path = db_path;
    eo.sync = parse_sync(opt.sync);
    auto engine = Engine::open(std::move(eo));
    engine->deploy(loaded.definition);
    std::vector<std::future<StartResult>> futures;
    for (int i = 0; i < opt.instances; ++i) {
      StartRequest request;
      request.workflow = "waiting";
      request.input = {{"rma_id", fmt::format("RMA-{}", i)}};
      futures.push_back(engine->start(std::move(request)));
    }
    engine->run_until_idle();
    for (auto& f : futures) f.get();
  }
  double create_seconds = std::chrono::duration<double>(SteadyClock::now() - started).count();
  auto self = fs::read_symlink("/proc/self/exe").string();  // popen's shell would be /proc/self
  auto command = fmt::format("'{}' bench --sync {} --resume-db '{}'", self, opt.sync, db_path);
  std::string child_out;
  if (FILE* pipe = popen(command.c_str(), "r")) {
    char buf[4096];
    while (std::fgets(buf, sizeof buf, pipe)) child_out += buf;
    if (pclose(pipe) != 0) throw Error(Errc::io, "the resume measurement process failed");
  }
  auto child = nlohmann::json::parse(child_out, nullptr, false);
  if (child.is_discarded()) throw Error(Errc::io, "the resume measurement printed no result");
  nlohmann::json report = {{"mode", "resume"},
                           {"waiting_instances", opt.instances},
                           {"wait_timeout", opt.wait_timeout.empty() ? "none" : opt.wait_timeout},
                           {"sync", opt.sync},
                           {"create_seconds", create_seconds},
                           {"created_per_s", opt.instances / create_seconds}};
  report.update(child);
  report["rss_mb_per_1000_waiting"] =
      (child.value("rss_mb_after_resume", 0.0) - child.value("rss_mb_before_open", 0.0)) * 1000.0 /
      opt.instances;
  print_report(report);
  return kExitOk;
}

}  // namespace rmaflow::cli::bench
