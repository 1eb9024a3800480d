#include "engine/dsl/jq_bounds.hpp"

#include <algorithm>
#include <array>
#include <vector>

#include "engine/dsl/jq_lexer.hpp"

namespace rmaflow::dsl {

namespace {

// True when range's arguments, between `open` and `close`, are number literals only.
bool literal_arguments(const std::vector<Token>& tokens, std::size_t open, std::size_t close) {
  for (std::size_t i = open + 1; i < close; ++i) {
    const Token& t = tokens[i];
    if (t.kind == TokenKind::number || is_punct(t, ";") || is_punct(t, "-")) continue;
    return false;
  }
  return true;
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
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const Token& t = tokens[i];
    if (is_punct(t, "(")) {
      callers.push_back(i > 0 && tokens[i - 1].kind == TokenKind::identifier ? tokens[i - 1].text
                                                                             : "");
      continue;
    }
    if (is_punct(t, ")")) {
      if (!callers.empty()) callers.pop_back();
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
      bool in_limit = std::find(callers.begin(), callers.end(), "limit") != callers.end();
      std::size_t close = matching_paren(tokens, i + 1);
      if (!in_limit && !literal_arguments(tokens, i + 1, close)) {
        return JqConstruct{"\"range\" over non-literal bounds outside limit()", t.offset};
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
