// libjq's walking builtins are bounded during an evaluation (engine/dsl/jq_cost_guard.hpp). Each
// program below ran for minutes, or took gigabytes, inside one C builtin where the time limit
// cannot stop it; each must now end at once with the size limit. If the executable's definitions
// ever stopped binding libjq's calls, these would hang or fail instead. Programs that ask for
// many walks, each within the bound, end at the evaluation's deadline with the time limit.
#include <dlfcn.h>
#include <doctest/doctest.h>

extern "C" {
#include <jq.h>
}

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "engine/dsl/jq_cost_guard.hpp"
#include "engine/dsl/jq_watchdog.hpp"
#include "rmaflow/expression.hpp"

using nlohmann::json;
using rmaflow::Expression;
using rmaflow::ExpressionError;
using rmaflow::ExpressionLimitError;

namespace {

// `[.,.]` applied `times` times to .input.rma_id: 2^times leaves, built in `times` steps.
std::string doubled(int times, std::string_view then) {
  std::string program = "[.input.rma_id]";
  for (int i = 0; i < times; ++i) program += " | [.,.]";
  program += " | ";
  program += then;
  return program;
}

// The file that defines the function found first under `name`, as libjq's calls find it.
std::string definer_of(const char* name) {
  Dl_info info{};
  void* found = dlsym(RTLD_DEFAULT, name);
  if (found == nullptr || dladdr(found, &info) == 0 || info.dli_fname == nullptr) return "";
  return info.dli_fname;
}

const json kCostContext = {{"input", {{"rma_id", "RMA-1"}, {"n", 3}}}};

std::string limit_of(const std::string& program) {
  try {
    Expression::compile(program).evaluate(kCostContext);
  } catch (const ExpressionLimitError& error) {
    std::string says = error.limit() == std::string("time")     ? "ran longer than 1000 ms"
                       : error.limit() == std::string("memory") ? "held more than 256 MiB at once"
                                                                : "too large for jq's builtins";
    CHECK(std::string(error.what()).find(says) != std::string::npos);
    return error.limit();
  } catch (const ExpressionError& error) {
    return std::string("error: ") + error.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("Dsl.JqCost.LibjqsCallsFindTheExecutablesDefinitions") {
  Dl_info self{};
  REQUIRE(dladdr(reinterpret_cast<void*>(&definer_of), &self) != 0);
  // Every function jq_cost_guard.cpp and jq_regex_guard.cpp define in libjq's and oniguruma's
  // place: a linker that left one out, or did not export it, leaves the library's in its place.
  for (const char* name : {"jv_dump_string",
                           "jv_dump_string_trunc",
                           "jv_equal",
                           "jv_cmp",
                           "jv_contains",
                           "jv_sort",
                           "jv_group",
                           "jv_object_merge_recursive",
                           "jv_string_concat",
                           "jv_string_append_buf",
                           "jv_array_concat",
                           "jv_array_indexes",
                           "jv_string_indexes",
                           "jv_mem_alloc",
                           "jv_mem_alloc_unguarded",
                           "jv_mem_calloc",
                           "jv_mem_calloc_unguarded",
                           "jv_mem_strdup",
                           "jv_mem_strdup_unguarded",
                           "jv_mem_realloc",
                           "jv_mem_free",
                           "onig_new",
                           "onig_free",
                           "onig_search"}) {
    INFO(name);
    CHECK(definer_of(name) == std::string(self.dli_fname));
  }
}

TEST_CASE("Dsl.JqCost.WalkingBuiltinsStopAtTheBound") {
  for (std::string then :
       {"tojson", "tostring", "\"\\(.)\"", "@json", "@text", "[.] | sort", "[., [.]] | sort_by(.)",
        "[.] | group_by(.)", "[.] | unique", "[., 1] | max",
        ". as $a | [$a, [$a]] | .[0] == .[1][0] + [1]", "contains([[1]])",
        ". as $a | {a: $a} * {a: $a}", ". < [.]", ". as $a | [$a] | indices([[$a[0], $a[1]]])"}) {
    std::string program = doubled(30, then);
    CAPTURE(program);
    CHECK(limit_of(program) == "size");
  }
}

TEST_CASE("Dsl.JqCost.ManyWalksEachWithinTheBoundStopAtTheDeadline") {
  // Some builtins walk once per element, or per pair, in one call: `min_by` compares each element
  // with the least so far, and `.[b]` with b an array compares b with each place of the array. The
  // fuzzing input that found this searched 2^13 values for one of 2^11 leaves. Here each of
  // 400,000 comparisons walks 2^16 leaves twice, within the bound each time: without the deadline
  // inside the builtins this runs for hours, past ctest's timeout.
  CHECK(limit_of(doubled(16, ". as $t | [range(100000) | $t, $t, $t, $t] | min_by(.)")) == "time");
  CHECK(limit_of(doubled(16, ". as $t | [range(100000) | $t, $t, $t, $t] | .[[$t[0], $t[1]]]")) ==
        "time");
  // `contains` on arrays tries every pair of elements, nested calls within one builtin: here each
  // of 300,000 elements is found at the last of 200,000 places, 6 * 10^10 calls.
  CHECK(limit_of("[range(100000)] + [range(100000) | . + 100000] "
                 "| contains([range(100000) | 199999, 199999, 199999])") == "time");
  // Comparisons jv_equal answers without a walk (the same value shared), 10^12 of them.
  CHECK(limit_of("[range(100000) | \"x\"] | [.[], .[], .[], .[], .[], .[], .[], .[], .[], .[]] "
                 "| . as $a | [$a[], $a[]] | .[$a] | length") == "time");
}

TEST_CASE("Dsl.JqCost.AProgramHaltedInsideAPathLeavesTheInterpreterUsable") {
  // The fuzzing input that found this: the watchdog halted an assignment to every path of a
  // large value, with paths pending, and restarting the interpreter aborted the process.
  // Twice: the second evaluation runs on the interpreter restarted after the first.
  auto assign = Expression::compile(doubled(18, "[.. = .] | length"));
  for (int round = 0; round < 2; ++round) {
    try {
      assign.evaluate(kCostContext);
      FAIL("the time limit stops it");
    } catch (const ExpressionLimitError& error) {
      CHECK(error.limit() == std::string("time"));
    }
  }
}

TEST_CASE("Dsl.JqCost.ArrayAndStringSearchAnswerAsJqDoes") {
  auto run = [](const std::string& program) {
    CAPTURE(program);
    return Expression::compile(program).evaluate(kCostContext);
  };
  CHECK(run("[1, 1, 1] | indices([1, 1])") == json::array({0, 1}));
  CHECK(run("[1, 2, 1, 2] | indices([1, 2])") == json::array({0, 2}));
  CHECK(run("[1, 2, 1] | indices(1)") == json::array({0, 2}));
  CHECK(run("[1, [2]] | .[[[2]]]") == json::array({1}));
  CHECK(run("[1, 2] | .[[3]]") == json::array());
  CHECK(run("[1, 2] | .[[]]") == json::array());
  CHECK(run("[1, 2] | .[[1, 2, 3]]") == json::array());
  CHECK(run("[{a: 1}, {a: 2}] | index({a: 2})") == 1);
  CHECK(run("\"aaaa\" | indices(\"aa\")") == json::array({0, 2}));
  CHECK(run("\"a,b, cd\" | index(\", \")") == 3);
  // libjq 1.6 never returns from these: it finds the empty string at offset 0 forever.
  CHECK(run("\"abc\" | indices(\"\")") == json::array());
  CHECK(run("\"abc\" | index(\"\")") == nullptr);
}

TEST_CASE("Dsl.JqCost.ErrorMessagesNameALargeValueWithoutWalkingIt") {
  // The fuzzing input that found this: a type error whose message would print 2^30 leaves.
  std::string program = doubled(30, "[./.]");
  try {
    Expression::compile(program).evaluate(kCostContext);
    FAIL("dividing arrays is an error");
  } catch (const ExpressionLimitError& error) {
    FAIL("a type error is an error, not a limit: " << error.what());
  } catch (const ExpressionError& error) {
    INFO(std::string(error.what()));
    CHECK(std::string(error.what()).find("array ([...]) and array ([...]) cannot be divided") !=
          std::string::npos);
  }
  try {
    Expression::compile(doubled(30, "error")).evaluate(kCostContext);
    FAIL("error raises");
  } catch (const ExpressionError& error) {
    CHECK(std::string(error.what()).find("array (too large to show)") != std::string::npos);
  }
}

TEST_CASE("Dsl.JqCost.BuiltStringsAndArraysStopAtTheBound") {
  // A string repeated is refused before libjq's loop runs, as a jq error
  // (Dsl.Expression.StringRepetitionIsBoundedBeforeItRuns).
  CHECK(limit_of(".input.rma_id * 100000000").find("a string may be repeated at most") !=
        std::string::npos);

  CHECK(limit_of("[.input.rma_id] | . + . | . + . | . + . | . + . | . + . | . + . | . + . | . + . "
                 "| . + . | . + . | . + . | . + . | . + . | . + . | . + . | . + . | . + . | . + . "
                 "| . + . | . + . | . + . | . + . | . + . | . + . | length") == "size");
  CHECK(limit_of(".input.rma_id | . + . | . + . | . + . | . + . | . + . | . + . | . + . | . + . "
                 "| . + . | . + . | . + . | . + . | . + . | . + . | . + . | . + . | . + . | . + . "
                 "| . + . | . + . | . + . | length") == "size");
}

namespace {

// A string of 2^n bytes as $s, doubled n times from one letter, each copy within the bounds.
std::string bytes_2_to_the(int n) {
  std::string program = "\"x\"";
  for (int i = 0; i < n; ++i) program += " | . + .";
  return program + " | . as $s";
}

// What `program` gave, run by libjq under a JqCostScope that lets it hold `bytes`, its deadline
// far off: its number (none when it was halted), and whether the guard halted it.
struct HeldRun {
  std::optional<double> number;
  bool halted = false;
  bool full = false;
};
HeldRun run_holding(const std::string& program, std::size_t bytes) {
  jq_state* jq = jq_init();
  REQUIRE(jq_compile(jq, program.c_str()) != 0);
  HeldRun run;
  {
    const auto far = std::chrono::steady_clock::now() + std::chrono::minutes(5);
    rmaflow::dsl::JqCostScope cost(far, bytes);
    jq_start(jq, jv_null(), 0);
    auto& watchdog = rmaflow::dsl::JqWatchdog::instance();
    const auto ticket = watchdog.arm(jq, far);
    cost.watched_as(ticket);
    jv out = jq_next(jq);
    if (jv_get_kind(out) == JV_KIND_NUMBER) run.number = jv_number_value(out);
    const bool fired = watchdog.disarm(ticket);
    run.halted = fired && jq_halted(jq);
    run.full = cost.full();
    jv_free(out);
  }
  jq_teardown(&jq);
  return run;
}

}  // namespace

TEST_CASE("Dsl.JqCost.AnEvaluationHoldsAtMost256MiB") {
  // Copies of 8 MiB, each within the bounds above, all kept: refused past 256 MiB, long before
  // the deadline (it copies about 30 of the 100,000 asked for).
  CHECK(limit_of(bytes_2_to_the(22) + " | [range(100000) | $s + $s] | length") == "memory");
  // The same guard held to 16 MiB, on less memory. What is freed is counted out: 40 copies of
  // 2 MiB, each dropped once measured, 80 MiB in all.
  const std::size_t small = std::size_t{16} << 20;
  auto dropped = run_holding(bytes_2_to_the(20) + " | [range(40) | $s + $s | length] | add", small);
  CHECK(dropped.number == 40.0 * 2097152);
  CHECK_FALSE(dropped.halted);
  // Halted by the guard, whatever the deadline: a builtin no bound above refuses (`explode`, an
  // array of 2^16 numbers from 2^16 letters, 1 MiB), asked for 40 times (40 MiB).
  auto kept = run_holding(bytes_2_to_the(16) + " | [range(40) | $s | explode] | length", small);
  CHECK_FALSE(kept.number.has_value());
  CHECK(kept.halted);
  CHECK(kept.full);
  // And the next evaluation starts from nothing held.
  CHECK(Expression::compile(bytes_2_to_the(22) + " | $s | length").evaluate(kCostContext) ==
        4194304);
}

TEST_CASE("Dsl.JqCost.OrdinaryWorkIsUntouched") {
  // The same builtins on values of ordinary size, and a program usable again after a refusal.
  CHECK(limit_of(doubled(30, "tojson")) == "size");
  CHECK(Expression::compile(doubled(10, "tojson | length")).evaluate(kCostContext) == 12285);
  CHECK(Expression::compile("[3, 1, 2] | sort").evaluate(kCostContext) == json::array({1, 2, 3}));
  CHECK(Expression::compile("[{a: 1}, {a: 1}] | .[0] == .[1]").evaluate(kCostContext) == true);
  CHECK(Expression::compile("[1, [2]] | contains([[2]])").evaluate(kCostContext) == true);
  CHECK(Expression::compile("{a: {b: 1}} * {a: {c: 2}}").evaluate(kCostContext) ==
        json({{"a", {{"b", 1}, {"c", 2}}}}));
  CHECK(Expression::compile("\"ab\" * 3").evaluate(kCostContext) == "ababab");
  CHECK(Expression::compile("\"RMA \\(.input.n)\"").evaluate(kCostContext) == "RMA 3");
  CHECK(Expression::compile("[1, 2] + [3]").evaluate(kCostContext) == json::array({1, 2, 3}));
  try {
    Expression::compile("[1] / [2]").evaluate(kCostContext);
    FAIL("dividing arrays is an error");
  } catch (const ExpressionError& error) {
    CHECK(std::string(error.what()).find("array ([1]) and array ([2]) cannot be divided") !=
          std::string::npos);
  }
}

TEST_CASE("Dsl.JqCost.RegularExpressionSearchesStopAtTheDeadline") {
  // One search tries every start position within one builtin call: here each of 100,000 costs
  // about a millisecond of backtracking, within oniguruma's limit at each, 100 s in all.
  CHECK(limit_of("\"a\" * 100000 | test(\"(a|aa){0,16}[^ab]\")") == "time");
  // A global match searches once per match within one call, and libjq counts each match's
  // offset from the start of the string: 10^6 matches, hours.
  CHECK(limit_of("\"a\" * 1000000 | [match(\".\"; \"g\")] | length") == "time");
  // Reading to the end from every position, without backtracking: 5 * 10^9 steps in one search.
  // The same program answers at once on a string of an ordinary length.
  auto sku = Expression::compile("test(\"[A-Z]+-[0-9]+$\")");
  try {
    sku.evaluate(json(std::string(100000, 'A')));
    FAIL("the time limit stops it");
  } catch (const ExpressionLimitError& error) {
    CHECK(error.limit() == std::string("time"));
  }
  CHECK(sku.evaluate(json(std::string(3000, 'A'))) == false);
  CHECK(sku.evaluate(json(std::string(6000, 'A') + "-1")) == true);
  // The longest match ("l") compares the matches at every position: the same bound holds.
  CHECK(limit_of("\"a\" * 100000 | test(\"(a|aa){0,16}[^ab]\"; \"l\")") == "time");
  CHECK(limit_of("\"A\" * 100000 | test(\"[A-Z]+-[0-9]+$\"; \"l\")") == "time");
  // `\G` (where the search started) holds at the first position only: the bound holds too.
  CHECK(limit_of(R"("a" * 100000 | test("\\Gz|(a|aa){0,16}[^ab]"))") == "time");
  CHECK(limit_of(R"("a" * 100000 | test("\\Gz|(a|aa){0,16}[^ab]"; "l"))") == "time");
  // It is the longest, the leftmost of equals, past the length searched whole too.
  const auto padding = std::string(5000, 'x');
  auto longest = Expression::compile("[match(\"a+|b+\"; \"l\") | [.offset, .length]]");
  CHECK(longest.evaluate(json(padding + "ab" + "aaa" + "x" + "bbb" + "aa")) ==
        json::parse("[[5002, 3]]"));
  // A global match searches from each match on: the matches at each position are found once,
  // not again at each search (about 18 million tries here, seconds).
  CHECK(Expression::compile("[match(\"\"; \"gl\")] | length")
            .evaluate(json(std::string(6000, 'a'))) == 6000);  // as libjq: "aaaa" gives 4
}

TEST_CASE("Dsl.JqCost.GlobalMatchesGoOnFromTheCharacterAfterAnEmptyMatch") {
  // libjq 1.6 went on one byte past an empty match, inside the next character when it has more
  // than one byte, and crashed the process counting the characters up to what it found there.
  // Each answer is the one libjq gives for the same string in ASCII ("xyz", "Jose N", "xa").
  auto run = [](const std::string& program) {
    CAPTURE(program);
    return Expression::compile(program).evaluate(kCostContext);
  };
  CHECK(run("\"é\" | [match(\"x*\"; \"g\") | .offset]") == json::array({0}));
  CHECK(run("\"xéz\" | [match(\"é*\"; \"g\") | [.offset, .length]]") ==
        json::parse("[[0, 0], [1, 1], [2, 0]]"));
  CHECK(run("\"José Ñ\" | [match(\" *\"; \"g\") | [.offset, .length]]") ==
        json::parse("[[0, 0], [1, 0], [2, 0], [3, 0], [4, 1], [5, 0]]"));
  CHECK(run("\"€a\" | [match(\"\"; \"g\") | .offset]") == json::array({0, 1}));
  CHECK(run("\"\U0001d11ea\" | [match(\"\"; \"g\") | .offset]") == json::array({0, 1}));
  CHECK(run("\"a, b,c\" | [splits(\", *\")]") == json::array({"a", "b", "c"}));
  CHECK(run("\"Zoë,  Ann\" | [scan(\"[^, ]*\")] | map(select(length > 0))") ==
        json::array({"Zoë", "Ann"}));
  // An empty match found past where the search started is found once, not again from there.
  CHECK(run("\"ab\" | [match(\"(?=b)\"; \"g\") | .offset]") == json::array({1}));
  CHECK(run("\"aéb\" | [match(\"(?=b)\"; \"g\") | .offset]") == json::array({2}));
}

namespace {

// libjq's own answer: the program run by libjq directly, outside any evaluation, where nothing
// of rmaflow's stands in the way.
json jq_answer(jq_state* jq, const json& input) {
  jq_start(jq, jv_parse(input.dump().c_str()), 0);
  jv out = jq_next(jq);
  json answer;
  if (jv_is_valid(out)) {
    jv text = jv_dump_string(out, 0);
    answer = json::parse(jv_string_value(text));
    jv_free(text);
  } else {
    jv message = jv_invalid_get_msg(out);
    answer = {{"error", jv_get_kind(message) == JV_KIND_STRING ? jv_string_value(message) : ""}};
    jv_free(message);
  }
  return answer;
}

// Strings of a few thousand bytes, mostly `a` and `b`, with the other pieces rare, so that the
// patterns below match seldom and far apart.
std::vector<std::string> sample_strings() {
  const std::vector<std::string> rare = {"c",  "x",      "1",      " ",
                                         "\n", "\u00e9", "\u20ac", "\U0001d11e"};
  std::mt19937 random(19);
  std::vector<std::string> strings;
  for (int n = 0; n < 6; ++n) {
    std::string s;
    // Half of them past the length searched whole (4 KiB), searched a position at a time.
    auto pieces = n % 2 == 0 ? std::uniform_int_distribution<int>(200, 3000)(random)
                             : std::uniform_int_distribution<int>(4500, 5500)(random);
    for (int i = 0; i < pieces; ++i) {
      auto pick = std::uniform_int_distribution<int>(0, 199)(random);
      if (pick < static_cast<int>(rare.size())) {
        s += rare[static_cast<std::size_t>(pick)];
      } else {
        s += pick % 2 == 0 ? "a" : "b";
      }
    }
    strings.push_back(s);
  }
  return strings;
}

}  // namespace

TEST_CASE("Dsl.JqCost.RegularExpressionsAnswerAsJqDoes") {
  // A search during an evaluation over a long string goes one start position at a time: every
  // match, offset, capture and error must be libjq's own, on strings short and long, with
  // characters of two, three and four bytes, lookbehind, anchors, `\G`, and each flag.
  const std::string program =
      ".s as $s | .re as $re | .flags as $f | "
      "[$s | match($re; $f) | [.offset, .length, .string, [.captures[] | .offset, .string]]], "
      "($s | test($re; $f))";
  const std::vector<std::string> patterns = {"x",
                                             "c1",
                                             "(?<=\u00e9)x",
                                             "\\bx\\b",
                                             "^1",
                                             "x$",
                                             "",
                                             "(a|b)*c",
                                             "\\Ga",
                                             "\\G.",
                                             "\\Gx|c1",
                                             "(?<=\\G)a|1",
                                             "\u20ac\U0001d11e|\n ",
                                             "[^ab]{2}",
                                             "(?<n>x)|(?<m>1)",
                                             "a{3}c",
                                             "(?i)X",
                                             "b*?1"};
  const std::vector<std::string> flags = {"g", "gx", "gn", "gl", "gs", ""};
  auto ours = Expression::compile(program);
  jq_state* jq = jq_init();
  REQUIRE(jq_compile(jq, program.c_str()) != 0);
  int compared = 0;
  for (const auto& s : sample_strings()) {
    for (const auto& re : patterns) {
      for (const auto& f : flags) {
        json input = {{"s", s}, {"re", re}, {"flags", f}};
        CAPTURE(re);
        CAPTURE(f);
        json expected = jq_answer(jq, input);
        json got;
        try {
          got = ours.evaluate(input);
        } catch (const ExpressionError& error) {
          got = {{"error", std::string(error.what())}};
        }
        if (expected.contains("error")) {
          CHECK(got.contains("error"));
        } else {
          CHECK(got == expected);
        }
        ++compared;
      }
    }
  }
  jq_teardown(&jq);
  CHECK(compared == 6 * 18 * 6);
}
