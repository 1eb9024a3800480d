// Start inputs checked against a workflow's JSON Schema: every violation, each a plain sentence
// that names its place.
#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "engine/dsl/input_schema.hpp"
#include "tests/support/process.hpp"

using namespace rmaflow;
using json = nlohmann::json;

namespace {

json shipped_schema() {
  std::ifstream in(testing::source_dir() + "/workflows/schemas/rma.schema.json");
  std::stringstream text;
  text << in.rdbuf();
  return json::parse(text.str());
}

json good_rma() {
  return json::parse(R"({"rma_id": "RMA-1", "channel": "web", "customer_id": "C-1",
    "invoice_id": "INV-1", "resolution": "refund",
    "lines": [{"sku": "A-1", "qty": 1, "unit_price": 329, "currency": "USD",
               "reason_code": "defective"}]})");
}

std::vector<std::string> messages(const std::vector<InputViolation>& violations) {
  std::vector<std::string> out;
  for (const auto& v : violations) out.push_back(v.message);
  return out;
}

// Why the schema `text` is refused when loaded; "" when it is taken.
std::string refusal(const char* text) {
  try {
    InputSchema schema(json::parse(text));
  } catch (const Error& e) {
    CHECK(e.code() == Errc::invalid_definition);
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("Dsl.InputSchema.Issue11.EveryViolationAsASentence") {
  InputSchema schema(shipped_schema());
  CHECK(schema.check(good_rma()).empty());

  auto input = good_rma();
  input.erase("customer_id");
  input["colour"] = "red";
  input["channel"] = "fax";
  input["lines"][0]["qty"] = 0;
  input["lines"][0]["currency"] = "usd";
  input["lines"][0]["sku"] = 7;
  auto violations = schema.check(input);
  INFO(json(messages(violations)).dump(2));
  auto found = messages(violations);
  std::sort(found.begin(), found.end());
  std::vector<std::string> expected{
                                    "/customer_id is missing; it is required",
                                    "/colour is not a field the schema allows",
                                    "/channel must be one of \"web\", \"edi\", \"customer_service\" or "
                                    "\"marketplace\", not \"fax\"",
                                    "/lines/0/sku must be a string, not an integer",
                                    "/lines/0/qty must be at least 1",
                                    "/lines/0/currency must match the pattern ^[A-Z]{3}$, and \"usd\" "
                                    "does not"};
  std::sort(expected.begin(), expected.end());
  CHECK(found == expected);
  for (const auto& v : violations) CHECK(v.message.rfind(v.pointer, 0) == 0);
}

TEST_CASE("Dsl.InputSchema.Issue11.NoValidatorInternals") {
  InputSchema schema(shipped_schema());
  auto input = good_rma();
  input["lines"] = json::array();
  input["rma_id"] = "";
  auto violations = schema.check(input);
  INFO(json(messages(violations)).dump(2));
  REQUIRE(violations.size() == 2);
  for (const auto& m : messages(violations)) {
    CHECK(m.find("Failed to") == std::string::npos);
    CHECK(m.find("constraint") == std::string::npos);
    CHECK(m.find("<root>") == std::string::npos);
  }
  auto error = schema_violations("standard-return", violations);
  CHECK(error.pointer() == violations.front().pointer);
  CHECK(error.violations().size() == 2);
  CHECK(std::string(error.what()).rfind("the input of workflow standard-return fails its schema: ", 0) == 0);
}

// Schemas valijson would recurse through without end are refused before it is given them;
// recursive schemas that step into the value on the way are not.
TEST_CASE("Dsl.InputSchema.ReferencesThatWouldNeverEndAreRefused") {
  const std::string ring =
      " is applied to the same value again through itself ($ref, allOf, anyOf, oneOf, not, "
      "if/then/else or dependencies), without end";
  CHECK(refusal(R"({"$ref": "#"})") == "not a usable JSON Schema: the subschema at #" + ring);
  CHECK(refusal(R"({"allOf": [{"type": "object"}, {"$ref": "#"}]})").find(ring) !=
        std::string::npos);
  CHECK(refusal(R"({"not": {"$ref": "#"}})").find(ring) != std::string::npos);
  CHECK(refusal(
            R"({"if": {"$ref": "#/definitions/a"}, "definitions": {"a": {"then": {"$ref": "#"}}}})")
            .find(ring) != std::string::npos);
  CHECK(refusal(R"({"properties": {"x": {"$ref": "#/definitions/a"}},
                    "definitions": {"a": {"$ref": "#/definitions/b"}, "b": {"anyOf": [{"$ref": "#/definitions/a"}]}}})")
            .find(ring) != std::string::npos);
  // A $ref to a place that is no schema where it stands is read as one, as valijson reads it.
  CHECK(refusal(R"({"properties": {"not": {"$ref": "#/properties"}}, "$ref": "#/properties"})")
            .find(ring) != std::string::npos);
  // A $ref that names the schema by another name, and an $id that would change what "#" names.
  CHECK(refusal(R"({"$id": "http://a/b.json", "$ref": "b.json"})") ==
        "not a usable JSON Schema: $ref \"b.json\" at # is not a JSON Pointer within the schema "
        "(\"#\", \"#/definitions/name\"); rmaflow reads no other document");
  CHECK(refusal(R"({"properties": {"a": {"$id": "http://a/c.json", "$ref": "#"}}})") ==
        "not a usable JSON Schema: \"$id\" at #/properties/a would change what the references "
        "below it name; give \"$id\" only at the schema's root");

  // Recursive through the value (a tree of parts), chains that end, escaped names: allowed.
  CHECK(
      refusal(
          R"({"type": "object", "properties": {"parts": {"type": "array", "items": {"$ref": "#"}}}})") ==
      "");
  CHECK(refusal(R"({"$ref": "#/definitions/a", "definitions": {"a": {"$ref": "#/definitions/b"},
                    "b": {"type": "object", "properties": {"id": {"type": "string"}}}}})") == "");
  CHECK(refusal(R"({"$ref": "#/definitions/a%20b", "definitions": {"a b": {"type": "object"}}})") ==
        "");
  CHECK(refusal(R"({"$id": "http://example.com/rma.json", "allOf": [{"$ref": "#/definitions/a"}],
                    "definitions": {"a": {"properties": {"next": {"$ref": "#"}}}}})") == "");
  InputSchema tree(json::parse(
      R"({"type": "object", "properties": {"parts": {"type": "array", "items": {"$ref": "#"}}}})"));
  CHECK(tree.check(json::parse(R"({"parts": [{"parts": []}, {"parts": [{}]}]})")).empty());
  CHECK_FALSE(tree.check(json::parse(R"({"parts": [{"parts": 3}]})")).empty());
}

// A string the schema matches against a pattern is bounded before valijson's std::regex sees
// it: libstdc++'s matcher recurses per character, and the shipped schema's email pattern
// overflowed the stack on a 30,000-character email. Strings no pattern reaches are not bounded.
TEST_CASE("Dsl.InputSchema.StringsMatchedAgainstPatternsAreBounded") {
  InputSchema schema(shipped_schema());
  auto rma = good_rma();
  rma["contact"] = {{"email", std::string(300'000, 'a') + "@b"}};
  CHECK(messages(schema.check(rma)) ==
        std::vector<std::string>{"/contact/email is 300002 bytes long; a string the schema matches "
                                 "against a pattern may hold at most 4096"});
  rma["contact"]["email"] = std::string(4000, 'a') + "@b";  // within the bound: matched
  CHECK(schema.check(rma).empty());
  rma["contact"]["email"] = std::string(4000, 'a');
  CHECK(messages(schema.check(rma)).at(0).rfind("/contact/email ", 0) == 0);

  // Nothing matches what `extensions` holds: a long string there is the workflow's business.
  rma = good_rma();
  rma["extensions"] = {{"scan", std::string(200'000, 'x')}};
  CHECK(schema.check(rma).empty());

  // Reached through a $ref and a branch, and keys matched by patternProperties.
  InputSchema nested(json::parse(R"({"properties": {"codes": {"type": "array",
      "items": {"anyOf": [{"$ref": "#/definitions/code"}, {"type": "integer"}]}}},
      "patternProperties": {"^x-": {}},
      "definitions": {"code": {"type": "string", "pattern": "^[A-Z]+$"}}})"));
  json input = {{"codes", {1, std::string(5000, 'A')}}};
  CHECK(messages(nested.check(input)) ==
        std::vector<std::string>{"/codes/1 is 5000 bytes long; a string the schema matches "
                                 "against a pattern may hold at most 4096"});
  input = {{"x-" + std::string(5000, 'k'), 1}};
  CHECK(messages(nested.check(input)) ==
        std::vector<std::string>{"the input has a field name of 5002 bytes; a name the schema "
                                 "matches against a pattern may hold at most 4096"});
}

// A field the schema does not allow, of any length, is named (short) without a regex over it.
TEST_CASE("Dsl.InputSchema.ALongUnknownFieldIsNamedShort") {
  InputSchema schema(shipped_schema());
  auto rma = good_rma();
  rma[std::string(300'000, 'k')] = 1;
  auto violations = schema.check(rma);
  REQUIRE(violations.size() == 1);
  CHECK(violations[0].pointer == "/" + std::string(300'000, 'k'));
  CHECK(violations[0].message.size() < 300);
  CHECK(violations[0].message.rfind("/kkkk", 0) == 0);
  CHECK(violations[0].message.find("... is not a field the schema allows") != std::string::npos);
}

// A schema's patterns are matched without backtracking: "^(a+)+$" against letters and a "!"
// held the engine's thread for good (each letter doubles the work of a backtracking matcher).
// Back-references, which only a backtracking matcher runs, are refused with the schema.
TEST_CASE("Dsl.InputSchema.PatternsAreMatchedWithoutBacktracking") {
  InputSchema schema(
      json::parse(R"({"properties": {"code": {"type": "string", "pattern": "^(a+)+$"}}})"));
  auto violations = schema.check({{"code", std::string(4000, 'a') + "!"}});
  REQUIRE(violations.size() == 1);
  const auto& message = violations[0].message;
  CHECK(message.rfind("/code must match the pattern ^(a+)+$, and \"aaaa", 0) == 0);
  CHECK(message.find("... does not") == message.size() - 12);  // the value quoted short
  CHECK(message.size() < 300);
  CHECK(schema.check({{"code", std::string(4000, 'a')}}).empty());
  try {
    InputSchema refused(json::parse(R"({"pattern": "^(a)\\1$"})"));
    FAIL("a back-reference was taken");
  } catch (const Error& e) {
    CHECK(e.code() == Errc::invalid_definition);
    CHECK(std::string(e.what()).rfind("not a usable JSON Schema: the pattern \"^(a)\\1$\" is not "
                                      "an ECMAScript regular expression without back-references",
                                      0) == 0);
  }
}

// valijson compares every pair of items for uniqueItems: an array checked so is bounded.
TEST_CASE("Dsl.InputSchema.ArraysCheckedForUniqueItemsAreBounded") {
  InputSchema schema(
      json::parse(R"({"properties": {"serials": {"type": "array", "uniqueItems": true},
                                                    "notes": {"type": "array"}}})"));
  json many = json::array();
  for (int i = 0; i < 100'000; ++i) many.push_back(i);
  CHECK(messages(schema.check({{"serials", many}})) ==
        std::vector<std::string>{"/serials holds 100000 items; an array the schema checks for "
                                 "unique items may hold at most 1000"});
  CHECK(schema.check({{"notes", many}}).empty());  // not checked for unique items
  many.erase(many.begin() + 1000, many.end());
  CHECK(schema.check({{"serials", many}}).empty());
  many.push_back(0);
  CHECK(messages(schema.check({{"serials", many}})) ==
        std::vector<std::string>{"/serials holds 1001 items; an array the schema checks for "
                                 "unique items may hold at most 1000"});
}

// Every regular expression of a schema is compiled when the schema is loaded, also the ones
// valijson compiles itself (patternProperties): one that does not compile failed the first
// start, with an exception out of the engine's thread. A repetition count no int holds is
// refused (libstdc++ reads it with a signed overflow; found by the input_schema fuzz harness).
TEST_CASE("Dsl.InputSchema.EveryPatternCompilesAtLoad") {
  CHECK(refusal(R"({"patternProperties": {"(": {}}})") ==
        "not a usable JSON Schema: the pattern \"(\" is not an ECMAScript regular expression "
        "without back-references (Mismatched '(' and ')' in regular expression)");
  CHECK(refusal(R"({"pattern": "^[0-9]{2777777777777777777777}$"})") ==
        "not a usable JSON Schema: the pattern \"^[0-9]{2777777777777777777777}$\" is not an "
        "ECMAScript regular expression without back-references (a repetition count past "
        "999999)");
  CHECK(refusal(R"({"pattern": "^[0-9]{2,99}$", "patternProperties": {"^[a,1234567]$": {}}})") ==
        "");
}

// A pattern is searched for anywhere in the string, as ECMAScript searches it, though it is
// compiled to start once (`^[\s\S]*(?:P)`): a "^" within it still means the string's start.
TEST_CASE("Dsl.InputSchema.PatternsAreSearchedAnywhere") {
  InputSchema schema(json::parse(R"({"properties": {"a": {"type": "string", "pattern": "^a|b"},
      "c": {"type": "string", "pattern": "a*b$"}}})"));
  for (const char* text : {"a", "ab", "xb", "xxbx"}) {
    CAPTURE(text);
    CHECK(schema.check({{"a", text}}).empty());
  }
  CHECK(schema.check({{"a", "xa"}}).size() == 1);
  CHECK(schema.check({{"c", "xxaab"}}).empty());
  CHECK(schema.check({{"c", "xxaabx"}}).size() == 1);
  CHECK(schema.check({{"c", std::string(4000, 'a')}}).size() == 1);
}

// valijson matches patternProperties' names with a backtracking matcher it compiles itself:
// "^(a+)+$" against a key of 30 letters and a "!" held the engine's thread for good. The names
// are matched by rmaflow, without backtracking (see engine/dsl/key_patterns.hpp).
TEST_CASE("Dsl.InputSchema.KeyPatternsAreMatchedWithoutBacktracking") {
  InputSchema schema(json::parse(
      R"({"patternProperties": {"^(a+)+$": {"type": "integer"}}, "additionalProperties": false})"));
  auto key = std::string(30, 'a') + "!";
  auto violations = schema.check({{key, 1}});
  REQUIRE(violations.size() == 1);
  CHECK(violations[0].pointer == "/" + key);
  CHECK(violations[0].message == "/" + key + " is not a field the schema allows");
  violations = schema.check({{std::string(4000, 'a'), "x"}});
  REQUIRE(violations.size() == 1);
  CHECK(violations[0].pointer == "/" + std::string(4000, 'a'));
  CHECK(schema.check({{"aaa", 1}, {"a", 2}}).empty());
}

// An object under patternProperties holds at most 10,000 fields: each field a name matches
// is stated and checked on its own (about 10 us each), and a 1 MiB body holds 100,000 short
// ones. Objects no key pattern applies to are not bounded by this.
TEST_CASE("Dsl.InputSchema.ObjectsUnderKeyPatternsAreBounded") {
  InputSchema schema(json::parse(R"({"properties": {
      "serials": {"patternProperties": {"^S": {"type": "integer"}}},
      "notes": {"type": "object"}}})"));
  json many = json::object();
  for (int i = 0; i < 10'000; ++i) many["S" + std::to_string(i)] = i;
  CHECK(schema.check({{"serials", many}}).empty());
  CHECK(schema.check({{"notes", many}}).empty());
  many["S-last"] = "not a number";
  CHECK(messages(schema.check({{"serials", many}})) ==
        std::vector<std::string>{"/serials holds 10001 fields; an object the schema matches "
                                 "against key patterns may hold at most 10000"});
  CHECK(schema.check({{"notes", many}}).empty());
  many.erase("S-last");
  many["S0"] = "not a number";
  auto violations = schema.check({{"serials", many}});
  REQUIRE(violations.size() == 1);
  CHECK(violations[0].pointer == "/serials/S0");
}

// What patternProperties means, key by key: every pattern a key matches applies to its value
// (besides its `properties` entry), and additionalProperties only to keys nothing names. A
// $ref may point into patternProperties, which may nest.
TEST_CASE("Dsl.InputSchema.KeyPatternsMeanWhatJsonSchemaSays") {
  InputSchema schema(json::parse(R"({
      "properties": {"k1": {"minimum": 1}},
      "patternProperties": {"^k": {"maximum": 5}, "1$": {"multipleOf": 2},
                            "^n": {"patternProperties": {"^i": {"type": "integer"}}}},
      "additionalProperties": {"type": "string"},
      "definitions": {"via": {"$ref": "#/patternProperties/%5Ek"}},
      "dependencies": {"z": {"properties": {"w": {"$ref": "#/definitions/via"}}}}})"));
  auto pointers = [&](const json& input) {
    std::vector<std::string> out;
    for (const auto& v : schema.check(input)) out.push_back(v.pointer);
    return out;
  };
  using Pointers = std::vector<std::string>;
  CHECK(pointers({{"k1", 0}}) == Pointers{"/k1"});   // its properties entry
  CHECK(pointers({{"k1", 10}}) == Pointers{"/k1"});  // ^k
  CHECK(pointers({{"k1", 3}}) == Pointers{"/k1"});   // 1$
  CHECK(pointers({{"k1", 2}, {"k2", 4}, {"other", "s"}}).empty());
  CHECK(pointers({{"other", 4}}) == Pointers{"/other"});  // additionalProperties
  CHECK(pointers({{"k2", "s"}}).empty());  // additionalProperties leaves a matched key alone
  CHECK(pointers({{"z", "s"}, {"w", "t"}}).empty());
  CHECK(pointers({{"z", "s"}, {"w", 9}}) == Pointers{"/w", "/w"});  // additional, and via ^k
  CHECK(pointers({{"w", 9}}) == Pointers{"/w"});                    // additional only
  CHECK(pointers({{"n1", {{"i1", "x"}}}}) == Pointers{"/n1/i1"});
  CHECK(pointers({{"n1", {{"j", "x"}, {"i1", 1}}}}).empty());
  auto message = schema.check({{"k1", 10}}).at(0).message;
  CHECK(message.rfind("/k1 must be at most 5", 0) == 0);
  // The wording of a field's violation comes from additionalProperties, where nothing else
  // may apply to it.
  InputSchema more(
      json::parse(R"({"properties": {"a": {}}, "additionalProperties": {"type": "string"}})"));
  CHECK(messages(more.check({{"other", 4}})) ==
        std::vector<std::string>{"/other must be a string, not an integer"});
}
