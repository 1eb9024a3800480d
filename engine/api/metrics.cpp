#include "engine/api/metrics.hpp"

#include <fmt/format.h>

namespace rmaflow::api {

namespace {

// Label values escape backslash, double quote and newline.
std::string label(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    out += c == '\n' ? 'n' : c;
  }
  return out;
}

void family(std::string& out, const char* name, const char* type, const char* help) {
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

}  // namespace

void Metrics::observe(const std::string& method, const std::string& route, int status,
                      std::chrono::nanoseconds took) {
  double seconds = std::chrono::duration<double>(took).count();
  std::lock_guard lock(mu_);
  ++requests_[{method, route, status}];
  auto& latency = latency_[{method, route}];
  for (std::size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) {
      ++latency.buckets[i];
      break;
    }
  }
  ++latency.count;
  latency.sum += seconds;
}

std::string Metrics::exposition(const EngineStats& engine, bool engine_running,
                                const std::map<InstanceStatus, std::int64_t>& instances) const {
  std::string out;
  family(out, "rmaflow_up", "gauge", "1 while the engine runs, 0 once it stopped.");
  out += fmt::format("rmaflow_up {}\n", engine_running ? 1 : 0);
  family(out, "rmaflow_instances", "gauge", "Instances in the database by status.");
  for (auto status : {InstanceStatus::running, InstanceStatus::waiting, InstanceStatus::suspended,
                      InstanceStatus::compensating, InstanceStatus::completed,
                      InstanceStatus::rejected, InstanceStatus::expired, InstanceStatus::cancelled,
                      InstanceStatus::failed, InstanceStatus::compensated}) {
    auto it = instances.find(status);
    out += fmt::format("rmaflow_instances{{status=\"{}\"}} {}\n", to_string(status),
                       it == instances.end() ? 0 : it->second);
  }
  family(out, "rmaflow_engine_commits_total", "counter", "Transactions the engine committed.");
  out += fmt::format("rmaflow_engine_commits_total {}\n", engine.commits);
  family(out, "rmaflow_engine_events_total", "counter", "Transitions (history events) committed.");
  out += fmt::format("rmaflow_engine_events_total {}\n", engine.events);
  family(out, "rmaflow_engine_invocations_total", "counter", "Adapter calls made.");
  out += fmt::format("rmaflow_engine_invocations_total {}\n", engine.invocations);
  family(out, "rmaflow_engine_active_instances", "gauge", "Instances held in memory.");
  out += fmt::format("rmaflow_engine_active_instances {}\n", engine.active_instances);
  family(out, "rmaflow_engine_calls_in_flight", "gauge", "Adapter calls not answered yet.");
  out += fmt::format("rmaflow_engine_calls_in_flight {}\n", engine.in_flight);
  family(out, "rmaflow_engine_storage_failing", "gauge",
         "1 while commits fail and are being retried (a full disk, an I/O error).");
  out += fmt::format("rmaflow_engine_storage_failing {}\n", engine.storage_failing ? 1 : 0);
  family(out, "rmaflow_engine_failed_commits_total", "counter", "Commits that failed (and were retried).");
  out += fmt::format("rmaflow_engine_failed_commits_total {}\n", engine.failed_commits);
  family(out, "rmaflow_engine_heartbeat_age_seconds", "gauge",
         "Seconds since the engine's thread last came round its loop (it does every second).");
  out += fmt::format("rmaflow_engine_heartbeat_age_seconds {:.3f}\n",
                     std::chrono::duration<double>(std::chrono::steady_clock::now() - engine.heartbeat).count());

  std::lock_guard lock(mu_);
  family(out, "rmaflow_http_requests_total", "counter", "API requests answered.");
  for (const auto& [key, count] : requests_) {
    const auto& [method, route, status] = key;
    out += fmt::format("rmaflow_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{}\"}} {}\n",
                       label(method), label(route), status, count);
  }
  family(out, "rmaflow_http_request_duration_seconds", "histogram",
         "From a request's arrival to its answer, waiting for the engine's commit included.");
  for (const auto& [key, latency] : latency_) {
    auto labels = fmt::format("method=\"{}\",route=\"{}\"", label(key.first), label(key.second));
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < kBuckets.size(); ++i) {
      cumulative += latency.buckets[i];
      out += fmt::format("rmaflow_http_request_duration_seconds_bucket{{{},le=\"{}\"}} {}\n", labels,
                         kBuckets[i], cumulative);
    }
    out += fmt::format("rmaflow_http_request_duration_seconds_bucket{{{},le=\"+Inf\"}} {}\n", labels,
                       latency.count);
    out += fmt::format("rmaflow_http_request_duration_seconds_sum{{{}}} {}\n", labels, latency.sum);
    out += fmt::format("rmaflow_http_request_duration_seconds_count{{{}}} {}\n", labels,
                       latency.count);
  }
  return out;
}

}  // namespace rmaflow::api
