// Expression: one compiled jq program (libjq 1.6), evaluated on demand. Template: a JSON value
// whose `${ jq }` strings are expressions.
#include "rmaflow/expression.hpp"

#include <cctype>
#include <mutex>
#include <optional>

extern "C" {
#include <jq.h>
}

#include <fmt/format.h>

#include <string_view>
#include <utility>
#include <vector>

#include "engine/dsl/jq_cost_guard.hpp"
#include "engine/dsl/jq_lexer.hpp"
#include "engine/dsl/jq_references.hpp"
#include "engine/dsl/jq_watchdog.hpp"
#include "engine/dsl/jv_json.hpp"
#include "engine/support/utf8.hpp"

namespace rmaflow {

namespace {

// jq reports a compile error as "jq: error: <what> at <top-level>, line 1:\n<program>" and then
// "jq: N compile error(s)". Keep only <what>: the program is named by our own message.
std::string clean_jq_message(std::string text) {
  if (auto nl = text.find('\n'); nl != std::string::npos) text.resize(nl);
  for (std::string_view prefix : {"jq: error: ", "jq: "}) {
    if (text.starts_with(prefix)) {
      text.erase(0, prefix.size());
      break;
    }
  }
  for (std::string_view noise : {" (Unix shell quoting issues?)", " at <top-level>, line 1:"}) {
    if (auto at = text.find(noise); at != std::string::npos) text.erase(at, noise.size());
  }
  if (!text.empty() && text.back() == ':') text.pop_back();
  return text;
}

void collect_compile_error(void* data, jv message) {
  auto* errors = static_cast<std::string*>(data);
  std::string text = dsl::jv_message(message);
  if (text.find("compile error") != std::string::npos && text.starts_with("jq: ")) return;
  text = clean_jq_message(std::move(text));
  if (text.empty()) return;
  if (!errors->empty()) errors->append("; ");
  errors->append(text);
}

}  // namespace

namespace {

// One step of a simple path: `.name` or `.[N]`.
struct PathStep {
  std::string key;
  long index = -1;  // >= 0 for `.[N]`
};

// The steps of `source` when it is nothing but a path of identifiers and literal indexes
// (`.`, `.input.rma_id`, `.lines[0].sku`): the common case, evaluated without jq.
std::optional<std::vector<PathStep>> simple_path(std::string_view source) {
  while (!source.empty() && std::isspace(static_cast<unsigned char>(source.front()))) source.remove_prefix(1);
  while (!source.empty() && std::isspace(static_cast<unsigned char>(source.back()))) source.remove_suffix(1);
  if (source == ".") return std::vector<PathStep>{};
  std::vector<PathStep> steps;
  std::size_t i = 0;
  auto ident_start = [](char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; };
  auto ident_char = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  while (i < source.size()) {
    if (source[i] == '.' && i + 1 < source.size() && ident_start(source[i + 1])) {
      std::size_t start = ++i;
      while (i < source.size() && ident_char(source[i])) ++i;
      steps.push_back(PathStep{std::string(source.substr(start, i - start))});
    } else if (source[i] == '[' && !steps.empty()) {
      std::size_t start = ++i;
      while (i < source.size() && std::isdigit(static_cast<unsigned char>(source[i]))) ++i;
      if (i == start || i >= source.size() || source[i] != ']' || i - start > 9) return std::nullopt;
      steps.push_back(PathStep{"", std::stol(std::string(source.substr(start, i - start)))});
      ++i;
    } else {
      return std::nullopt;
    }
  }
  if (steps.empty()) return std::nullopt;
  return steps;
}

const char* jq_type_name(const nlohmann::json& v) {
  if (v.is_number()) return "number";
  if (v.is_boolean()) return "boolean";
  return v.type_name();  // string, array, object
}

// What jq does for the same path: a missing key or index, or null on the way, gives null;
// indexing anything else is jq's error.
nlohmann::json follow(const nlohmann::json& input, const std::vector<PathStep>& steps,
                      const std::string& source) {
  const nlohmann::json* at = &input;
  static const nlohmann::json kNull;
  for (const auto& step : steps) {
    if (at->is_null()) return nullptr;
    if (step.index < 0) {
      if (!at->is_object()) {
        throw ExpressionError(fmt::format("jq expression \"{}\" failed: Cannot index {} with string \"{}\"",
                                          source, jq_type_name(*at), step.key));
      }
      auto it = at->find(step.key);
      at = it == at->end() ? &kNull : &*it;
    } else {
      if (!at->is_array()) {
        throw ExpressionError(fmt::format("jq expression \"{}\" failed: Cannot index {} with number",
                                          source, jq_type_name(*at)));
      }
      at = static_cast<std::size_t>(step.index) < at->size() ? &(*at)[static_cast<std::size_t>(step.index)] : &kNull;
    }
  }
  return *at;
}

}  // namespace

namespace {

// What a program gave through `_rmaflow_emit` during one evaluation: its first value, and the
// limits as they stood then (what the program did after it does not count).
struct Emitted {
  bool any = false;
  jv value = jv_invalid();
  bool overrun = false;
  bool late = false;
  bool full = false;
  // Set for the evaluation running: how to halt it, and its limits.
  std::uint64_t ticket = 0;
  const dsl::JqCostScope* cost = nullptr;
};

// jq's debug callback: `_rmaflow_emit` gives its input.
void on_emit(void* data, jv value) {
  auto* emitted = static_cast<Emitted*>(data);
  if (emitted->any || emitted->cost == nullptr) {
    jv_free(value);
    return;
  }
  emitted->any = true;
  emitted->value = value;
  emitted->overrun = emitted->cost->overrun();
  emitted->late = emitted->cost->late();
  emitted->full = emitted->cost->full();
  dsl::JqWatchdog::instance().halt(emitted->ticket);
}

}  // namespace

struct Expression::Impl {
  std::string source;
  std::string origin;  // where it is written, for run-time errors; may be empty
  jq_state* jq = nullptr;                      // null for a simple path
  std::optional<std::vector<PathStep>> path;  // set for a simple path
  // The keys of its input the program may read, when it reads it through `.key` alone: an
  // object input is handed to jq cut down to them (a branch's view holds the whole context,
  // a return's every line among it, for a program that reads `.line` and `.scan`).
  std::optional<std::vector<std::string>> keys_read;
  std::once_flag compiled;                    // guards jq and compile_error
  std::string compile_error;                  // why jq did not compile it, when it did not
  Emitted emitted;                            // jq's debug callback writes here

