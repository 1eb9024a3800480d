// What the engine tells about itself to threads that must not wait for it (health checks,
// metrics): a heartbeat its thread renews as it goes round its loop, and whether commits are
// failing and being retried. Every member may be read from any thread; the engine's thread
// writes.
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>

#include "rmaflow/engine.hpp"

namespace rmaflow {

class EngineHealth {
 public:
  // The engine's thread is alive and got round to its timers.
  void beat() { heartbeat_ = std::chrono::steady_clock::now().time_since_epoch().count(); }

  // A commit failed with `error` and will be retried; commit_ok() ends that.
  void commit_failed(const std::string& error);
  void commit_ok();
  bool storage_failing() const { return storage_failing_; }

  // Fills the liveness fields of `stats`.
  void describe(EngineStats& stats) const;

 private:
  std::atomic<std::chrono::steady_clock::rep> heartbeat_{
      std::chrono::steady_clock::now().time_since_epoch().count()};
  std::atomic<bool> storage_failing_{false};
  mutable std::mutex mu_;
  std::string storage_error_;  // under mu_
  std::uint64_t failed_commits_ = 0;
};

}  // namespace rmaflow
