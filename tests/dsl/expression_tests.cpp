#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "engine/dsl/jq_references.hpp"
#include "rmaflow/expression.hpp"

using nlohmann::json;
using rmaflow::Expression;
using rmaflow::ExpressionError;
using rmaflow::ExpressionLimitError;
using rmaflow::Template;

namespace {
const json kContext = json::parse(R"({
  "input": {"rma_id": "R-1", "qty": 3, "price": 2.5, "lines": [{"qty": 2, "unit_price": 10}, {"qty": 1, "unit_price": 5.5}],
            "flag": true, "nothing": null, "text": "a\u0000b"},
  "authorization": {"returnless": false}
})");
}  // namespace

TEST_CASE("Dsl.Expression.KeepsJsonTypes") {
  auto doubled = Expression::compile(".input.qty * 2").evaluate(kContext);
  CHECK(doubled.is_number_integer());
  CHECK(doubled == 6);
  auto scaled = Expression::compile(".input.price * 3").evaluate(kContext);
  CHECK(scaled.is_number_float());
  CHECK(scaled == 7.5);
  CHECK(Expression::compile(".input.rma_id").evaluate(kContext) == "R-1");
  CHECK(Expression::compile(".input.flag").evaluate(kContext) == true);
  CHECK(Expression::compile(".input.nothing").evaluate(kContext).is_null());
  CHECK(Expression::compile(".input.missing").evaluate(kContext).is_null());
  CHECK(Expression::compile(".input.lines | length").evaluate(kContext) == 2);
  CHECK(Expression::compile("[.input.lines[] | .qty * .unit_price] | add").evaluate(kContext) ==
        25.5);
  CHECK(Expression::compile("{id: .input.rma_id, n: 1}").evaluate(kContext) ==
        json({{"id", "R-1"}, {"n", 1}}));
  CHECK(Expression::compile(".input.text").evaluate(kContext) == std::string("a\0b", 3));
  CHECK(Expression::compile("9007199254740993 * 4").evaluate(json()).is_number_float());
  CHECK(Expression::compile(".").evaluate(kContext) == kContext);
}

// A string times a number repeats it, as in jq; libjq 1.6 does it in a loop no bound of the
// evaluation stops, so a repetition past the bound on built values is refused before it starts
// (`"a" * 1000000000` held the engine's thread for 26 s; the same input from an adapter's
// answer or a start with no schema would too). Everything else multiplies as before, in jq's
// order (checked against jq 1.6's command line).
TEST_CASE("Dsl.Expression.StringRepetitionIsBoundedBeforeItRuns") {
  auto times = [](const char* program, const json& input = json()) {
    return Expression::compile(program).evaluate(input);
  };
  CHECK(times("\"ab\" * 3") == "ababab");
  CHECK(times("3 * \"ab\"") == "ababab");
  CHECK(times("\"a\" * 0").is_null());
  CHECK(times("\"a\" * 0.5") == "a");
  CHECK(times("[(\"a\", \"b\") * (1, 2)]") == json({"a", "b", "aa", "bb"}));
  CHECK(times("{x: {y: 1}} * {x: {z: 2}}") == json({{"x", {{"y", 1}, {"z", 2}}}}));
  CHECK(times(".qty * .unit_price", json{{"qty", 3}, {"unit_price", 2.5}}) == 7.5);
  CHECK(times("(\"xy\" * 100000) | length") == 200000);
  CHECK(times("try (\"a\" * {}) catch .") == "string (\"a\") and object ({}) cannot be multiplied");
  // At the bound on repetitions: the loop is libjq's, 1 Mi appends (a fifth of a second in a
  // sanitizer build, well within the evaluation's time).
  CHECK(times("(\"\" * 1048576) | length") == 0);
  auto refusal = [&](const char* program) {
    try {
      times(program, json{{"s", "abc"}, {"n", 1e15}});
      return std::string("not refused");
    } catch (const ExpressionError& error) {
      return std::string(error.what());
    }
  };
  for (const char* program :
       {"\"a\" * 1000000000", "1000000000 * \"a\"", "\"\" * 1000000000", ".s * .n"}) {
    INFO(program);
    CHECK(refusal(program).find("a string may be repeated at most 1048576 times, not 1") !=
          std::string::npos);
  }
  CHECK(refusal("\"\" * 1048577")
            .ends_with("a string may be repeated at most 1048576 times, not 1048577"));
  // Fewer times, but past the bound on built values: 8,389,000 bytes.
  CHECK(refusal("(\"x\" * 1000) * 8389")
            .ends_with("a string repeated 8389 times would hold 8389000 bytes, more than the "
                       "8388608 a value built by jq's builtins may hold"));
  CHECK(times("try (8389 * (\"x\" * 1000)) catch \"refused\"") == "refused");
  CHECK(times("(8388 * (\"x\" * 1000)) | length") == 8388000);
}