  // Compiles the program into `jq`, or leaves jq's complaint in compile_error.
  void compile_program();
  // compile_program() once; throws ExpressionError naming jq's complaint.
  void ensure_compiled();

  Impl() = default;
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  ~Impl() {
    if (jq != nullptr) jq_teardown(&jq);
    jv_free(emitted.value);
  }
};

namespace {

// Defined ahead of every program: an expression may not stop the interpreter it shares with
// the engine (the watchdog alone halts it, see jq_watchdog.hpp), and with definitions first an
// `import` or `include` of modules from disk is a syntax error. An expression has one input, its
// context: libjq 1.6 crashes when `input`, `inputs` or `debug` run without the command line's
// callbacks, so those names are defined here and never reach the library's own (`_rmaflow_emit`,
// defined first, keeps the library's `debug` for the wrapper below); `stderr` would
// write to the server's own error stream. libjq 1.6 leaks memory each time it looks an array up
// in an array (`.[[x]]`, which its `indices`, `index` and `rindex` use on arrays): the three are
// defined here over slices and comparisons, with the same answers, so that a workflow that asks
// whether a SKU is in a list does not leak on every evaluation (`.[[x]]` itself is searched by
// jq_cost_guard.cpp's definition, which does not leak). libjq 1.6's `sub` and `gsub` replace
// what a global match finds in the rest of the string, again and again: an empty match never
// ends (`gsub(" *"; "")`), and `^` matches at each rest's start (`"aaa" | gsub("^a"; "")` was
// ""). Here one global match is replaced in place, with the same answers otherwise. A
// replacement usually has one output, added to the answer as each match comes; from the first
// match whose replacement has several, the pieces are kept and every combination given one at
// a time, the first match's choice changing fastest, as jq 1.6 gives them (not built all at
// once: `"x" * 60 | first(gsub("x"; "a", "b"))` has 2^60 of them). A replacement with no
// output leaves none to give (null), though each later one is still evaluated, as jq's are.
constexpr std::string_view kPrelude =
    "def _rmaflow_emit: debug; "
    "def halt: error(\"halt is not available in rmaflow expressions\"); "
    "def halt_error: error(\"halt_error is not available in rmaflow expressions\"); "
    "def halt_error($code): error(\"halt_error is not available in rmaflow expressions\"); "
    "def _input: error(\"input is not available in rmaflow expressions: use the context\"); "
    "def input: _input; "
    "def inputs: _input; "
    "def debug: .; "
    "def stderr: .; "
    "def _rmaflow_subarray_indices($a; $b): if ($b | length) == 0 then [] else "
    "[range(0; ($a | length) - ($b | length) + 1) | select($a[.:(. + ($b | length))] == $b)] end; "
    "def indices($i): if type == \"array\" and ($i | type) == \"array\" "
    "then _rmaflow_subarray_indices(.; $i) "
    "elif type == \"array\" then _rmaflow_subarray_indices(.; [$i]) "
    "elif type == \"string\" and ($i | type) == \"string\" then _strindices($i) "
    "else .[$i] end; "
    "def index($i): indices($i) | .[0]; "
    "def rindex($i): indices($i) | .[-1:][0]; "
    "def sub($re; str; $flags): . as $in "
    "| reduce match($re; $flags) as $m ([0, \"\", []]; "
    "($m | reduce (.captures[] | select(.name != null) | {(.name): .string}) as $pair "
    "({}; . + $pair) | [str]) as $rs "
    "| if . == null or ($rs | length) == 0 then null "
    "elif ($rs | length) == 1 and (.[2] | length) == 0 "
    "then [$m.offset + $m.length, .[1] + $in[.[0]:$m.offset] + $rs[0], []] "
    "else [$m.offset + $m.length, .[1], .[2] + [$in[.[0]:$m.offset], $rs]] end) "
    "| select(. != null) | .[0] as $at | .[1] as $done | .[2] as $rest "
    "| if ($rest | length) == 0 then $done + $in[$at:] "
    "else range(0; reduce range(1; $rest | length; 2) as $j (1; . * ($rest[$j] | length))) as $i "
    "| reduce range(0; $rest | length; 2) as $j ([$done, 1]; ($rest[$j + 1] | length) as $n "
    "| [.[0] + $rest[$j] + $rest[$j + 1][($i / .[1] | floor) % $n], .[1] * $n]) "
    "| .[0] + $in[$at:] end; "
    "def sub($re; str): sub($re; str; \"\"); "
    "def gsub($re; str; $flags): sub($re; str; $flags + \"g\"); "
    "def gsub($re; str): sub($re; str; \"g\"); ";

// `s * n` (and `n * s`): libjq 1.6 appends s to itself n - 1 times in a loop of its own, which
// no bound of the evaluation can stop between two instructions: `"a" * 1000000000` held the
// engine's thread for 26 s (the appends refused past the bound, but each still made). The
// prelude's `_multiply` stands in for `*`'s builtin in the program (jq binds a call to the
// nearest definition of its name), evaluates b then a as the builtin does, and refuses a
// repetition of more than kRepeatTimes, or into more than the bound on built values, before the
// loop. Two values that are neither strings nor greater in jq's order (numbers, most often) go
// to the builtin after two comparisons: the test of types costs a microsecond or two more.
constexpr std::size_t kRepeatTimes = 1 << 20;
constexpr std::string_view kMultiply =
    "def _rmaflow_times(a; b): a * b; "
    "def _rmaflow_repetition_refusal($s; $n): if ($n | type) != \"number\" then null "
    "elif $n > _rmaflow_repeat_times "
    "then \"a string may be repeated at most \\(_rmaflow_repeat_times) times, not \\($n)\" "
    "else _rmaflow_times($n; $s | utf8bytelength) as $bytes | if $bytes > _rmaflow_built_bytes "
    "then \"a string repeated \\($n) times would hold \\($bytes) bytes, more than the \" "
    "+ \"\\(_rmaflow_built_bytes) a value built by jq's builtins may hold\" else null end end; "
    "def _multiply(a; b): b as $b | a as $a "
    "| if $a < \"\" and $b < \"\" then _rmaflow_times($a; $b) "
    "else (if ($a | type) == \"string\" then _rmaflow_repetition_refusal($a; $b) "
    "elif ($b | type) == \"string\" then _rmaflow_repetition_refusal($b; $a) else null end) "
    "as $refusal | if $refusal then error($refusal) else _rmaflow_times($a; $b) end end; ";

const std::string& prelude() {
  static const std::string text =
      fmt::format("{}def _rmaflow_built_bytes: {}; def _rmaflow_repeat_times: {}; {}", kPrelude,
                  dsl::kBuiltBytes, kRepeatTimes, kMultiply);
  return text;
}

// libjq 1.6 aborts the process when it restarts an interpreter that holds work pending from
// inside a finished `path(...)`: restarting unwinds it without its handlers, and an assertion
// finds no path to restore. The engine restarts the interpreter after every evaluation, which
// takes the first output only (the rest of `paths | select(...)` is pending), or which the
// watchdog halted anywhere. Path tracking is used by `path` itself, by the assignments (`=`,
// `|=`, `+=`, ...), and by the library's definitions built on them, listed here (those of
// libjq 1.6's builtin library that use `path(...)` or an assignment, and those that call them).
constexpr std::string_view kPathTrackingNames[] = {
    "path",         "paths",        "leaf_paths", "del",        "map_values",
    "from_entries", "with_entries", "tostream",   "fromstream", "truncate_stream",
    "bsearch",      "_assign",      "_modify"};

// Whether `source` may track paths: one of the names above, or an assignment. Conservative: a
// field or string that happens to be named so counts too.
bool may_track_paths(std::string_view source) {
  for (const auto& t : dsl::lex_jq(source)) {
    if (t.kind == dsl::TokenKind::identifier) {
      for (auto name : kPathTrackingNames)
        if (t.text == name) return true;
    } else if (dsl::is_punct(t, "=")) {
      // Not one of ==, !=, <= and >=: an assignment, alone or after |, +, -, *, /, % or //.
      char before = t.offset > 0 ? source[t.offset - 1] : ' ';
      char after = t.offset + 1 < source.size() ? source[t.offset + 1] : ' ';
      bool compares =
          after == '=' || before == '=' || before == '!' || before == '<' || before == '>';
      if (!compares) return true;
    }
  }
  return false;
}

// Such a program runs inside this. Its first output goes out through `_rmaflow_emit` (jq's
// `debug`, whose callback keeps it and halts the program at once), not as an output: taking an
// output and restarting would leave the rest pending, and stopping by an error (`first`,
// `limit`, a raise) leaks every object key still to be iterated in libjq 1.6. And the program
// runs inside an outer `path(...)`, as the source of a binding (which path tracking does not
// follow), so that a halted interpreter always has a path to restore. Other programs are not
// wrapped: they cannot leave path tracking pending, and keep the few microseconds it costs.
std::string program_for(const std::string& source) {
  if (!may_track_paths(source)) return prelude() + source;
  // A comment (`#`) runs to the end of its line: the wrapper's end goes on a line of its own.
  std::string_view end_of_source = source.find('#') == std::string::npos ? "" : "\n";
  return fmt::format(
      "{}path(({}{}) as $__rmaflow_out | ($__rmaflow_out | _rmaflow_emit) as $__rmaflow_done | "
      "empty)",
      prelude(), source, end_of_source);
}

// The prelude's and the wrapper's own names start so; a program that named one could reach past
// them (`_rmaflow_emit` makes its input the answer and halts the program).
constexpr std::string_view kReservedPrefix = "_rmaflow";

// The first name in `source` that is the engine's (a call or a variable; an object key may be
// anything), or nothing.
std::optional<std::string> reserved_name_in(std::string_view source) {
  auto tokens = dsl::lex_jq(source);
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    std::string_view name = tokens[i].text;
    if (tokens[i].kind == dsl::TokenKind::variable) {
      name.remove_prefix(1);
    } else if (tokens[i].kind != dsl::TokenKind::identifier || !dsl::is_call(tokens, i)) {
      continue;
    }
    while (name.starts_with("__")) name.remove_prefix(1);
    if (name.starts_with(kReservedPrefix)) return tokens[i].text;
  }
  return std::nullopt;
}

}  // namespace

