#include "engine/api/metrics.hpp"

#include <fmt/format.h>

#include <bit>

namespace rmaflow::api {

using observe::labels;
using observe::write_family;

void Metrics::observe(const std::string& method, const std::string& route, int status,
                      std::chrono::nanoseconds took) {
  double seconds = std::chrono::duration<double>(took).count();
  std::lock_guard lock(mu_);
  ++requests_[{method, route, status}];
  latency_.try_emplace({method, route}, observe::latency_buckets()).first->second.observe(seconds);
}

std::string Metrics::exposition(const EngineStats& engine, bool engine_running,
                                const std::map<InstanceStatus, std::int64_t>& instances) const {
  std::string out;
  write_family(out, "rmaflow_up", "gauge", "1 while the engine runs, 0 once it stopped.");
  out += fmt::format("rmaflow_up {}\n", engine_running ? 1 : 0);
  write_family(out, "rmaflow_instances", "gauge", "Instances in the database by status.");
  for (auto status : {InstanceStatus::running, InstanceStatus::waiting, InstanceStatus::suspended,
                      InstanceStatus::compensating, InstanceStatus::completed,
                      InstanceStatus::rejected, InstanceStatus::expired, InstanceStatus::cancelled,
                      InstanceStatus::failed, InstanceStatus::compensated}) {
    auto it = instances.find(status);
    out += fmt::format("rmaflow_instances{{status=\"{}\"}} {}\n", to_string(status),
                       it == instances.end() ? 0 : it->second);
  }
  write_family(out, "rmaflow_engine_commits_total", "counter", "Transactions the engine committed.");
  out += fmt::format("rmaflow_engine_commits_total {}\n", engine.commits);
  write_family(out, "rmaflow_engine_events_total", "counter", "Transitions (history events) committed.");
  out += fmt::format("rmaflow_engine_events_total {}\n", engine.events);
  write_family(out, "rmaflow_engine_invocations_total", "counter", "Adapter calls made.");
  out += fmt::format("rmaflow_engine_invocations_total {}\n", engine.invocations);
  write_family(out, "rmaflow_engine_active_instances", "gauge", "Instances held in memory.");
  out += fmt::format("rmaflow_engine_active_instances {}\n", engine.active_instances);
  write_family(out, "rmaflow_engine_max_running", "gauge",
               "Instances the engine may run at once (serve --max-running); 0: no bound.");
  out += fmt::format("rmaflow_engine_max_running {}\n", engine.max_running);
  write_family(out, "rmaflow_engine_held_bytes", "gauge",
               "Bytes of text the instances held in memory are stored as (contexts, cursors).");
  out += fmt::format("rmaflow_engine_held_bytes {}\n", engine.held_bytes);
  write_family(out, "rmaflow_engine_max_running_bytes", "gauge",
               "Bytes of text the instances running at once may be stored as (serve "
               "--max-running-bytes); 0: no bound.");
  out += fmt::format("rmaflow_engine_max_running_bytes {}\n", engine.max_running_bytes);
  write_family(out, "rmaflow_engine_kept_waiting_bytes", "gauge",
               "Bytes of text the big waiting instances kept decoded are stored as (not "
               "running, in neither bound).");
  out += fmt::format("rmaflow_engine_kept_waiting_bytes {}\n", engine.kept_waiting_bytes);
  write_family(out, "rmaflow_engine_keep_waiting_bytes", "gauge",
               "Bytes of text the big waiting instances kept decoded may be stored as (serve "
               "--keep-waiting-bytes); 0: none kept.");
  out += fmt::format("rmaflow_engine_keep_waiting_bytes {}\n", engine.keep_waiting_bytes);
  write_family(out, "rmaflow_engine_starts_refused_total", "counter",
               "Starts answered busy (503): past the instances, or the bytes of context, the "
               "engine may hold at once.");
  out += fmt::format("rmaflow_engine_starts_refused_total {}\n", engine.starts_refused);
  write_family(out, "rmaflow_engine_calls_in_flight", "gauge", "Adapter calls not answered yet.");
  out += fmt::format("rmaflow_engine_calls_in_flight {}\n", engine.in_flight);
  write_family(out, "rmaflow_engine_timers_in_memory", "gauge",
               "Timers held in memory: calls' timeouts, retries, waits due soon.");
  out += fmt::format("rmaflow_engine_timers_in_memory {}\n", engine.timers_in_memory);
  write_family(out, "rmaflow_engine_storage_failing", "gauge",
         "1 while commits fail and are being retried (a full disk, an I/O error).");
  out += fmt::format("rmaflow_engine_storage_failing {}\n", engine.storage_failing ? 1 : 0);
  write_family(out, "rmaflow_engine_failed_commits_total", "counter", "Commits that failed (and were retried).");
  out += fmt::format("rmaflow_engine_failed_commits_total {}\n", engine.failed_commits);
  if (!engine.node.name.empty()) {
    write_family(out, "rmaflow_node_shards_held", "gauge",
                 "Shards of the database whose leases this node holds (it owns their instances).");
    out += fmt::format("rmaflow_node_shards_held {}\n", std::popcount(engine.node.held));
    write_family(out, "rmaflow_node_takeovers_total", "counter",
                 "Shards this node took over from a node whose lease had expired.");
    out += fmt::format("rmaflow_node_takeovers_total {}\n", engine.node.takeovers);
  }
  write_family(out, "rmaflow_engine_heartbeat_age_seconds", "gauge",
         "Seconds since the engine's thread last came round its loop (it does every second).");
  out += fmt::format("rmaflow_engine_heartbeat_age_seconds {:.3f}\n",
                     std::chrono::duration<double>(std::chrono::steady_clock::now() - engine.heartbeat).count());

  std::lock_guard lock(mu_);
  write_family(out, "rmaflow_http_requests_total", "counter", "API requests answered.");
  for (const auto& [key, count] : requests_) {
    const auto& [method, route, status] = key;
    out += fmt::format("rmaflow_http_requests_total{{{}}} {}\n",
                       labels({{"method", method}, {"route", route}, {"status", std::to_string(status)}}),
                       count);
  }
  write_family(out, "rmaflow_http_request_duration_seconds", "histogram",
               "From a request's arrival to its answer, waiting for the engine's commit included.");
  for (const auto& [key, latency] : latency_) {
    latency.write(out, "rmaflow_http_request_duration_seconds",
                  labels({{"method", key.first}, {"route", key.second}}));
  }
  return out;
}

}  // namespace rmaflow::api
