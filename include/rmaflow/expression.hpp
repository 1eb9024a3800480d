// jq expressions and JSON templates, the DSL's way of reading the instance context.
//
// Thread-safety: an Expression may be copied freely; evaluating one is not thread-safe
// (jq keeps state per compiled program). The engine evaluates on its own thread only.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "rmaflow/errors.hpp"

namespace rmaflow {

// Raised when an expression does not compile or fails at run time (jq error, no output).
class ExpressionError : public Error {
 public:
  // `placed`: the message already names where the expression is written (a field and its step).
  explicit ExpressionError(const std::string& message, bool placed = false)
      : Error(Errc::invalid_argument, message), placed_(placed) {}
  bool placed() const noexcept { return placed_; }

 private:
  bool placed_;
};

// Raised when an evaluation passes one of the limits every evaluation runs within (see
// docs/dsl.md, Limits): it ran longer than kExpressionTimeLimit ("time"), or its result holds
// more than kExpressionResultBytes ("size") or nests deeper than kExpressionResultDepth
// ("depth"), or it came to hold more than 256 MiB at once ("memory"). The engine fails the step
// with the non-retryable error ExpressionLimit.
class ExpressionLimitError : public ExpressionError {
 public:
  ExpressionLimitError(std::string limit, const std::string& message, bool placed = false)
      : ExpressionError(message, placed), limit_(std::move(limit)) {}
  const std::string& limit() const noexcept { return limit_; }

 private:
  std::string limit_;
};

inline constexpr std::chrono::milliseconds kExpressionTimeLimit{1000};
inline constexpr std::size_t kExpressionResultBytes = 1 << 20;
inline constexpr std::size_t kExpressionResultDepth = 100;

// When a jq program is compiled. libjq compiles its whole builtin library with every program
// (milliseconds each, hundreds per workflow), so a definition already checked when it was
// deployed compiles each program the first time it runs instead of all of them at load.
enum class Compilation {
  now,           // compile() throws ExpressionError when the program does not compile
  on_first_use,  // the first evaluate() compiles; a program that does not compile fails there
};

class Expression {
 public:
  // Compiles a jq program (the text inside `${ }`, or a switch condition). `origin` names where
  // it is written ("if of case 2 of step \"disposition\""); a run-time error starts with it.
  // Throws ExpressionError carrying jq's own message (with Compilation::on_first_use, only for
  // what is checked without libjq: a NUL in the source).
  static Expression compile(const std::string& source, std::string origin = {},
                            Compilation when = Compilation::now);

  const std::string& source() const;

  // The first value the program outputs for `input`; null when it outputs nothing.
  // Throws ExpressionError when jq raises an error: "<origin>: jq expression \"...\" failed:
  // <jq's message>"; ExpressionLimitError past a limit.
  nlohmann::json evaluate(const nlohmann::json& input) const;

  // jq truthiness of the first output: false and null (and no output) are false.
  bool test(const nlohmann::json& input) const;

 private:
  struct Impl;
  explicit Expression(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<Impl> impl_;
};

// A JSON value in which every string that is exactly `${ jq }` is an expression. Rendering
// replaces each such string with the expression's result, keeping its JSON type.
class Template {
 public:
  Template() = default;
  // Compiles the expressions found in `value`. `label` and `context` name the value where it
  // is written ("with", "step \"refund\""): a run-time error names the field being rendered as
  // "with/amount of step \"refund\"". Throws ExpressionError naming the JSON Pointer of the
  // first expression that does not compile.
  static Template compile(const nlohmann::json& value, std::string label = {},
                          std::string context = {}, Compilation when = Compilation::now);

  // True if `s` is exactly `${ ... }`; `inner` receives the jq text.
  static bool is_expression(const std::string& s, std::string* inner = nullptr);

  // Throws ExpressionError naming the field and jq's message when an expression fails.
  nlohmann::json render(const nlohmann::json& context) const;
  const nlohmann::json& raw() const { return raw_; }
  bool is_constant() const { return holes_.empty(); }

  struct Hole {
    nlohmann::json::json_pointer where;
    Expression expr;
  };
  const std::vector<Hole>& holes() const { return holes_; }

 private:
  nlohmann::json raw_;
  std::vector<Hole> holes_;
  std::string label_;
  std::string context_;
};

}  // namespace rmaflow