void Expression::Impl::compile_program() {
  if (auto reserved = reserved_name_in(source)) {
    compile_error = fmt::format(
        "jq expression \"{}\" does not compile: {} is reserved for the engine (names starting "
        "with {} may not be used)",
        quote_utf8(source), quote_utf8(*reserved), kReservedPrefix);
    return;
  }
  jq = jq_init();
  if (jq == nullptr) {
    compile_error = "jq could not be initialised (out of memory)";
    return;
  }
  std::string errors;
  jq_set_error_cb(jq, collect_compile_error, &errors);
  std::string program = program_for(source);
  bool ok = jq_compile(jq, program.c_str()) != 0;
  // The callback's data pointer dies with this frame; run-time errors come back from jq_next.
  jq_set_error_cb(jq, nullptr, nullptr);
  jq_set_debug_cb(jq, on_emit, &emitted);
  if (!ok) {
    jq_teardown(&jq);
    jq = nullptr;
    if (errors.empty()) errors = "syntax error";
    compile_error = fmt::format("jq expression \"{}\" does not compile: {}", quote_utf8(source),
                                quote_utf8(errors));
  }
}

void Expression::Impl::ensure_compiled() {
  std::call_once(compiled, [this] { compile_program(); });
  if (jq == nullptr) {
    throw ExpressionError(origin.empty() ? compile_error : origin + ": " + compile_error,
                          !origin.empty());
  }
}

