// The API's own measurements, and the Prometheus text exposition of /metrics: requests by
// route, method and status, their latency, the engine's counters and the instances by status.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

#include "engine/observe/prometheus_text.hpp"
#include "rmaflow/engine.hpp"

namespace rmaflow::api {

class Metrics {
 public:
  // `route` is the pattern the request matched ("/v1/instances/{id}"), "unmatched" otherwise.
  void observe(const std::string& method, const std::string& route, int status,
               std::chrono::nanoseconds took);

  // The text exposition format (version 0.0.4).
  std::string exposition(const EngineStats& engine, bool engine_running,
                         const std::map<InstanceStatus, std::int64_t>& instances) const;

 private:
  mutable std::mutex mu_;
  std::map<std::tuple<std::string, std::string, int>, std::uint64_t> requests_;
  std::map<std::pair<std::string, std::string>, observe::Histogram> latency_;
};

}  // namespace rmaflow::api
