// --mode observe: what watching the engine (logs, metrics, trace export) costs a burst.
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <optional>

#include "engine/cli/bench/bench_modes.hpp"
#include "engine/cli/bench/bench_report.hpp"
#include "engine/cli/bench/bench_workflows.hpp"
#include "engine/cli/cli_support.hpp"
#include "engine/net/http_server.hpp"
#include "engine/observe/observability.hpp"

namespace rmaflow::cli::bench {

int observe_mode(const BenchOptions& opt, const std::string& db_path) {
  std::atomic<std::uint64_t> received{0};
  net::HttpServer collector(net::HttpServerOptions{},
                            [&received](net::HttpRequest request, net::Responder respond) {
                              received += request.body.size();
                              respond(net::HttpResponse::with_body(200, "{}", "application/json"));
                            });
  collector.start();
  auto best = [](const nlohmann::json& runs) {
    double top = 0;
    for (const auto& r : runs) top = std::max(top, r["instances_per_s"].get<double>());
    return top;
  };
  // What serve's lookup answers: the definition, for milestones and step kinds.
  auto loaded = load_definition(bench_workflow(opt), "bench.yaml");
  if (!loaded.ok()) throw DefinitionError(loaded.diagnostics);
  auto definition = loaded.definition;
  nlohmann::json plain = nlohmann::json::array();
  nlohmann::json observed = nlohmann::json::array();
  std::uint64_t exported = 0, dropped = 0;
  auto run_plain = [&](const std::string& base) {
    plain.push_back(
        run_to_end(opt, base + ".plain", bench_workflow(opt), "bench", start_input(opt)));
  };
  auto run_observed = [&](const std::string& base) {
    std::optional<observe::SpanExportOptions> traces;
    if (opt.export_traces) {
      traces = observe::SpanExportOptions{
          .endpoint = fmt::format("http://127.0.0.1:{}/v1/traces", collector.port()),
          .sample = opt.trace_sample};
    }
    auto observability = std::make_shared<observe::Observability>(
        [definition](const std::string&, int) { return definition; }, std::move(traces));
    observed.push_back(run_to_end(opt, base + ".observed", bench_workflow(opt), "bench",
                                  start_input(opt),
                                  observe::Observability::commit_observer(observability),
                                  opt.export_traces ? opt.trace_sample : 1.0));
    std::string metrics;
    observability->write_metrics(metrics);
    observability.reset();  // sends what is queued
    auto count = [&metrics](const std::string& name) {
      auto at = metrics.find("\n" + name + " ");
      return at == std::string::npos ? 0 : std::stoull(metrics.substr(at + name.size() + 2));
    };
    exported += count("rmaflow_trace_spans_exported_total");
    dropped += count("rmaflow_trace_spans_dropped_total");
  };
  for (int round = 0; round < opt.rounds; ++round) {
    auto base = fmt::format("{}.{}", db_path, round);
    // Which kind goes first alternates: a run leaves work behind for the next (the file
    // system writing back its database, the allocator's state), which would always fall on
    // the same kind.
    if (round % 2 == 0) {
      run_plain(base);
      run_observed(base);
    } else {
      run_observed(base);
      run_plain(base);
    }
  }
  double base = best(plain), with = best(observed);
  // Each round's two runs ran back to back: their ratio is the least disturbed by the machine's
  // drift over the whole run (a shared or virtual machine's disk and neighbours). The engine
  // thread's CPU time is steadier still: it leaves out the disk's waits.
  auto median_ratio = [&](const char* field) {
    std::vector<double> paired;
    for (std::size_t i = 0; i < plain.size() && i < observed.size(); ++i) {
      paired.push_back(observed[i][field].get<double>() /
                       std::max(1e-9, plain[i][field].get<double>()));
    }
    std::sort(paired.begin(), paired.end());
    if (paired.empty()) return 0.0;
    auto mid = paired.size() / 2;
    return paired.size() % 2 == 1 ? paired[mid] : (paired[mid - 1] + paired[mid]) / 2;
  };
  double median = median_ratio("instances_per_s");
  double cpu = median_ratio("engine_cpu_seconds");
  nlohmann::json report = {{"mode", "observe"},
                           {"steps", opt.steps},
                           {"instances", opt.instances},
                           {"sync", opt.sync},
                           {"rounds", opt.rounds},
                           {"trace_export", opt.export_traces},
                           {"trace_sample", opt.export_traces ? opt.trace_sample : 0.0},
                           {"best_plain_instances_per_s", base},
                           {"best_observed_instances_per_s", with},
                           {"observed_to_plain", with / std::max(1.0, base)},
                           {"median_round_ratio", median},
                           {"engine_cpu_observed_to_plain", cpu},
                           {"spans_exported", exported},
                           {"spans_dropped", dropped},
                           {"otlp_bytes_received", received.load()}};
  for (auto* runs : {&plain, &observed}) {
    nlohmann::json rates = nlohmann::json::array();
    for (const auto& r : *runs) rates.push_back(r["instances_per_s"]);
    *runs = rates;
  }
  report["plain_instances_per_s"] = plain;
  report["observed_instances_per_s"] = observed;
  print_report(report);
  return kExitOk;
}

}  // namespace rmaflow::cli::bench
