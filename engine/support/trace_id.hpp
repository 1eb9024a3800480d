// The W3C trace id an instance's spans, log lines and outgoing calls carry. It is derived from
// the instance's correlation id, so that it is the same in every process and after a restart:
// a correlation id that is already a trace id (32 lowercase hex digits, not all zero: one
// continued from a caller's traceparent) is used as it is; any other is hashed to one.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace rmaflow {

bool is_trace_id(std::string_view text);
std::string trace_id_of(std::string_view correlation_id);

// Whether the trace is sampled at `ratio` (0 to 1): decided from the trace id alone, as
// OpenTelemetry's consistent probability sampling does (its rightmost 56 bits, read as a
// number R, against the threshold T = (1 - ratio) * 2^56: sampled when R >= T), so that every
// process, node and restart, and a caller sampling by trace id at the same ratio, agree.
bool trace_sampled(std::string_view trace_id, double ratio);

// Span ids (16 hex), derived so that every process names a span the same: an attempt's from
// its idempotency key and number (an HTTP adapter sends it as the traceparent's parent id, so
// the service's spans nest under it), an instance's from its id.
std::string attempt_span_id(std::string_view idempotency_key, int attempt);
std::string instance_span_id(std::string_view instance_id);

// The parts of a W3C traceparent header ("00-<trace id>-<parent id>-<flags>"); nullopt when
// it is not one (a malformed header is ignored, as the specification asks).
struct TraceParent {
  std::string trace_id;
  std::string parent_id;
};
std::optional<TraceParent> parse_traceparent(std::string_view header);

}  // namespace rmaflow
