// A bound on JSON nesting. Documents deeper than this are refused at the engine's edges
// (start inputs, signal payloads, operator arguments, adapter results): jq and the JSON
// conversions recurse, and a hostile document must not be able to overflow the stack.
#pragma once

#include <cstddef>

#include <nlohmann/json.hpp>

namespace rmaflow {

inline constexpr std::size_t kMaxJsonDepth = 100;

// True when `value` nests deeper than `limit` levels. Iterative: safe on any document.
bool json_deeper_than(const nlohmann::json& value, std::size_t limit = kMaxJsonDepth);

}  // namespace rmaflow
