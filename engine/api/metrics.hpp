// The API's own measurements, and the Prometheus text exposition of /metrics: requests by
// route, method and status, their latency, the engine's counters and the instances by status.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

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
  static constexpr std::array<double, 10> kBuckets{0.001, 0.005, 0.01, 0.025, 0.05,
                                                   0.1,   0.25,  0.5,  1.0,   5.0};
  struct Latency {
    std::array<std::uint64_t, kBuckets.size()> buckets{};  // cumulative at exposition
    std::uint64_t count = 0;
    double sum = 0;
  };

  mutable std::mutex mu_;
  std::map<std::tuple<std::string, std::string, int>, std::uint64_t> requests_;
  std::map<std::pair<std::string, std::string>, Latency> latency_;
};

}  // namespace rmaflow::api
