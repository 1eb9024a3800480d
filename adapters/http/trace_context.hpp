// W3C Trace Context for calls that leave rmaflow: every call of one instance carries the same
// trace id, derived from its correlation id, and each attempt its own parent id, so a
// tracing system on the other side groups an RMA's calls and tells retries apart.
#pragma once

#include <string>
#include <string_view>

namespace rmaflow {

// "00-<trace id: 32 hex>-<parent id: 16 hex>-<flags>", flags "01" when the trace is sampled
// (its spans are exported), else "00". A correlation id that is already 32 hex digits (a trace
// id handed in by the caller) is the trace id as it is; any other is hashed.
std::string traceparent(std::string_view correlation_id, std::string_view idempotency_key,
                        int attempt, bool sampled = true);

}  // namespace rmaflow
