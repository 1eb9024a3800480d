#include "engine/support/trace_id.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>

#include "engine/support/sha256.hpp"

namespace rmaflow {

namespace {

bool lower_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool all_zero(std::string_view s) { return s.find_first_not_of('0') == std::string_view::npos; }

}  // namespace

bool is_trace_id(std::string_view text) {
  return text.size() == 32 && lower_hex(text) && !all_zero(text);
}

std::string trace_id_of(std::string_view correlation_id) {
  return is_trace_id(correlation_id) ? std::string(correlation_id)
                                     : sha256_hex(correlation_id).substr(0, 32);
}

bool trace_sampled(std::string_view trace_id, double ratio) {
  if (ratio >= 1.0) return true;
  if (ratio <= 0.0 || trace_id.size() < 14) return false;
  std::uint64_t randomness = 0;
  auto digits = trace_id.substr(trace_id.size() - 14);
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), randomness, 16);
  if (ec != std::errc() || end != digits.data() + digits.size()) return false;
  constexpr double kSpace = 72057594037927936.0;  // 2^56
  return static_cast<double>(randomness) >= (1.0 - ratio) * kSpace;
}

std::string attempt_span_id(std::string_view idempotency_key, int attempt) {
  return sha256_hex(std::string(idempotency_key) + "#" + std::to_string(attempt)).substr(0, 16);
}

std::string instance_span_id(std::string_view instance_id) {
  return sha256_hex("instance " + std::string(instance_id)).substr(0, 16);
}

std::optional<TraceParent> parse_traceparent(std::string_view header) {
  // version "00" is exactly 55 characters; later versions may append fields after a dash.
  if (header.size() < 55 || (header.size() > 55 && header[55] != '-')) return std::nullopt;
  auto version = header.substr(0, 2);
  auto trace = header.substr(3, 32);
  auto parent = header.substr(36, 16);
  auto flags = header.substr(53, 2);
  if (header[2] != '-' || header[35] != '-' || header[52] != '-') return std::nullopt;
  if (!lower_hex(version) || version == "ff" || (version == "00" && header.size() != 55)) {
    return std::nullopt;
  }
  if (!is_trace_id(trace) || !lower_hex(parent) || all_zero(parent) || !lower_hex(flags)) {
    return std::nullopt;
  }
  return TraceParent{std::string(trace), std::string(parent)};
}

}  // namespace rmaflow
