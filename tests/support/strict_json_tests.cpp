// JSON from outside the engine: the document nlohmann's own parser gives, or one sentence
// saying what the engine will not take.
#include <doctest/doctest.h>

#include <random>
#include <string>

#include "engine/support/strict_json.hpp"
#include "engine/support/utf8.hpp"
#include "rmaflow/errors.hpp"

using namespace rmaflow;
using json = nlohmann::json;

namespace {

std::string refusal(const std::string& text, std::size_t max_depth = kMaxJsonDepth) {
  try {
    parse_strict_json(text, "the text", max_depth);
  } catch (const Error& e) {
    CHECK(e.code() == Errc::invalid_argument);
    return e.what();
  }
  return "";
}

std::string nested(std::size_t levels) {
  return std::string(levels, '[') + std::string(levels, ']');
}

}  // namespace

TEST_CASE("Support.StrictJson.GivesWhatJsonParseGives") {
  for (
      const char* text :
      {R"({"rma_id":"R-1","lines":[{"sku":"A","qty":2},{"sku":"B","qty":-1.5e3}],"x":null})",
       R"([1, "two", true, false, null, {"a": {"b": []}}, 18446744073709551615, -9007199254740993])",
       R"("just a string")", "42", " \t\n{\"a\": \"caf\u00e9 \\u00e9 \\n\"} ", "{}", "[]"}) {
    CAPTURE(text);
    CHECK(parse_strict_json(text, "the text") == json::parse(text));
  }
  // Many members and elements, nested in each other, member order as nlohmann keeps it.
  std::mt19937 random(7);
  json big = json::array();
  for (int i = 0; i < 20000; ++i) {
    big.push_back(
        {{"id", i}, {"v", static_cast<int>(random() % 1000)}, {"n", json::array({i, {}})}});
  }
  CHECK(parse_strict_json(big.dump(), "the text") == big);
}

TEST_CASE("Support.StrictJson.NestingIsBoundAsJsonDeeperThanCountsIt") {
  CHECK(parse_strict_json(nested(kMaxJsonDepth), "the text") == json::parse(nested(kMaxJsonDepth)));
  CHECK_FALSE(json_deeper_than(json::parse(nested(kMaxJsonDepth))));
  CHECK(refusal(nested(kMaxJsonDepth + 1)) ==
        "the text nests objects or arrays more than 100 levels deep");
  CHECK(refusal(nested(1'000'000)) == "the text nests objects or arrays more than 100 levels deep");
  // Objects count as arrays do; the bound is the caller's.
  CHECK(refusal(R"({"a":{"b":{"c":1}}})", 2) ==
        "the text nests objects or arrays more than 2 levels deep");
  CHECK(parse_strict_json(R"({"a":{"b":1}})", "the text", 2) == json{{"a", {{"b", 1}}}});
}

TEST_CASE("Support.StrictJson.AKeyGivenTwiceInOneObjectIsRefused") {
  CHECK(refusal(R"({"rma_id":"a","rma_id":"b"})") ==
        "the text gives the key \"rma_id\" twice in one object");
  CHECK(refusal(R"({"input":{"lines":[{"qty":1,"sku":"A","qty":2}]}})") ==
        "the text gives the key \"qty\" twice in one object");
  // The same key in two objects, or in an object and the one inside it, is fine.
  CHECK(parse_strict_json(R"([{"a":1},{"a":2},{"a":{"a":3}}])", "the text").size() == 3);
  // A hostile key is not echoed whole.
  std::string key(100'000, 'k');
  auto said = refusal("{\"" + key + "\":1,\"" + key + "\":2}");
  CHECK(said.size() < 200);
  CHECK(said.find("(100000 bytes)") != std::string::npos);
  // Cut at a character, never inside one: the message goes into JSON.
  std::string wide;
  for (int i = 0; i < 100; ++i) wide += "\xc3\xa9";  // é, two bytes each
  auto cut = refusal("{\"x" + wide + "\":1,\"x" + wide + "\":2}");
  CHECK(is_valid_utf8(cut));
  CHECK(json(cut).dump().size() > cut.size());
}

TEST_CASE("Support.StrictJson.SyntaxAndRangeAreNamed") {
  // Where the text stops being JSON, as nlohmann's parser counts it.
  for (std::string text : {R"({"a":1,)", R"({"a":1} trailing)", "", "{\"a\":\"\xff\"}", "[1,,2]"}) {
    CAPTURE(text);
    std::size_t byte = 0;
    try {
      auto parsed = json::parse(text);
      CHECK(parsed.is_discarded());  // not reached: the text is not JSON
    } catch (const json::parse_error& e) {
      byte = e.byte;
    }
    REQUIRE(byte > 0);
    CHECK(refusal(text) == "the text is not valid JSON (at byte " + std::to_string(byte) + ")");
  }
  CHECK(refusal(R"({"a":1e400})") == "the text holds a number out of range (such as 1e400)");
  CHECK(refusal(R"([-1e400])") == "the text holds a number out of range (such as 1e400)");
}
