// Reading a JSON Schema along the shape of the documents it describes: which subschema applies
// at a place of the document, and whether an object field is declared. Used to word schema
// violations for people and to check what workflows read from their input.
//
// Only what can be told for sure is told: properties, items and local $refs are followed;
// combinators (allOf, anyOf, oneOf, if/then/else), patternProperties and remote $refs make the
// answer "unknown".
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace rmaflow::dsl {

// One step into a document: an object field, or an array element (`index` >= 0 for a known
// one, -1 for "any element", as `[]` in jq).
struct DocStep {
  std::string field;
  long index = -1;
  bool element = false;  // an array element rather than a field
};

// The subschema `root` applies at `path`; null when it cannot be told.
const nlohmann::json* subschema_at(const nlohmann::json& root, const std::vector<DocStep>& path);

// A JSON Pointer into a document ("/lines/0/qty") as steps, reading each token against the
// schema: a token is an element where the schema says array, else a field.
std::vector<DocStep> steps_of_pointer(const nlohmann::json& root, const std::string& pointer);

// What an object schema says of one of its fields.
struct FieldFacts {
  enum class Kind { declared, undeclared, unknown } kind = Kind::unknown;
  std::vector<std::string> declared;  // the fields it declares, for messages
};
FieldFacts field_facts(const nlohmann::json& root, const nlohmann::json& object_schema,
                       const std::string& field);

}  // namespace rmaflow::dsl
