// Failure: why a step's attempt (or the step itself) did not succeed. One type for adapters and
// the engine alike, so that retry policies, catch rules, incidents and the API read the same
// fields whoever reported it.
#pragma once

#include <array>
#include <string>
#include <string_view>

namespace rmaflow {

// Who reported the failure.
enum class FailureOrigin : int {
  adapter = 0,  // the system an action called (or the adapter on its behalf)
  engine = 1,   // the engine: a timeout, an expression that did not evaluate, a limit
  branch = 2,   // a branch of a fan-out step failed for good (BranchFailed)
  child = 3,    // a child workflow did not complete (ChildFailed)
};

std::string_view to_string(FailureOrigin origin);

struct Failure {
  std::string code;  // "Transient", "Timeout", or a business code such as "NotEligible"
  std::string message;
  bool retryable = false;
  FailureOrigin origin = FailureOrigin::adapter;
};

// The codes the engine itself reports. Adapters may report Transient and Timeout too; every
// other code an adapter reports is its own (a business error, named in catch rules).
namespace failure {
inline constexpr std::string_view kTransient = "Transient";        // unavailable; try again
inline constexpr std::string_view kTimeout = "Timeout";            // no answer in time
inline constexpr std::string_view kExpressionError = "ExpressionError";  // a jq template raised
inline constexpr std::string_view kExpressionLimit = "ExpressionLimit";  // past a jq limit
inline constexpr std::string_view kNoMatch = "NoMatch";            // no switch case was true
inline constexpr std::string_view kLoopLimit = "LoopLimit";        // steps without a task or wait
inline constexpr std::string_view kUnknownAdapter = "UnknownAdapter";  // action names no adapter
inline constexpr std::string_view kAdapterError = "AdapterError";  // the adapter broke its contract
inline constexpr std::string_view kResultTooDeep = "ResultTooDeep";  // an answer nests too deep
inline constexpr std::string_view kBranchFailed = "BranchFailed";  // a branch failed for good
inline constexpr std::string_view kChildFailed = "ChildFailed";    // a child did not complete
inline constexpr std::string_view kInvalidBranches = "InvalidBranches";  // bad foreach items/keys
inline constexpr std::string_view kUnknownWorkflow = "UnknownWorkflow";  // call of a workflow not deployed
inline constexpr std::string_view kQuarantined = "Quarantined";    // the engine died on it twice

// Every engine code, for documentation and checks.
inline constexpr std::array<std::string_view, 14> kEngineCodes = {
    kTransient,      kTimeout,      kExpressionError, kExpressionLimit, kNoMatch,
    kLoopLimit,      kUnknownAdapter, kAdapterError,  kResultTooDeep,   kBranchFailed,
    kChildFailed,    kInvalidBranches, kUnknownWorkflow, kQuarantined};
}  // namespace failure

// The one rule for what a retry can fix when the reporter does not say: Transient and Timeout.
bool retryable_by_default(std::string_view code);

// A failure with the default retryability for its code.
Failure make_failure(std::string code, std::string message,
                     FailureOrigin origin = FailureOrigin::adapter);

}  // namespace rmaflow
