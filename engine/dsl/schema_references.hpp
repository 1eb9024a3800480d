// What must hold before valijson is given an input schema, and an input to check against it.
//
// The schema's references: valijson
// follows a $ref, and applies allOf, anyOf, oneOf, not, if/then/else and dependencies, by
// recursing; subschemas that apply one another to the same value in a ring, or a $ref that
// names its own document by another name, recurse without end and overflow the stack
// ({"$ref": "#"}, {"allOf": [{"$ref": "#"}]}, {"$id": "http://a/b.json", "$ref": "b.json"}).
// A ring that steps into the value on its way (properties, items, ...) is a recursive schema,
// bounded by the value's depth, and is allowed.
//
// The input's strings that valijson matches with std::regex (against a `pattern`, a date or
// time `format`, or `patternProperties` for an object's keys): libstdc++'s matcher recurses at
// least once per character, and a 30,000-character email overflowed an 8 MiB stack (the
// shipped schema's email pattern, a submitter's input: the server crashed).
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace rmaflow::dsl {

// Why `root` cannot be given to valijson, in one sentence: a $ref that is not a JSON Pointer
// within the schema ("#", "#/definitions/a"), an "$id" or "id" below the root (it would change
// what such a pointer names), or a ring of subschemas applied to the same value. Nullopt when
// none of these.
std::optional<std::string> schema_reference_problem(const nlohmann::json& root);

// Every `pattern` of `root` (at the places valijson reads as schemas), for the caller to
// compile its own way.
std::vector<std::string> schema_patterns(const nlohmann::json& root);

// The longest string valijson is given to match with std::regex: a few hundred kilobytes of
// stack, also under AddressSanitizer.
inline constexpr std::size_t kMaxMatchedString = 4096;

// A string of `input` (or an object's key) that some subschema of `root` may match with a
// regex and that is longer than `max_bytes`: its pointer and what it holds.
struct LongMatchedString {
  std::string pointer;  // RFC 6901: the string's, or for a key the object's
  std::size_t bytes = 0;
  bool key = false;
};

// Every such string, found by following the input through every subschema that may apply to
// each place (all branches of allOf, anyOf, oneOf, if/then/else; every patternProperties
// entry): a string no pattern can reach is never reported. `root` must have passed
// schema_reference_problem.
std::vector<LongMatchedString> long_matched_strings(const nlohmann::json& root,
                                                    const nlohmann::json& input,
                                                    std::size_t max_bytes = kMaxMatchedString);

}  // namespace rmaflow::dsl