Expression Expression::compile(const std::string& source, std::string origin, Compilation when) {
  auto impl = std::make_shared<Impl>();
  impl->source = source;
  impl->origin = std::move(origin);
  impl->path = simple_path(source);
  if (impl->path) return Expression(std::move(impl));  // always valid jq; no program needed
  if (source.find('\0') != std::string::npos) {
    throw ExpressionError("a jq expression may not contain a NUL character");
  }
  impl->keys_read = dsl::keys_read_only(source);
  if (when == Compilation::now) {
    std::call_once(impl->compiled, [&] { impl->compile_program(); });
    if (impl->jq == nullptr) throw ExpressionError(impl->compile_error);
  }
  return Expression(std::move(impl));
}

const std::string& Expression::source() const {
  return impl_->source;
}

nlohmann::json Expression::evaluate(const nlohmann::json& input) const {
  if (impl_->path) {
    if (impl_->origin.empty()) return follow(input, *impl_->path, impl_->source);
    try {
      return follow(input, *impl_->path, impl_->source);
    } catch (const ExpressionError& e) {
      throw ExpressionError(fmt::format("{}: {}", impl_->origin, e.what()), true);
    }
  }
  impl_->ensure_compiled();
  jq_state* jq = impl_->jq;
  auto deadline = std::chrono::steady_clock::now() + kExpressionTimeLimit;
  dsl::JqCostScope cost(deadline);
  jq_start(jq,
           impl_->keys_read && input.is_object() ? dsl::to_jv_members(input, *impl_->keys_read)
                                                 : dsl::to_jv(input),
           0);
  auto& watchdog = dsl::JqWatchdog::instance();
  auto ticket = watchdog.arm(jq, deadline);
  cost.watched_as(ticket);
  Emitted& emitted = impl_->emitted;
  emitted.ticket = ticket;
  emitted.cost = &cost;
  jv out = jq_next(jq);
  bool timed_out = watchdog.disarm(ticket) || cost.late();
  bool overrun = cost.overrun();
  bool full = cost.full();
  emitted.cost = nullptr;
  if (emitted.any) {  // a wrapped program's first output, and the limits as they stood then
    jv_free(out);
    out = std::exchange(emitted.value, jv_invalid());
    emitted.any = false;
    timed_out = emitted.late;
    overrun = emitted.overrun;
    full = emitted.full;
  }
  nlohmann::json result;
  std::string failure;
  const char* limit = nullptr;
  if (full) {
    jv_free(out);
    limit = "memory";
  } else if (overrun) {
    jv_free(out);
    limit = "size";
  } else if (timed_out) {
    jv_free(out);
    limit = "time";
  } else if (jv_is_valid(out)) {
    dsl::JvBudget budget{kExpressionResultBytes, kExpressionResultDepth};
    try {
      result = dsl::from_jv(out, budget);
    } catch (const dsl::JvTooLarge& e) {
      limit = e.limit;
    }
  } else if (jq_halted(jq)) {
    jv_free(out);
    jv message = jq_get_error_message(jq);
    failure = jv_is_valid(message) && jv_get_kind(message) != JV_KIND_NULL
                  ? dsl::jv_message(message)
                  : (jv_free(message), std::string("the program halted"));
  } else {
    jv message = jv_invalid_get_msg(out);
    // An invalid without a message is the end of the outputs: the program output nothing.
    if (jv_get_kind(message) != JV_KIND_NULL)
      failure = dsl::jv_message(message);
    else
      jv_free(message);
  }
  // Restart on null so the compiled program does not keep the caller's (possibly large)
  // input alive until the next evaluation.
  jq_start(jq, jv_null(), 0);
  // Where the expression is written, ahead of what went wrong: "<origin>: jq expression ...".
  std::string where = impl_->origin.empty() ? "" : impl_->origin + ": ";
  if (limit != nullptr) {
    std::string what =
        full      ? fmt::format("held more than {} MiB at once", dsl::kEvaluationBytes >> 20)
        : overrun ? fmt::format(
                        "built a value too large for jq's builtins (over {} bytes "
                        "written out, or over {} levels deep)",
                        dsl::kWalkUnits, dsl::kWalkDepth)
        : std::string_view(limit) == "time"
            ? fmt::format("ran longer than {} ms", kExpressionTimeLimit.count())
        : std::string_view(limit) == "size"
            ? fmt::format("gave a result larger than {} bytes", kExpressionResultBytes)
            : fmt::format("gave a result nested deeper than {} levels", kExpressionResultDepth);
    throw ExpressionLimitError(
        limit, fmt::format("{}jq expression \"{}\" {}", where, quote_utf8(impl_->source), what),
        !where.empty());
  }
  if (!failure.empty()) {
    throw ExpressionError(fmt::format("{}jq expression \"{}\" failed: {}", where,
                                      quote_utf8(impl_->source), quote_utf8(failure)),
                          !where.empty());
  }
  return result;
}

