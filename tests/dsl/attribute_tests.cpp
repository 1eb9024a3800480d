// Issue 16, search attributes: a workflow's `attributes:` name business fields as expressions;
// refused where they are written when malformed.
#include <doctest/doctest.h>

#include "tests/dsl/dsl_test_support.hpp"

using namespace rmaflow;
using namespace rmaflow::dsl_testing;

namespace {

// The attributes start on line 4, the first one on line 5.
std::string with_attributes(const std::string& attributes) {
  return "workflow: t\nversion: 1\nstart: a\nattributes:\n" + attributes +
         "steps:\n"
         "  a: { end: completed }\n";
}

}  // namespace

TEST_CASE("Dsl.Issue16.SearchAttributesAreReadWithTheirExpressions") {
  auto r =
      load(with_attributes("  customer_id: ${ .input.customer_id }\n"
                           "  value: '${ [.input.lines[].price] | add }'\n"
                           "  channel: .input.channel\n"));
  REQUIRE_LOADED(r);
  const auto& attributes = r.definition->attributes;
  REQUIRE(attributes.size() == 3);
  CHECK(attributes[0].name == "customer_id");
  CHECK(attributes[1].name == "value");
  CHECK(attributes[2].where.line == 7);
  nlohmann::json context = {
      {"input",
       {{"customer_id", "C-1"}, {"channel", "web"}, {"lines", {{{"price", 2}}, {{"price", 3}}}}}}};
  CHECK(attributes[0].value.evaluate(context) == "C-1");
  CHECK(attributes[1].value.evaluate(context) == 5);
  CHECK(attributes[2].value.evaluate(context) == "web");
}

TEST_CASE("Dsl.Issue16.BadSearchAttributesAreRefusedWhereTheyAreWritten") {
  CHECK_DIAG(load(with_attributes("  Customer: .input.c\n")), "bad-value", 5, 3);
  CHECK_DIAG(load(with_attributes("  2nd: .input.c\n")), "bad-value", 5, 3);
  CHECK_DIAG(load(with_attributes("  c: '${ .x | }'\n")), "jq-compile", 5, 6);
  CHECK_DIAG(load(with_attributes("  c: '${ env.HOME }'\n")), "jq-env", 5, 6);
  CHECK_DIAG(load("workflow: t\nversion: 1\nstart: a\nattributes: [a, b]\nsteps:\n  a: { end: "
                  "completed }\n"),
             "wrong-type", 4, 13);
  std::string many;
  for (int i = 0; i < 17; ++i) many += "  a" + std::to_string(i) + ": .input.x\n";
  CHECK_DIAG(load(with_attributes(many)), "bad-value", 5, 3);
}
