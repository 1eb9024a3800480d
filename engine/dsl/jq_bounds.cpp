#include "engine/dsl/jq_bounds.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <vector>

#include "engine/dsl/jq_lexer.hpp"

namespace rmaflow::dsl {

namespace {

// The most elements a literal range (or the count of a limit) may give: a bound that the
// engine's time limit per evaluation could not run to the end is no bound at all.
constexpr double kMaxLiteralCount = 100'000;

bool small_literal(const Token& t) {
  if (t.kind != TokenKind::number) return false;
  char* end = nullptr;
  double value = std::strtod(t.text.c_str(), &end);
  return end != t.text.c_str() && std::fabs(value) <= kMaxLiteralCount;
}

// True when range's arguments, between `open` and `close`, are small number literals only.
bool literal_arguments(const std::vector<Token>& tokens, std::size_t open, std::size_t close) {
  for (std::size_t i = open + 1; i < close; ++i) {
    const Token& t = tokens[i];
    if (small_literal(t) || is_punct(t, ";") || is_punct(t, "-")) continue;
    return false;
  }
  return true;
}

// True when the limit(...) whose `(` is at `open` counts to a small number literal.
bool small_limit(const std::vector<Token>& tokens, std::size_t open) {
  return open + 2 < tokens.size() && small_literal(tokens[open + 1]) &&
         is_punct(tokens[open + 2], ";");
}

// The tokens of a def's body: from after its `:` to the `;` that ends it (nested defs included).
bool def_calls_itself(const std::vector<Token>& tokens, std::size_t def_at) {
  if (def_at + 1 >= tokens.size() || tokens[def_at + 1].kind != TokenKind::identifier) return false;
  const std::string& name = tokens[def_at + 1].text;
  std::size_t i = def_at + 2;
  while (i < tokens.size() && !is_punct(tokens[i], ":")) ++i;  // skip the parameters
  int depth = 0, pending = 1;
  for (++i; i < tokens.size(); ++i) {
    const Token& t = tokens[i];
    if (t.kind == TokenKind::punct) {
      if (t.text == "(" || t.text == "[" || t.text == "{") ++depth;
      if (t.text == ")" || t.text == "]" || t.text == "}") --depth;
      if (t.text == ";" && depth == 0 && --pending == 0) return false;
      if (depth < 0) return false;
    } else if (t.kind == TokenKind::identifier) {
      if (t.text == "def" && depth == 0)
        ++pending;
      else if (t.text == name && is_call(tokens, i))
        return true;
    }
  }
  return false;
}

constexpr std::array<std::string_view, 5> kLoops = {"while", "until", "repeat", "recurse",
                                                    "recurse_down"};

}  // namespace

std::optional<JqConstruct> find_unbounded_construct(std::string_view program) {
  std::vector<Token> tokens = lex_jq(program);
  std::vector<std::string> callers;  // for each open `(`, the identifier just before it
  std::vector<std::size_t> opens;    // and where it is
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const Token& t = tokens[i];
    if (is_punct(t, "(")) {
      callers.push_back(i > 0 && tokens[i - 1].kind == TokenKind::identifier ? tokens[i - 1].text
                                                                             : "");
      opens.push_back(i);
      continue;
    }
    if (is_punct(t, ")")) {
      if (!callers.empty()) callers.pop_back();
      if (!opens.empty()) opens.pop_back();
      continue;
    }
    if (t.kind != TokenKind::identifier || !is_call(tokens, i)) continue;
    if (std::find(kLoops.begin(), kLoops.end(), t.text) != kLoops.end()) {
      return JqConstruct{"\"" + t.text + "\"", t.offset};
    }
    if (t.text == "def" && def_calls_itself(tokens, i)) {
      return JqConstruct{"the recursive def \"" + tokens[i + 1].text + "\"", t.offset};
    }
    if (t.text == "range" && i + 1 < tokens.size() && is_punct(tokens[i + 1], "(")) {
      // The innermost limit(...) around it, and whether it counts to a small literal.
      bool in_small_limit = false;
      for (std::size_t k = callers.size(); k-- > 0;) {
        if (callers[k] != "limit") continue;
        in_small_limit = small_limit(tokens, opens[k]);
        break;
      }
      std::size_t close = matching_paren(tokens, i + 1);
      if (!in_small_limit && !literal_arguments(tokens, i + 1, close)) {
        return JqConstruct{
            "\"range\" beyond literal bounds of at most 100000 outside limit(N; ...) with a "
            "literal N of at most 100000",
            t.offset};
      }
    }
  }
  return std::nullopt;
}

std::optional<JqConstruct> find_environment_access(std::string_view program) {
  std::vector<Token> tokens = lex_jq(program);
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const Token& t = tokens[i];
    if (t.kind == TokenKind::variable && t.text == "$ENV") return JqConstruct{"$ENV", t.offset};
    if (t.kind == TokenKind::identifier && t.text == "env" && is_call(tokens, i))
      return JqConstruct{"env", t.offset};
  }
  return std::nullopt;
}

}  // namespace rmaflow::dsl