// indices, index and rindex answer as jq's own (checked against jq 1.6's command line), without
// the library's array lookup, which leaks (the sanitizer build's leak check would fail here).
TEST_CASE("Dsl.Expression.IndicesOfArraysAndStrings") {
  auto eval = [](const char* source) { return Expression::compile(source).evaluate(json()); };
  CHECK(eval("[1,2,1] | indices(1)") == json::parse("[0,2]"));
  CHECK(eval("[1,2] | indices(3)") == json::array());
  CHECK(eval("[1,2] | indices([])") == json::array());
  CHECK(eval("[] | indices(1)") == json::array());
  CHECK(eval("[1,2,1,2] | indices([1,2])") == json::parse("[0,2]"));
  CHECK(eval("\"a,b, cd\" | indices(\", \")") == json::parse("[3]"));
  CHECK(eval("null | indices(\"a\")").is_null());
  CHECK(eval("[1,2] | index(2)") == 1);
  CHECK(eval("[1,2,1] | rindex(1)") == 2);
  CHECK(eval("[\"DOCK-4\", \"PRN-5\"] | index(\"PRN-5\")") == 1);
  CHECK(eval("[\"DOCK-4\"] | index(\"PRN-5\")").is_null());
  CHECK(eval("\"abcb\" | rindex(\"b\")") == 3);
}

TEST_CASE("Dsl.Expression.SubAndGsubReplaceOneGlobalMatch") {
  auto eval = [](const char* source) {
    CAPTURE(source);
    return Expression::compile(source).evaluate(json());
  };
  auto all = [](const char* source) {
    CAPTURE(source);
    return Expression::compile(std::string("[") + source + "]").evaluate(json());
  };
  // jq 1.6's answers (checked against the jq command).
  CHECK(eval("\"RMA-12/34\" | gsub(\"(?<d>[0-9]+)\"; \"<\\(.d)>\")") == "RMA-<12>/<34>");
  CHECK(eval("\"x-y\" | sub(\"-\"; \"+\")") == "x+y");
  CHECK(eval("\"a.b.c\" | sub(\"\\\\.\"; \"\")") == "ab.c");
  CHECK(eval("\"ABC\" | gsub(\"b\"; \"x\"; \"i\")") == "AxC");
  CHECK(eval("\"abc\" | sub(\"z\"; \"y\")") == "abc");
  CHECK(eval("\"a1b22\" | gsub(\"[0-9]\"; \"#\")") == "a#b##");
  CHECK(eval("\"José  Ñ\" | gsub(\"\\\\s+\"; \" \")") == "José Ñ");
  CHECK(all("\"aaa\" | gsub(\"a\"; \"x\", \"y\")") ==
        json::parse(R"(["xxx","yxx","xyx","yyx","xxy","yxy","xyy","yyy"])"));
  CHECK(all("\"ab\" | sub(\"a\"; empty)") == json::array());
  // Each match's replacement is evaluated, after one with no output too.
  CHECK_THROWS_WITH_AS(
      all("\"a1b2\" | gsub(\"(?<d>[0-9])\"; if .d == \"1\" then empty else error(\"late\") end)"),
      doctest::Contains("late"), ExpressionError);
  CHECK(
      all("\"a-b-c\" | sub(\"(?<x>-)\"; \"1\", \"2\", \"3\"; \"g\")") ==
      json::parse(R"(["a1b1c","a2b1c","a3b1c","a1b2c","a2b2c","a3b2c","a1b3c","a2b3c","a3b3c"])"));
  // A replacement with several outputs gives them one at a time, as jq 1.6 does: the first three
  // of 2^60 come at once, with no more than the matches held.
  CHECK(all("\"x\" * 60 | limit(3; gsub(\"x\"; \"a\", \"b\")) | .[:3]") ==
        json::parse(R"(["aaa","baa","aba"])"));
  CHECK_THROWS_AS(eval("5 | sub(\"a\"; \"b\")"), ExpressionError);
  // jq 1.6 never ended on an empty match, and matched `^` again at each rest of the string.
  CHECK(eval("\"a b\" | gsub(\" *\"; \"\")") == "ab");
  CHECK(eval("\"José Ñ\" | gsub(\"\\\\s*\"; \"\")") == "JoséÑ");
  CHECK(eval("\"aaa\" | gsub(\"^a\"; \"\")") == "aa");
  CHECK(eval("\"abc\" | gsub(\"\"; \"-\")") == "-a-b-c");
}

