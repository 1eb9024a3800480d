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
