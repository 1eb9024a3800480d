// JSON compared by value, as JSON means it: 329 and 329.0 are one number. Used where inputs
// are compared and hashed (an idempotent start), and before a schema decides whether 1.0 is an
// integer (JSON Schema says it is).
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace rmaflow {

// `value` with every number that is an integer written as a float (1.0, 329.0, -0.0) stored as
// an integer, when it fits in 53 bits (where doubles are exact). Objects already keep their
// keys sorted, so equal values dump to equal text.
nlohmann::json canonical_json(const nlohmann::json& value);

// The JSON Pointer of the first place (keys in sorted order) where `a` and `b` differ by value,
// "" when the roots differ in type; nullopt when they are equal.
std::optional<std::string> first_difference(const nlohmann::json& a, const nlohmann::json& b);

}  // namespace rmaflow
