#include "adapters/http/trace_context.hpp"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "engine/support/sha256.hpp"

namespace rmaflow {

namespace {

bool is_trace_id(std::string_view s) {
  return s.size() == 32 && std::all_of(s.begin(), s.end(), [](char c) {
           return std::isdigit(static_cast<unsigned char>(c)) || (c >= 'a' && c <= 'f');
         }) && s.find_first_not_of('0') != std::string_view::npos;
}

}  // namespace

std::string traceparent(std::string_view correlation_id, std::string_view idempotency_key,
                        int attempt) {
  std::string trace_id = is_trace_id(correlation_id) ? std::string(correlation_id)
                                                     : sha256_hex(correlation_id).substr(0, 32);
  auto parent_id = sha256_hex(fmt::format("{}#{}", idempotency_key, attempt)).substr(0, 16);
  return fmt::format("00-{}-{}-01", trace_id, parent_id);
}

}  // namespace rmaflow
