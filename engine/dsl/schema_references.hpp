// What must hold before valijson is given an input schema, and an input to check against it.
//
// The schema's references: valijson follows a $ref, and applies allOf, anyOf, oneOf, not,
// if/then/else and dependencies, by recursing; subschemas that apply one another to the same
// value in a ring, or a $ref that names its own document by another name, recurse without end
// and overflow the stack ({"$ref": "#"}, {"allOf": [{"$ref": "#"}]},
// {"$id": "http://a/b.json", "$ref": "b.json"}). A ring that steps into the value on its way
// (properties, items, ...) is a recursive schema, bounded by the value's depth, and is allowed.
//
// The input's places where valijson's checks cost more than the input's size:
// - strings it matches with std::regex (a `pattern`, a date or time `format`, or an object's
//   keys under `patternProperties`, which key_patterns.hpp matches now): libstdc++'s
//   depth-first matcher recurses at least once per character, and a 30,000-character email
//   overflowed an 8 MiB stack (the shipped schema's email pattern, a submitter's input: the
//   server crashed);
// - arrays checked for `uniqueItems`, whose every pair it compares.
#pragma once

#include <cstddef>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace rmaflow::dsl {

// Why `root` cannot be given to valijson, in one sentence: a $ref that is not a JSON Pointer
// within the schema ("#", "#/definitions/a"), an "$id" or "id" below the root (it would change
// what such a pointer names), or a ring of subschemas applied to the same value. Nullopt when
// none of these.
std::optional<std::string> schema_reference_problem(const nlohmann::json& root);

// The place of `root` that the local $ref `reference` names ("#", "#/definitions/a%20b");
// null when it names none (another document, a malformed pointer, no such place).
const nlohmann::json* referenced(const nlohmann::json& root, const std::string& reference);

// `key` as a token of an RFC 6901 JSON Pointer: "~" as "~0", "/" as "~1".
std::string pointer_token(const std::string& key);

// The regular expressions of `root`, and its references, at the places valijson reads as
// schemas: for the caller to compile (and refuse) the patterns before valijson does, and to
// hide the patternProperties from it (see key_patterns.hpp).
struct SchemaFacts {
  std::vector<std::string> values;  // `pattern`s, matched against strings
  struct KeyPatterns {
    std::string schema;                 // the pointer of a schema with patternProperties
    std::vector<std::string> patterns;  // its names, matched against keys
  };
  std::vector<KeyPatterns> keys;
  struct Reference {
    std::string schema;  // the pointer of a schema with a $ref
    std::string target;  // the pointer its $ref names, decoded and escaped as RFC 6901 has it
  };
  std::vector<Reference> references;
  // Whether any of its checks costs more than the input's size (a pattern, a date or time
  // format, key patterns or propertyNames, uniqueItems): only then is an input walked by
  // input_places before valijson checks it.
  bool costly_checks = false;
};
SchemaFacts schema_facts(const nlohmann::json& root);

// The longest string valijson is given to match with std::regex: a few hundred kilobytes of
// stack, also under AddressSanitizer.
inline constexpr std::size_t kMaxMatchedString = 4096;
// The most items of an array valijson checks for `uniqueItems`: it compares every pair, and
// 100,000 numbers would hold the engine's thread for minutes.
inline constexpr std::size_t kMaxUniqueItems = 1000;
// The most fields of an object a schema with patternProperties applies to: each field a name
// matches costs about 10 us to state and check (key_patterns.hpp), and a 1 MiB body holds
// 100,000 short fields.
inline constexpr std::size_t kMaxPatternKeys = 10'000;

// A place of an input that a check valijson would run there makes too costly: a string (or an
// object's key) a regex may match, longer than kMaxMatchedString; an array checked for unique
// items, longer than kMaxUniqueItems; an object under patternProperties with more than
// kMaxPatternKeys fields.
struct CostlyPlace {
  // In this order (InputSchema::check words them).
  enum class Kind { string, key, unique_items, pattern_keys };
  Kind kind = Kind::string;
  std::string pointer;   // RFC 6901: the string's, the array's, or for keys the object's
  std::size_t size = 0;  // bytes, items or fields
};

// What an input holds at the places its checks reach, found by following the input through
// every subschema that may apply to each place (all branches of allOf, anyOf, oneOf,
// if/then/else; every patternProperties entry): a place no such check can reach is never
// reported. `root` must have passed schema_reference_problem.
struct InputPlaces {
  std::vector<CostlyPlace> costly;
  // The keys of the objects each schema with patternProperties may apply to, by the schema
  // (a node of `root`).
  std::map<const nlohmann::json*, std::set<std::string>> pattern_keys;
};
InputPlaces input_places(const nlohmann::json& root, const nlohmann::json& input);

}  // namespace rmaflow::dsl
