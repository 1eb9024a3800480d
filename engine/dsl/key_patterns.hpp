// The regular expressions of an input schema, matched without backtracking.
//
// valijson matches with std::regex, whose default (depth-first) matcher backtracks:
// "^(a+)+$" against 30 letters and a "!" held the engine's thread for good, and even "a*b"
// searched in a 4 KB string costs 0.3 s. libstdc++'s breadth-first matcher (__polynomial)
// takes time linear in the string from each place a search starts; a pattern searched as
// `^[\s\S]*(?:P)` starts once, so its search is linear in the string (4 KB: 0.5 ms).
//
// valijson takes the compiled `pattern`s from its caller (by their text), but compiles
// `patternProperties`' names itself, at each check, for the depth-first matcher. KeyPatterns
// hides every patternProperties from valijson, and states what they would do for an input
// in words valijson reads without a regex: for a key K of an object that a schema S may apply
// to, and that a name P of S's patternProperties matches,
// - S's `properties` gets K (with the schema {}), so that S's additionalProperties leaves it
//   alone, as it leaves alone a key that a pattern matches;
// - S's `allOf` gets {"properties": {K: {"$ref": <P's schema>}}}.
// That is the meaning JSON Schema gives patternProperties, key by key.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "engine/dsl/schema_references.hpp"

namespace rmaflow::dsl {

// `pattern` compiled for a linear search (see above). Throws Error(invalid_definition) when it
// is not an ECMAScript regular expression, has a back-reference (the breadth-first matcher
// has none), or repeats a piece more than 999,999 times (libstdc++ reads such a count with a
// signed overflow).
std::regex compiled_pattern(const std::string& pattern);

class KeyPatterns {
 public:
  // `root` (which must outlive this) passed schema_reference_problem; `facts` are its.
  // Throws Error(invalid_definition) for a name that compiled_pattern refuses.
  KeyPatterns(const nlohmann::json& root, const SchemaFacts& facts);

  bool empty() const { return places_.empty(); }
  // `root` with every patternProperties hidden from valijson (under a name it does not read),
  // and the $refs into them following them there.
  const nlohmann::json& hidden() const { return hidden_; }
  // hidden(), with what the patternProperties do to the keys of an input (as input_places
  // finds them) stated as above; nullopt when no pattern matches any of them.
  std::optional<nlohmann::json> stated(
      const std::map<const nlohmann::json*, std::set<std::string>>& keys) const;

 private:
  struct Place {
    const nlohmann::json* schema;  // in root
    std::string pointer;           // in hidden_
    std::string hidden_name;       // its patternProperties' name there
    std::vector<std::pair<std::string, std::regex>> patterns;
  };
  std::vector<Place> places_;
  nlohmann::json hidden_;
};

}  // namespace rmaflow::dsl
