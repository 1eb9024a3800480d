// Conversion between jq's values (jv) and nlohmann::json, without going through text.
//
// Ownership follows jq's rule: every jv passed in is consumed, every jv returned is owned by
// the caller. Internal to engine/dsl: jq types never appear in the public headers.
#pragma once

extern "C" {
#include <jv.h>
}

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace rmaflow::dsl {

// A new jv holding `value`. Numbers become jq numbers (doubles).
jv to_jv(const nlohmann::json& value);

// A new jv object holding the members of `object` (an object) named in `keys`, those it has.
jv to_jv_members(const nlohmann::json& object, const std::vector<std::string>& keys);

// Consumes `value`. Numbers that are integral (and exactly representable) come back as JSON
// integers, so `.qty * 2` stays an integer; NaN becomes null, as jq prints it. `value` must be
// valid.
nlohmann::json from_jv(jv value);

// What a result may cost: bytes (strings and keys by their length, anything else 8) and levels.
struct JvBudget {
  std::size_t bytes_left;
  std::size_t max_depth;
};
// Thrown by the budgeted from_jv; `limit` is "size" or "depth". `value` is consumed anyway.
struct JvTooLarge {
  const char* limit;
};
// from_jv that stops (throwing JvTooLarge) once the result would pass `budget`, so that a value
// jq built by sharing (a string doubled 40 times is 40 small steps) is never expanded in full.
nlohmann::json from_jv(jv value, JvBudget& budget);

// Consumes `value`: a string as is, anything else as compact JSON text (jq error payloads).
std::string jv_message(jv value);

}  // namespace rmaflow::dsl