TEST_CASE("Dsl.Expression.NoOutputIsNull") {
  CHECK(Expression::compile("empty").evaluate(kContext).is_null());
  CHECK(Expression::compile(".input.lines[] | .qty").evaluate(kContext) == 2);  // the first output
}

// libjq 1.6 aborted the process when the interpreter was restarted with work pending inside a
// finished `path(...)`: here the rest of each generator, after the first output. Each program
// is evaluated twice, so the interpreter is restarted after each.
TEST_CASE("Dsl.Expression.PathsStoppedAtTheFirstOutputLeaveTheInterpreterUsable") {
  const json nested = json::parse(R"({"a": {"b": {"c": 1, "d": [2, 3]}}})");
  for (int round = 0; round < 2; ++round) {
    CAPTURE(round);
    CHECK(Expression::compile("path(..) | select(length == 3)").evaluate(nested) ==
          json::parse(R"(["a", "b", "c"])"));
    CHECK(Expression::compile("paths | select(length == 2)").evaluate(nested) ==
          json::parse(R"(["a", "b"])"));
    CHECK(Expression::compile("leaf_paths").evaluate(nested) == json::parse(R"(["a", "b", "c"])"));
    CHECK(Expression::compile("tostream").evaluate(nested) ==
          json::parse(R"([["a", "b", "c"], 1])"));
    CHECK(Expression::compile("(.a.b.d[] | select(. > 2)) |= 9 # a comment").evaluate(nested) ==
          json::parse(R"({"a": {"b": {"c": 1, "d": [2, 9]}}})"));
  }
  auto expression = Expression::compile("[paths] | length, error(\"not reached\")");
  CHECK(expression.evaluate(nested) == 6);
  CHECK(expression.evaluate(json::object()) == 0);
  // What comes out is what jq gives: errors raised as they were, comparisons not assignments.
  CHECK_THROWS_WITH_AS(Expression::compile(".a = error(\"boom\")").evaluate(nested),
                       doctest::Contains("failed: boom"), ExpressionError);
  CHECK_THROWS_WITH_AS(Expression::compile(".a |= error({code: 1})").evaluate(nested),
                       doctest::Contains(R"(failed: {"code":1})"), ExpressionError);
  CHECK(Expression::compile("try (.a = error(\"x\")) catch .").evaluate(nested) == "x");
  CHECK(Expression::compile(".a.b.c == 1 and .a.b.c != 2 and 1 <= 2 and 2 >= 1").evaluate(nested) ==
        true);
}

