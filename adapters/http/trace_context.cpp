#include "adapters/http/trace_context.hpp"

#include <fmt/format.h>

#include "engine/support/trace_id.hpp"

namespace rmaflow {

std::string traceparent(std::string_view correlation_id, std::string_view idempotency_key,
                        int attempt, bool sampled) {
  return fmt::format("00-{}-{}-{}", trace_id_of(correlation_id),
                     attempt_span_id(idempotency_key, attempt), sampled ? "01" : "00");
}

}  // namespace rmaflow
