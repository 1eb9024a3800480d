#include "engine/runtime/commit_retry.hpp"

#include <algorithm>

namespace rmaflow {

namespace {

constexpr std::chrono::milliseconds kFirstDelay{50};
constexpr std::chrono::milliseconds kMaxDelay{5000};

}  // namespace

std::chrono::milliseconds CommitRetry::failed(Pending pending) {
  pending_ = std::move(pending);
  delay_ = kFirstDelay;
  return delay_;
}

std::chrono::milliseconds CommitRetry::failed_again() {
  delay_ = std::min(delay_ * 2, kMaxDelay);
  return delay_;
}

std::vector<std::function<void()>> CommitRetry::committed() {
  auto effects = std::move(pending_->effects);
  pending_.reset();
  delay_ = std::chrono::milliseconds(0);
  return effects;
}

}  // namespace rmaflow