TEST_CASE("Dsl.Expression.RuntimeErrorNamesExpression") {
  auto e = Expression::compile(".input.rma_id + 1");
  try {
    e.evaluate(kContext);
    FAIL("expected an ExpressionError");
  } catch (const ExpressionError& error) {
    std::string what = error.what();
    CHECK(what.find(".input.rma_id + 1") != std::string::npos);
    CHECK(what.find("cannot be added") != std::string::npos);
  }
  CHECK_THROWS_AS(Expression::compile("error(\"boom\")").evaluate(kContext), ExpressionError);
  CHECK_THROWS_WITH_AS(Expression::compile("error({code: 1})").evaluate(kContext),
                       doctest::Contains("{\"code\":1}"), ExpressionError);
  // The program is usable again after an error.
  CHECK(e.evaluate(json({{"input", {{"rma_id", 1}}}})) == 2);
}

TEST_CASE("Dsl.Expression.CompileErrorCarriesJqMessage") {
  CHECK_THROWS_WITH_AS(Expression::compile(".a | foo("),
                       doctest::Contains("does not compile: syntax error"), ExpressionError);
  CHECK_THROWS_WITH_AS(Expression::compile("nosuch(1)"),
                       doctest::Contains("nosuch/1 is not defined"), ExpressionError);
  CHECK_THROWS_AS(Expression::compile("$undefined"), ExpressionError);
}

// A stored definition's programs compile when they first run: the same answers, and a program
// that does not compile fails each evaluation, named where it is written.
TEST_CASE("Dsl.Expression.CompilesOnFirstUse") {
  using rmaflow::Compilation;
  auto sum = Expression::compile("[.input.lines[] | .qty * .unit_price] | add", "amount",
                                 Compilation::on_first_use);
  CHECK(sum.evaluate(kContext) == 25.5);
  CHECK(sum.evaluate(kContext) == 25.5);

  auto bad = Expression::compile(".a | foo(", "if of step \"route\"", Compilation::on_first_use);
  for (int i = 0; i < 2; ++i) {
    try {
      bad.evaluate(kContext);
      FAIL("a program that does not compile evaluated");
    } catch (const ExpressionError& e) {
      CHECK(std::string(e.what()).starts_with("if of step \"route\": jq expression \".a | foo(\""));
      CHECK(std::string(e.what()).find("does not compile: syntax error") != std::string::npos);
      CHECK(e.placed());
    }
  }
  auto in_template = Template::compile(json{{"amount", "${ nosuch(1) }"}}, "with",
                                       "step \"refund\"", Compilation::on_first_use);
  CHECK_THROWS_WITH_AS(in_template.render(kContext),
                       doctest::Contains("with/amount of step \"refund\": jq expression "
                                         "\"nosuch(1)\" does not compile: nosuch/1 is not defined"),
                       ExpressionError);
  CHECK_THROWS_WITH_AS(Expression::compile(std::string("1\0", 2), "", Compilation::on_first_use),
                       doctest::Contains("NUL"), ExpressionError);
}

TEST_CASE("Dsl.Expression.Truthiness") {
  CHECK_FALSE(Expression::compile(".authorization.returnless").test(kContext));
  CHECK_FALSE(Expression::compile(".input.nothing").test(kContext));
  CHECK_FALSE(Expression::compile("empty").test(kContext));
  CHECK(Expression::compile(".input.flag").test(kContext));
  CHECK(Expression::compile("0").test(kContext));
  CHECK(Expression::compile("\"\"").test(kContext));
  CHECK(Expression::compile("[]").test(kContext));
}

TEST_CASE("Dsl.Expression.CopiesShareTheProgram") {
  auto e = Expression::compile(".input.qty");
  Expression copy = e;
  CHECK(copy.source() == ".input.qty");
  for (int i = 0; i < 100; ++i) CHECK(copy.evaluate(kContext) == 3);
}

