#include "rmaflow/failure.hpp"

#include "engine/support/name_table.hpp"

namespace rmaflow {

namespace {
constexpr NameTable<FailureOrigin, 4> kOrigins{{
    {FailureOrigin::adapter, "adapter"},
    {FailureOrigin::engine, "engine"},
    {FailureOrigin::branch, "branch"},
    {FailureOrigin::child, "child"},
}};
}  // namespace

std::string_view to_string(FailureOrigin origin) { return name_of(kOrigins, origin); }

bool retryable_by_default(std::string_view code) {
  return code == failure::kTransient || code == failure::kTimeout;
}

Failure make_failure(std::string code, std::string message, FailureOrigin origin) {
  bool retryable = retryable_by_default(code);
  return Failure{std::move(code), std::move(message), retryable, origin};
}

}  // namespace rmaflow
