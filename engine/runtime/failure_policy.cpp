#include "engine/runtime/failure_policy.hpp"

namespace rmaflow {

FailureDecision decide(const FailureSituation& s) {
  using Kind = FailureDecision::Kind;
  const Failure& e = *s.error;
  if (s.retry != nullptr && s.attempt > 0 && s.attempt < s.retry->max_attempts &&
      s.retry->retries(e.code, e.retryable)) {
    return {Kind::retry, ""};
  }
  if (s.compensating) return {Kind::suspend, ""};
  if (s.catches != nullptr) {
    for (const auto& rule : *s.catches)
      if (rule.matches(e.code)) return {Kind::catch_route, rule.next};
  }
  if (s.in_branch) {
    return {s.branch_policy == BranchFailure::fail ? Kind::fail_fan_out : Kind::suspend, ""};
  }
  // After a pivot only forward recovery makes sense: suspend even when told to compensate.
  if (s.on_failure == FailurePolicy::compensate && !s.pivot_passed) return {Kind::compensate, ""};
  return {Kind::suspend, ""};
}

}  // namespace rmaflow
