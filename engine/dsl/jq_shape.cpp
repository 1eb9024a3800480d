#include "engine/dsl/jq_shape.hpp"

#include <vector>

#include "engine/dsl/jq_lexer.hpp"

namespace rmaflow::dsl {

namespace {

bool opens(const Token& t) {
  return is_punct(t, "(") || is_punct(t, "[") || is_punct(t, "{") ||
         (t.kind == TokenKind::identifier && (t.text == "if" || t.text == "reduce" ||
                                              t.text == "foreach" || t.text == "try"));
}

bool closes(const Token& t) {
  return is_punct(t, ")") || is_punct(t, "]") || is_punct(t, "}") ||
         (t.kind == TokenKind::identifier && t.text == "end");
}

// The index just past the group that opens at `i` (a bracket pair), or tokens.size().
std::size_t group_end(const std::vector<Token>& tokens, std::size_t i) {
  int depth = 0;
  for (std::size_t j = i; j < tokens.size(); ++j) {
    if (opens(tokens[j])) ++depth;
    if (closes(tokens[j]) && --depth == 0) return j + 1;
  }
  return tokens.size();
}

enum class Op { none, pipe, comma, alternative, comparison, logic, assignment };

// The operator that the token at `i` starts (at depth 0), and how many tokens it spans.
Op op_at(const std::vector<Token>& t, std::size_t i, std::size_t& span) {
  span = 1;
  const Token& a = t[i];
  const Token* b = i + 1 < t.size() && adjacent(a, t[i + 1]) ? &t[i + 1] : nullptr;
  const Token* c = b != nullptr && i + 2 < t.size() && adjacent(*b, t[i + 2]) ? &t[i + 2] : nullptr;
  if (a.kind == TokenKind::identifier) {
    return a.text == "and" || a.text == "or" ? Op::logic : Op::none;
  }
  if (a.kind != TokenKind::punct) return Op::none;
  auto next_is = [](const Token* t, std::string_view s) { return t != nullptr && t->text == s; };
  if (a.text == "/" && next_is(b, "/")) {
    span = next_is(c, "=") ? 3 : 2;
    return span == 3 ? Op::assignment : Op::alternative;
  }
  if ((a.text == "=" || a.text == "!" || a.text == "<" || a.text == ">") && next_is(b, "=")) {
    span = 2;
    return Op::comparison;
  }
  if (a.text == "<" || a.text == ">") return Op::comparison;
  if ((a.text == "|" || a.text == "+" || a.text == "-" || a.text == "*" || a.text == "/" ||
       a.text == "%") &&
      next_is(b, "=")) {
    span = 2;
    return Op::assignment;
  }
  if (a.text == "=") return Op::assignment;
  if (a.text == "|") return Op::pipe;
  if (a.text == ",") return Op::comma;
  return Op::none;
}

}  // namespace

std::optional<std::string> never_boolean(std::string_view program) {
  std::vector<Token> tokens = lex_jq(program);
  if (tokens.empty()) return std::nullopt;
  for (const auto& t : tokens) {
    if (t.kind == TokenKind::identifier && (t.text == "def" || t.text == "label")) return std::nullopt;
  }
  // The last stage of the top-level pipeline gives the output; its top-level operators say
  // what kind of value that is.
  std::size_t stage = 0;
  std::vector<Op> ops;
  for (std::size_t i = 0; i < tokens.size();) {
    if (opens(tokens[i])) {
      i = group_end(tokens, i);
      continue;
    }
    std::size_t span = 1;
    Op op = op_at(tokens, i, span);
    if (op == Op::pipe) {
      stage = i + 1;
      ops.clear();
    } else if (op != Op::none) {
      ops.push_back(op);
    }
    i += span;
  }
  if (stage >= tokens.size()) return std::nullopt;
  for (Op op : ops) {
    // Several outputs, an alternative, a comparison or a logical operator: may be a boolean.
    if (op != Op::assignment) return std::nullopt;
  }
  if (!ops.empty()) return "an assignment, which outputs the whole input with the change made";
  const Token& first = tokens[stage];
  if (opens(first) && group_end(tokens, stage) == tokens.size()) {
    if (is_punct(first, "{")) return "an object";
    if (is_punct(first, "[")) return "an array";
    return std::nullopt;
  }
  if (tokens.size() - stage == 1 && first.kind == TokenKind::number) return "a number";
  if (first.kind == TokenKind::string) {
    // A string literal, with its interpolations lexed as (...) groups after it.
    std::size_t i = stage + 1;
    while (i < tokens.size() &&
           (tokens[i].kind == TokenKind::string || is_punct(tokens[i], "("))) {
      i = tokens[i].kind == TokenKind::string ? i + 1 : group_end(tokens, i);
    }
    if (i == tokens.size()) return "a string";
  }
  return std::nullopt;
}

}  // namespace rmaflow::dsl