TEST_CASE("Dsl.Template.IsExpression") {
  std::string inner;
  CHECK(Template::is_expression("${ .input.rma_id }", &inner));
  CHECK(inner == ".input.rma_id");
  CHECK(Template::is_expression("${.a}", &inner));
  CHECK(inner == ".a");
  CHECK(Template::is_expression("${ {a: 1} }", &inner));
  CHECK(inner == "{a: 1}");
  CHECK(Template::is_expression("${ \"}\" + .a }", &inner));
  CHECK(inner == "\"}\" + .a");
  CHECK(Template::is_expression("${ \"\\(.a | {b: 1})\" }", &inner));
  CHECK_FALSE(Template::is_expression("${}"));
  CHECK_FALSE(Template::is_expression("${   }"));
  CHECK_FALSE(Template::is_expression("${ .a } and ${ .b }"));
  CHECK_FALSE(Template::is_expression("order ${ .a }"));
  CHECK_FALSE(Template::is_expression(" ${ .a }"));
  CHECK_FALSE(Template::is_expression("${ .a"));
  CHECK_FALSE(Template::is_expression(".a"));
}

TEST_CASE("Dsl.Template.RendersNestedKeepingTypes") {
  auto t = Template::compile(json::parse(R"({
    "rma": "${ .input.rma_id }",
    "qty": "${ .input.qty * 2 }",
    "fixed": {"a": 1, "s": "plain"},
    "lines": ["${ .input.lines[0].qty }", {"deep": "${ .input.flag }"}, "literal"],
    "not": "id ${ .input.rma_id }"
  })"));
  CHECK_FALSE(t.is_constant());
  CHECK(t.holes().size() == 4);
  json out = t.render(kContext);
  CHECK(out["rma"] == "R-1");
  CHECK(out["qty"].is_number_integer());
  CHECK(out["qty"] == 6);
  CHECK(out["fixed"] == json({{"a", 1}, {"s", "plain"}}));
  CHECK(out["lines"] == json::parse(R"([2, {"deep": true}, "literal"])"));
  CHECK(out["not"] == "id ${ .input.rma_id }");
  CHECK(t.raw()["rma"] == "${ .input.rma_id }");
}

TEST_CASE("Dsl.Template.WholeValueAndConstants") {
  auto whole = Template::compile("${ .input.lines }");
  CHECK(whole.render(kContext) == kContext["input"]["lines"]);
  auto constant = Template::compile(json({{"a", 1}}));
  CHECK(constant.is_constant());
  CHECK(constant.render(kContext) == json({{"a", 1}}));
  CHECK(Template().render(kContext).is_null());
}

TEST_CASE("Dsl.Template.CompileErrorNamesPointer") {
  CHECK_THROWS_WITH_AS(Template::compile(json({{"a", {{"b", json::array({1, "${ .x | ( }"})}}}})),
                       doctest::Contains("/a/b/1"), ExpressionError);
}

TEST_CASE("Dsl.Template.RenderErrorPropagates") {
  auto t = Template::compile(json({{"n", "${ .input.rma_id - 2 }"}}));
  CHECK_THROWS_AS(t.render(kContext), ExpressionError);
}

TEST_CASE("Dsl.Expression.SimplePathsAgreeWithJq") {
  // `.a.b` is evaluated natively; `(.a.b)` is the same program run by jq.
  const std::vector<std::string> paths = {".",          ".a",        ".a.b",        ".a.b.c",
                                          ".list[0]",   ".list[5]",  ".list[1].x",  ".n.x",
                                          ".s.x",       ".a.list[0]", ".missing.deep", ".t[0]"};
  const std::vector<json> inputs = {
      json::parse(R"({"a":{"b":{"c":3},"list":[7]},"list":[1,{"x":"y"}],"n":5,"s":"str","t":true})"),
      json(nullptr),
      json::parse(R"({"a":[1,2]})"),
      json(42)};
  for (const auto& path : paths) {
    auto fast = Expression::compile(path);
    auto slow = Expression::compile("(" + path + ")");
    for (const auto& input : inputs) {
      CAPTURE(path);
      CAPTURE(input.dump());
      std::string fast_error, slow_error;
      json fast_value, slow_value;
      try {
        fast_value = fast.evaluate(input);
      } catch (const ExpressionError& e) {
        fast_error = e.what();
      }
      try {
        slow_value = slow.evaluate(input);
      } catch (const ExpressionError& e) {
        slow_error = e.what();
      }
      CHECK(fast_value == slow_value);
      CHECK(fast_error.empty() == slow_error.empty());
      if (!fast_error.empty()) {
        // Same jq message after the expression's own text.
        CHECK(fast_error.substr(fast_error.find("failed:")) ==
              slow_error.substr(slow_error.find("failed:")));
      }
    }
  }
}

