// --mode closed: clients that each run one instance at a time, as the peers' drivers do.
#include <fmt/format.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <optional>
#include <thread>

#include "engine/api/api_server.hpp"
#include "engine/cli/bench/bench_modes.hpp"
#include "engine/cli/bench/bench_report.hpp"
#include "engine/cli/bench/bench_workflows.hpp"
#include "engine/cli/bench/running_engine.hpp"
#include "engine/cli/cli_support.hpp"
#include "engine/net/http_client.hpp"
#include "engine/observe/log.hpp"
#include "engine/support/open_files.hpp"

namespace rmaflow::cli::bench {

namespace {

// How long a closed-loop client waits for an end in one request, in seconds.
constexpr int kEndWaitSeconds = 60;

// A benchmark instance that ended otherwise than completed fails the run.
void require_completed(const std::string& id, InstanceStatus status) {
  if (status != InstanceStatus::completed) {
    throw Error(Errc::storage,
                fmt::format("benchmark instance {} ended {}", id, to_string(status)));
  }
}

// One closed-loop instance, in process: started, then awaited to its end.
void closed_loop_in_process(Engine& engine, int i, int lines) {
  StartRequest request;
  request.workflow = "bench";
  request.input = linear_input(i, lines);
  auto started = engine.start(std::move(request)).get();
  for (;;) {
    auto row = engine.await_end(started.instance_id, Duration(kEndWaitSeconds * 1000)).get();
    if (!is_final(row.status)) continue;
    return require_completed(row.id, row.status);
  }
}

// One closed-loop instance through the API, as a client would: POST /v1/instances?wait=,
// which starts it and answers once it has ended, and GET /v1/instances/{id}?wait= while it has
// not, on the client's kept-alive connections.
void closed_loop_via_api(net::HttpClient& http, std::uint16_t port, int i, int lines) {
  net::HttpEndpoint endpoint{"127.0.0.1", port};
  net::HttpRequest start;
  start.method = "POST";
  start.target = fmt::format("/v1/instances?wait={}", kEndWaitSeconds);
  start.headers.set("Content-Type", "application/json");
  start.body = nlohmann::json{{"workflow", "bench"}, {"input", linear_input(i, lines)}}.dump();
  auto got = http.request(endpoint, start, std::chrono::seconds(kEndWaitSeconds + 30));
  if (!got.ok() || got.response.status != 201) {
    throw Error(Errc::io, fmt::format("a benchmark start was not accepted: {}",
                                      got.ok() ? got.response.body : got.message));
  }
  auto view = nlohmann::json::parse(got.response.body);
  auto id = view.value("id", "");
  net::HttpRequest wait;
  wait.method = "GET";
  wait.target = fmt::format("/v1/instances/{}?wait={}", id, kEndWaitSeconds);
  for (;;) {
    auto status = parse_instance_status(view.value("status", ""));
    if (status && is_final(*status)) return require_completed(id, *status);
    got = http.request(endpoint, wait, std::chrono::seconds(kEndWaitSeconds + 30));
    if (!got.ok() || got.response.status != 200) {
      throw Error(Errc::io, fmt::format("waiting for benchmark instance {} failed: {}", id,
                                        got.ok() ? got.response.body : got.message));
    }
    view = nlohmann::json::parse(got.response.body);
  }
}

// Through the API, each client's connection is two files of this process (the client's end and
// the server's), beside each engine's own. Raises the limit to fit, or refuses what it cannot.
void fit_clients_to_open_files(int clients, int engines) {
  auto files = raise_open_files_limit();
  auto own = kFilesBesideConnections * static_cast<std::size_t>(engines);
  auto needed = own + 2 * static_cast<std::size_t>(clients);
  if (needed <= files) return;
  throw Error(Errc::invalid_argument,
              fmt::format("--concurrency {} through the API needs {} open files (each client's "
                          "connection is two in this process), and it may hold {} (ulimit -n); "
                          "give at most {}, or raise the limit",
                          clients, needed, files, files > own ? (files - own) / 2 : 0));
}

}  // namespace

int closed_loop_mode(const BenchOptions& opt, const std::string& db_path,
                     const std::string& raw_dir) {
  // With --nodes, that many engines share the PostgreSQL database as nodes; client c uses
  // node c % N (a start without a business key stays on the node that takes it).
  std::vector<std::unique_ptr<RunningEngine>> engines;
  const int count = std::max(1, opt.nodes);
  if (opt.via_api) fit_clients_to_open_files(opt.concurrency, count);
  for (int n = 0; n < count; ++n) {
    engines.push_back(std::make_unique<RunningEngine>(
        opt, db_path, opt.nodes > 0 ? fmt::format("bench-{}", n + 1) : std::string()));
  }
  if (opt.nodes > 0) await_shards_shared(engines);
  std::vector<std::unique_ptr<api::ApiServer>> servers;
  if (opt.via_api) {
    // As a production server logs: its access log (a line per request) is for warnings only.
    observe::set_log_level(observe::LogLevel::warn);
    for (auto& running : engines) {
      api::ApiOptions ao;
      ao.db_path = db_path;
      ao.definitions = {running->definition};
      ao.http.max_connections = std::max<std::size_t>(ao.http.max_connections, opt.concurrency);
      servers.push_back(std::make_unique<api::ApiServer>(*running->engine, std::move(ao)));
      servers.back()->start();
    }
  }

  std::atomic<int> next{0};
  std::vector<std::vector<double>> latency_ms(static_cast<std::size_t>(opt.concurrency));
  std::vector<std::string> errors(static_cast<std::size_t>(opt.concurrency));
  const double cpu_before = cpu_seconds(RUSAGE_SELF);
  auto began = SteadyClock::now();
  std::vector<std::thread> clients;
  for (int c = 0; c < opt.concurrency; ++c) {
    clients.emplace_back([&, c] {
      auto& mine = latency_ms[static_cast<std::size_t>(c)];
      try {
        const auto node = static_cast<std::size_t>(c % count);
        std::optional<net::HttpClient> http;
        if (!servers.empty()) http.emplace();
        for (int i = next++; i < opt.instances; i = next++) {
          auto one = SteadyClock::now();
          if (http) {
            closed_loop_via_api(*http, servers[node]->port(), i, opt.input_lines);
          } else {
            closed_loop_in_process(*engines[node]->engine, i, opt.input_lines);
          }
          mine.push_back(
              std::chrono::duration<double, std::milli>(SteadyClock::now() - one).count());
        }
      } catch (const std::exception& e) {
        errors[static_cast<std::size_t>(c)] = e.what();
        next = opt.instances;  // the others stop after their instance
      }
    });
  }
  for (auto& t : clients) t.join();
  double seconds = std::chrono::duration<double>(SteadyClock::now() - began).count();
  // Every thread's: the engine's, its commit writer's, the API's and the clients' own.
  const double cpu = cpu_seconds(RUSAGE_SELF) - cpu_before;
  servers.clear();
  EngineStats stats;
  std::vector<double> step_ms;
  for (auto& running : engines) {
    running->stop();
    stats.events += running->stats.events;
    stats.commits += running->stats.commits;
    step_ms.insert(step_ms.end(), running->step_ms.begin(), running->step_ms.end());
  }
  std::sort(step_ms.begin(), step_ms.end());
  for (const auto& e : errors) {
    if (!e.empty()) throw Error(Errc::io, e);
  }

  std::vector<double> all;
  for (auto& l : latency_ms) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  double per_s = static_cast<double>(all.size()) / seconds;
  nlohmann::json report = {{"mode", "closed"},
                           {"via", opt.via_api ? "api" : "in-process"},
                           {"concurrency", opt.concurrency},
                           {"steps", opt.steps},
                           {"input_lines", opt.input_lines},
                           {"results", opt.results},
                           {"sync", opt.sync},
                           {"instances", all.size()},
                           {"seconds", seconds},
                           {"workflows_per_s", per_s},
                           {"transitions_per_s", static_cast<double>(stats.events) / seconds},
                           {"commits", stats.commits},
                           {"workflow_latency_ms", percentiles(all)},
                           {"per_step_ms_p50", percentile(all, 0.50) / opt.steps},
                           {"step_latency_ms", percentiles(step_ms)},
                           {"cpu_seconds", cpu},
                           {"cpu_ms_per_workflow", cpu * 1000.0 / std::max<double>(1, all.size())},
                           {"cores_busy", cpu / seconds}};
  if (opt.nodes > 0) report["nodes"] = opt.nodes;
  name_store(report, opt);
  report.update(raw_rates(opt, raw_dir, report["transitions_per_s"].get<double>()));
  print_report(report);
  return kExitOk;
}

}  // namespace rmaflow::cli::bench
