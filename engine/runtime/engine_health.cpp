#include "engine/runtime/engine_health.hpp"

namespace rmaflow {

void EngineHealth::commit_failed(const std::string& error) {
  std::lock_guard lock(mu_);
  storage_error_ = error;
  ++failed_commits_;
  storage_failing_ = true;
}

void EngineHealth::commit_ok() {
  if (!storage_failing_) return;
  std::lock_guard lock(mu_);
  storage_failing_ = false;
  storage_error_.clear();
}

void EngineHealth::describe(EngineStats& stats) const {
  using std::chrono::steady_clock;
  stats.heartbeat = steady_clock::time_point(steady_clock::duration(heartbeat_.load()));
  std::lock_guard lock(mu_);
  stats.storage_failing = storage_failing_;
  stats.storage_error = storage_error_;
  stats.failed_commits = failed_commits_;
}

}  // namespace rmaflow