TEST_CASE("Dsl.Expression.Issue12.EvaluationsRunWithinLimits") {
  SUBCASE("time: a program that would run for minutes is stopped") {
    auto e = Expression::compile("reduce range(0; .n) as $i (0; . + 1)");
    try {
      e.evaluate(json{{"n", 1e12}});
      FAIL("the evaluation should have been stopped");
    } catch (const ExpressionLimitError& error) {
      CHECK(error.limit() == "time");
      CHECK(std::string(error.what()).find("ran longer than") != std::string::npos);
    }
    // The program is usable again at once.
    auto quick = Expression::compile(".a + 1");
    CHECK(quick.evaluate(json{{"a", 1}}) == 2);
    auto same = Expression::compile("[limit(3; range(.n))]");
    CHECK(same.evaluate(json{{"n", 10}}) == json::array({0, 1, 2}));
  }
  SUBCASE("size: a value built by sharing is not expanded") {
    auto doubled = Expression::compile(
        "[.s, .s] | [., .] | [., .] | [., .] | [., .] | [., .] | [., .] | [., .] | [., .] | "
        "[., .] | [., .] | [., .] | [., .] | [., .] | [., .] | [., .] | [., .] | [., .] | [., .]");
    try {
      doubled.evaluate(json{{"s", std::string(1000, 'x')}});
      FAIL("the result should have been refused");
    } catch (const ExpressionLimitError& error) {
      CHECK(error.limit() == "size");
    }
  }
  SUBCASE("depth: a result nested past the bound") {
    auto deep = Expression::compile("reduce range(0; 1000) as $i (null; [.])");
    try {
      deep.evaluate(json::object());
      FAIL("the result should have been refused");
    } catch (const ExpressionLimitError& error) {
      CHECK(error.limit() == "depth");
    }
  }
  SUBCASE("a program cannot halt the interpreter the watchdog stops") {
    CHECK_THROWS_AS(Expression::compile("halt").evaluate(json::object()), ExpressionError);
    CHECK_THROWS_AS(Expression::compile("\"x\" | halt_error").evaluate(json::object()),
                    ExpressionError);
    CHECK_THROWS_AS(Expression::compile("import \"m\" as m; .").evaluate(json::object()),
                    ExpressionError);
  }
  SUBCASE("the engine's own names are refused, an object key of the same name is not") {
    for (const char* program : {"_rmaflow_emit", ".a | _rmaflow_emit | . + 1",
                                "def _rmaflow_emit: 1; _rmaflow_emit", ". as $__rmaflow_out | 1",
                                "_rmaflow_subarray_indices([1]; [1])", "paths | _rmaflow_emit"}) {
      CAPTURE(program);
      try {
        Expression::compile(program);
        FAIL("a program named one of the engine's names");
      } catch (const ExpressionError& error) {
        CHECK(std::string(error.what())
                  .find("is reserved for the engine (names starting with "
                        "_rmaflow may not be used)") != std::string::npos);
      }
      CHECK_THROWS_AS(Expression::compile(program, "", rmaflow::Compilation::on_first_use)
                          .evaluate(json::object()),
                      ExpressionError);
    }
    CHECK(Expression::compile("{_rmaflow_emit: .a} | ._rmaflow_emit").evaluate(json{{"a", 3}}) ==
          3);
    CHECK(Expression::compile("\"_rmaflow_emit\"").evaluate(json::object()) == "_rmaflow_emit");
  }
  SUBCASE("a program reads its context, not further inputs, and debug passes its value on") {
    for (const char* reader : {"input", "inputs", "_input", "[inputs]", "first(inputs)"}) {
      CAPTURE(reader);
      try {
        Expression::compile(reader).evaluate(json::object());
        FAIL("an expression read an input of its own");
      } catch (const ExpressionError& error) {
        CHECK(std::string(error.what()).find("input is not available") != std::string::npos);
      }
    }
    CHECK(Expression::compile(".a | debug").evaluate(json{{"a", 3}}) == 3);
  }
}

