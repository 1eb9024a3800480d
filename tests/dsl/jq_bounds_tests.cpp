#include <doctest/doctest.h>

#include "engine/dsl/jq_bounds.hpp"

using rmaflow::dsl::find_environment_access;
using rmaflow::dsl::find_unbounded_construct;

// A string literal cut off by the program's end right after a backslash, inside an
// interpolation: the lexer read past the program's end (std::out_of_range out of validate;
// found by the jq_template fuzz harness in CI).
TEST_CASE("Dsl.JqBounds.AProgramEndingInAnEscapeIsRead") {
  for (const char* program : {"\"\\(\"\\", "\"\\", "\"a\\(1 + \"\\(\"\\", "\"\\(env"}) {
    INFO(program);
    CHECK_NOTHROW(find_environment_access(program));
    CHECK_NOTHROW(find_unbounded_construct(program));
  }
  CHECK(find_environment_access("\"\\(env").has_value());
}

TEST_CASE("Dsl.JqBounds.RefusesUnboundedConstructs") {
  for (const char* program : {
           "while(. < 10; . + 1)",
           ".x | until(. > 100; . * 2)",
           "repeat(.)",
           "recurse",
           "[recurse(.children[])]",
           "recurse_down",
           "def f: f; f",
           "def fact: if . <= 1 then 1 else . * (. - 1 | fact) end; fact",
           "def outer: def inner: outer; inner; outer",
           "range(.n)",
           "[range(0; .input.count)]",
           "range(0; 10; .step)",
           "\"\\(range(.n))\"",
           "{a: while(true; .)}",
       }) {
    INFO(program);
    CHECK(find_unbounded_construct(program).has_value());
  }
}

TEST_CASE("Dsl.JqBounds.AllowsBoundedPrograms") {
  for (const char* program : {
           ".input.lines",
           "[.input.lines[] | .qty * .unit_price] | add",
           "range(5)",
           "[range(0; 10; 2)]",
           "[range(-3; 3)]",
           "[limit(10; range(.n))]",
           ".while + .until",
           "$__loc__",
           "{while: 1, until: 2}",
           "\"while recurse repeat\"",
           "\"a \\\"while\\\" b\"",
           "# while\n.a",
           "def f: 1; f",
           "def f(x): x + 1; f(.a)",
           "def f: def g: 2; g; f",
           "[.. | numbers]",
           "reduce .[] as $x (0; . + $x)",
           "foreach .[] as $x (0; . + $x)",
           "\"\\(.a) and \\(.b)\"",
       }) {
    INFO(program);
    CHECK_FALSE(find_unbounded_construct(program).has_value());
  }
}

TEST_CASE("Dsl.JqBounds.NamesConstructAndOffset") {
  auto found = find_unbounded_construct(".a | while(. > 0; . - 1)");
  REQUIRE(found);
  CHECK(found->construct == "\"while\"");
  CHECK(found->offset == 5);
  auto recursive = find_unbounded_construct("def walk_all: .[] | walk_all; walk_all");
  REQUIRE(recursive);
  CHECK(recursive->construct.find("walk_all") != std::string::npos);
}

TEST_CASE("Dsl.JqBounds.Issue12.RangesAndLimitsMustCountToASmallLiteral") {
  for (const char* program : {
           "[range(1e9)]",
           "[range(0; 1000000)]",
           "[limit(.input.n; range(.input.n))]",
           "[limit(1e9; range(.n))]",
       }) {
    INFO(program);
    CHECK(find_unbounded_construct(program).has_value());
  }
  for (const char* program : {"[range(100000)]", "[limit(100; range(.input.n))]"}) {
    INFO(program);
    CHECK_FALSE(find_unbounded_construct(program).has_value());
  }
}
