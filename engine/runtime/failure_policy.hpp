// What happens when a step fails: the one decision, as a pure function of the situation, so
// that it can be read (and tested) as a table. docs/dsl.md states the same rules.
//
//   the call's retry policy allows another attempt   -> retry (after the policy's delay)
//   the cursor was undoing a step                    -> suspend (an operator decides)
//   a catch rule of the step names the error         -> catch: go to its `next`
//   in a branch whose fan-out step says fail         -> fail the fan-out step (BranchFailed)
//   in a branch whose fan-out step says continue     -> suspend that branch alone
//   on the main line, on_failure: compensate, and no pivot has succeeded -> compensate
//   otherwise                                        -> suspend
#pragma once

#include <string>
#include <vector>

#include "rmaflow/definition.hpp"
#include "rmaflow/failure.hpp"

namespace rmaflow {

struct FailureSituation {
  const Failure* error = nullptr;
  int attempt = 0;                                // attempts made (0: the step could not run)
  const RetryPolicy* retry = nullptr;             // null when the step calls nothing
  const std::vector<CatchRule>* catches = nullptr;  // the step's; null when it has none
  bool compensating = false;                      // the cursor was undoing a step
  bool in_branch = false;
  BranchFailure branch_policy = BranchFailure::continue_;  // of the enclosing fan-out step
  FailurePolicy on_failure = FailurePolicy::suspend;       // the workflow's
  bool pivot_passed = false;  // a pivot succeeded (the main line's, or the branch's own)
};

struct FailureDecision {
  enum class Kind { retry, catch_route, fail_fan_out, compensate, suspend };
  Kind kind = Kind::suspend;
  std::string next;  // catch_route: where to go
};

FailureDecision decide(const FailureSituation& s);

}  // namespace rmaflow