// A jq error at run time names where the expression is written and the field being rendered,
// with jq's own words (which name the value's type where jq says it).
TEST_CASE("Dsl.Expression.Issue11.RunTimeErrorsNameStepAndField") {
  auto with = Template::compile(json::parse(R"({"code": "${ .input.qty | explode }", "id": "${ .input.rma_id }"})"),
                                "with", "step \"issue_label\"");
  try {
    with.render(kContext);
    FAIL("rendered");
  } catch (const ExpressionError& e) {
    CHECK(std::string(e.what()) ==
          "with/code of step \"issue_label\": jq expression \".input.qty | explode\" failed: "
          "explode input must be a string");
  }
  auto whole = Template::compile(json("${ .input.rma_id.x }"), "set/credit", "step \"price\"");
  try {
    whole.render(kContext);
    FAIL("rendered");
  } catch (const ExpressionError& e) {
    CHECK(std::string(e.what()) ==
          "set/credit of step \"price\": jq expression \".input.rma_id.x\" failed: Cannot index "
          "string with string \"x\"");
  }
  auto condition = Expression::compile(".input.rma_id + 1", "if of case 2 of step \"disposition\"");
  try {
    condition.test(kContext);
    FAIL("evaluated");
  } catch (const ExpressionError& e) {
    std::string message = e.what();
    CHECK(message ==
          "if of case 2 of step \"disposition\": jq expression \".input.rma_id + 1\" failed: "
          "string (\"R-1\") and number (1) cannot be added");
  }
  // Without a place, the message is jq's as before.
  try {
    Expression::compile(".input.qty | explode").evaluate(kContext);
    FAIL("evaluated");
  } catch (const ExpressionError& e) {
    CHECK(std::string(e.what()) ==
          "jq expression \".input.qty | explode\" failed: explode input must be a string");
  }
}

