#include "engine/cli/bench/running_engine.hpp"

#include <algorithm>

#include "engine/cli/bench/bench_report.hpp"
#include "engine/cli/bench/bench_workflows.hpp"
#include "engine/cli/cli_support.hpp"
#include "engine/support/threads.hpp"

namespace rmaflow::cli::bench {

RunningEngine::RunningEngine(const BenchOptions& opt, const std::string& db_path,
                             std::string node) {
  auto loaded = load_definition(bench_workflow(opt), "bench.yaml");
  if (!loaded.ok()) throw DefinitionError(loaded.diagnostics);
  definition = loaded.definition;
  EngineOptions eo;
  eo.db_path = db_path;
  eo.sync = parse_sync(opt.sync);
  eo.on_step_latency = [this](std::chrono::nanoseconds d) {
    step_ms.push_back(static_cast<double>(d.count()) / 1e6);
  };
  eo.on_commit = [this](const WriteBatch&, std::chrono::nanoseconds took) {
    commit_ms.push_back(static_cast<double>(took.count()) / 1e6);
  };
  eo.node = std::move(node);
  engine = Engine::open(std::move(eo));
  engine->deploy(definition);
  runner = std::thread([this] {
    name_this_thread("rmaflow-engine");
    try {
      engine->run();
    } catch (const std::exception& e) {
      failure = e.what();
    }
  });
}

void RunningEngine::stop() {
  if (!runner.joinable()) return;
  engine->stop();
  runner.join();
  stats = engine->stats();
  std::sort(step_ms.begin(), step_ms.end());
  std::sort(commit_ms.begin(), commit_ms.end());
  if (!failure.empty()) throw Error(Errc::storage, "a benchmark engine failed: " + failure);
}

void await_shards_shared(const std::vector<std::unique_ptr<RunningEngine>>& engines) {
  auto give_up = SteadyClock::now() + std::chrono::seconds(15);
  for (;;) {
    ShardMask all = 0;
    bool each = true;
    for (const auto& running : engines) {
      auto held = running->engine->stats().node.held;
      all |= held;
      each = each && held != 0;
    }
    if (all == kAllShards && each) return;
    if (SteadyClock::now() > give_up) {
      throw Error(Errc::storage, "the benchmark's nodes did not share the shards out within 15 s");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace rmaflow::cli::bench