bool Expression::test(const nlohmann::json& input) const {
  nlohmann::json value = evaluate(input);
  return !(value.is_null() || (value.is_boolean() && !value.get<bool>()));
}

namespace {

// The index just past the `}` that closes the `${` opening at `s[0]`, or npos. Braces inside jq
// string literals (and their `\( )` interpolations) do not count.
std::size_t template_end(std::string_view s) {
  int depth = 0;        // open { (the template's own included)
  std::vector<int> in;  // a stack: >= 0 is a string whose interpolation has this paren depth
  int parens = 0;
  bool in_string = false;
  for (std::size_t i = 1; i < s.size(); ++i) {
    char c = s[i];
    if (in_string) {
      if (c == '\\' && i + 1 < s.size()) {
        if (s[i + 1] == '(') {  // interpolation: code again until the matching )
          in.push_back(parens);
          ++parens;
          in_string = false;
        }
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        break;
      case '(':
        ++parens;
        break;
      case ')':
        --parens;
        if (!in.empty() && in.back() == parens) {
          in.pop_back();
          in_string = true;
        }
        break;
      case '{':
        ++depth;
        break;
      case '}':
        if (--depth == 0) return i + 1;
        break;
      default:
        break;
    }
  }
  return std::string_view::npos;
}

std::string_view trim(std::string_view s) {
  auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  auto last = s.find_last_not_of(" \t\r\n");
  return s.substr(first, last - first + 1);
}

void find_holes(const nlohmann::json& value, const nlohmann::json::json_pointer& where,
                Compilation when, std::vector<Template::Hole>& holes) {
  if (value.is_string()) {
    std::string inner;
    if (!Template::is_expression(value.get_ref<const std::string&>(), &inner)) return;
    try {
      holes.push_back({where, Expression::compile(inner, {}, when)});
    } catch (const ExpressionError& e) {
      throw ExpressionError(fmt::format("at \"{}\": {}", where.to_string(), e.what()));
    }
  } else if (value.is_array()) {
    for (std::size_t i = 0; i < value.size(); ++i) find_holes(value[i], where / i, when, holes);
  } else if (value.is_object()) {
    for (const auto& [key, item] : value.items()) find_holes(item, where / key, when, holes);
  }
}

}  // namespace

bool Template::is_expression(const std::string& s, std::string* inner) {
  if (!s.starts_with("${") || template_end(s) != s.size()) return false;
  std::string_view program = trim(std::string_view(s).substr(2, s.size() - 3));
  if (program.empty()) return false;
  if (inner != nullptr) *inner = std::string(program);
  return true;
}

Template Template::compile(const nlohmann::json& value, std::string label, std::string context,
                           Compilation when) {
  Template t;
  t.raw_ = value;
  t.label_ = std::move(label);
  t.context_ = std::move(context);
  find_holes(t.raw_, nlohmann::json::json_pointer(), when, t.holes_);
  return t;
}

nlohmann::json Template::render(const nlohmann::json& context) const {
  if (holes_.empty()) return raw_;
  nlohmann::json out = raw_;
  for (const auto& hole : holes_) {
    try {
      if (hole.where.empty())
        out = hole.expr.evaluate(context);
      else
        out[hole.where] = hole.expr.evaluate(context);
    } catch (const ExpressionError& e) {
      if (label_.empty()) throw;
      std::string field = label_ + hole.where.to_string();
      std::string message = context_.empty() ? fmt::format("{}: {}", field, e.what())
                                             : fmt::format("{} of {}: {}", field, context_, e.what());
      if (const auto* limit = dynamic_cast<const ExpressionLimitError*>(&e)) {
        throw ExpressionLimitError(limit->limit(), message, true);
      }
      throw ExpressionError(message, true);
    }
  }
  return out;
}

}  // namespace rmaflow