// A program that reads its input through `.key` alone is handed an object input cut down to
// the keys it names (a branch's view holds the whole context): its answers and its errors are
// the same as on the whole input. `.whole | (P)` on `{"whole": input}` is the same program
// handed the whole input, whatever is cut: `.whole` is the key it reads.
TEST_CASE("Dsl.Expression.ProgramsHandedTheKeysTheyReadAnswerAsOnTheWholeInput") {
  using rmaflow::dsl::keys_read_only;
  using Keys = std::vector<std::string>;
  // Cut down: the keys each may read (every `.key`, after a pipe too, and `{key}`).
  const std::vector<std::pair<std::string, Keys>> cut = {
      {"{line_id: .line.line_id, bin: .scan.bin}", {"line", "line_id", "scan", "bin"}},
      {".a // .b", {"a", "b"}},
      {".n > 2 and .s == \"str\"", {"n", "s"}},
      {".n>=2 or .n<=0 or .n!=3 or .n==5", {"n"}},
      {"if .t then .a else .list[1] end", {"t", "a", "list"}},
      {"[.list[], .n]", {"list", "n"}},
      {"\"RMA \\(.a.b.c)-\\(.n)\"", {"a", "b", "c", "n"}},
      {"1 as $x | {n, s, $x}", {"n", "s"}},
      {".a as {b: $x} | {x: $x, t}", {"a", "t"}},
      {"try .s.x catch \"no\"", {"s", "x"}},
      {".a.list[0] * -1 + .n % 2 - (.n / 5)", {"a", "list", "n"}},
      {".missing", {"missing"}},
      {"(.s | not) or .t", {"s", "t"}},
      {"{(.s): 1, \"k\": .n}", {"s", "n"}},
      {"[.list[1:]]", {"list"}},
      {"1 + 2", {}},
      // After a pipe `.` is what came before it: functions there take that, not the input.
      {"(.n * .a.list[0] * 100 | round) / 100", {"n", "a", "list"}},
      {"[.list[] | numbers | . * 2]", {"list"}},
      {".a | keys", {"a"}},
      {".a | .[\"b\"] | length", {"a"}},
      {"{x: (.s | length), y: .n}", {"s", "n"}},
      {"if .list | length > 1 then .n else .s end", {"list", "n", "s"}},
      {".n as $x | [.list[] | select(. == $x)]", {"n", "list"}},
      {".a | to_entries | map(.key) | join(\",\")", {"a", "key"}},
      {"\"\\(.s | ascii_upcase)-\\(.n)\"", {"s", "n"}},
      {".a | (.b | keys), (.list | length)", {"a", "b", "list"}},
      {"[(if .t then \"yes\" else empty end), .n]", {"t", "n"}},
  };
  // Handed the whole: each may look at its input otherwise, and most would answer otherwise if
  // cut down.
  const std::vector<std::string> whole = {
      "keys",
      "length",
      "to_entries",
      "[paths]",
      "tostream",
      ".",
      "..",
      ".[\"n\"]",
      ".\"n\"",
      "[.[]]",
      "del(.a)",
      ".a = 1",
      ".a |= 1",
      ".n += 1",
      ".n //= 1",
      ".n -= 1",
      "{\"n\"}",
      "{\"\\(.s)\"}",
      "[1, length]",
      "{a: 1} + . | keys",
      "@json",
      "tojson",
      "\"\\(.)\"",
      "reduce .list[] as $x (0; . + 1)",
      "def f: keys; f",
      "with_entries(.)",
      ". == {}",
      "{n} + . | length",
      "map_values(1)",
      "has(\"n\")",
      "[.n, (. | length)]",
      "if . == {} then 1 else 2 end",
      // Where `.` is the input again, after a pipe.
      "{x: .s | length, y: length}",
      "{x: .s | length, \"k\"}",
      "[.s | length] + [length]",
      ".n as $x | length",
      ".s, length | tostring",
      "(.s | length), length",
      "if .s | length > 0 then length else 1 end",
      "\"\\(.s | length) \\(length)\"",
      "[limit(1; .list[]), length]",
      "try (.s | length) catch keys",
      "try .s catch . | keys",
      ".a | def f: keys; f",
      ".list | reduce .[] as $x (0; . + 1)",
  };
  for (const auto& [program, keys] : cut) {
    CAPTURE(program);
    auto read = keys_read_only(program);
    REQUIRE(read.has_value());
    CHECK(*read == keys);
  }
  for (const auto& program : whole) {
    CAPTURE(program);
    CHECK(!keys_read_only(program).has_value());
  }
  const std::vector<json> inputs = {
      json::parse(R"({"a":{"b":{"c":3},"list":[7]},"list":[1,{"x":"y"}],"n":5,"s":"str","t":true,
                      "line":{"line_id":"L1"},"scan":{"bin":"B-3"},"other":[1,2,3]})"),
      json::parse(R"({"a":[1,2],"n":"five","s":{"x":1},"t":false})"), json::object(), json(nullptr),
      json(42)};
  auto run = [](const Expression& e, const json& input) {
    try {
      return json{{"value", e.evaluate(input)}};
    } catch (const ExpressionError& error) {
      std::string what = error.what();
      return json{{"error", what.substr(what.find("failed:"))}};
    }
  };
  std::vector<std::string> programs = whole;
  for (const auto& entry : cut) programs.push_back(entry.first);
  for (const auto& program : programs) {
    auto direct = Expression::compile(program);
    auto on_whole = Expression::compile(".whole | (" + program + ")");
    for (const auto& input : inputs) {
      CAPTURE(program);
      CAPTURE(input.dump());
      CHECK(run(direct, input) == run(on_whole, json{{"whole", input}}));
    }
  }
}
