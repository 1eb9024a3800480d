#include "engine/dsl/jq_bounds.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <vector>

namespace rmaflow::dsl {

namespace {

enum class TokenKind { identifier, field, variable, format, number, string, punct };

struct Token {
  TokenKind kind;
  std::string text;
  std::size_t offset;
};

bool ident_start(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_';
}
bool ident_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

// Splits a jq program into tokens. A string literal becomes one `string` token; the code of each
// of its `\( )` interpolations is emitted as `(` tokens `)` right after it.
class Lexer {
 public:
  explicit Lexer(std::string_view src) : src_(src) {}

  std::vector<Token> run() {
    code(0);
    return std::move(tokens_);
  }

 private:
  // Lexes code until the `)` that closes `open_parens` levels (0 = the end of the program).
  void code(int open_parens) {
    int parens = open_parens;
    while (pos_ < src_.size()) {
      char c = src_[pos_];
      std::size_t start = pos_;
      if (std::isspace(static_cast<unsigned char>(c))) {
        ++pos_;
      } else if (c == '#') {
        while (pos_ < src_.size() && src_[pos_] != '\n') ++pos_;
      } else if (c == '"') {
        string_literal();
      } else if (ident_start(c)) {
        while (pos_ < src_.size() && (ident_char(src_[pos_]) || is_module_sep()))
          pos_ += is_module_sep() ? 2 : 1;
        emit(TokenKind::identifier, start);
      } else if ((c == '.' || c == '$' || c == '@') && pos_ + 1 < src_.size() &&
                 ident_start(src_[pos_ + 1])) {
        ++pos_;
        while (pos_ < src_.size() && ident_char(src_[pos_])) ++pos_;
        emit(c == '.'   ? TokenKind::field
             : c == '$' ? TokenKind::variable
                        : TokenKind::format,
             start);
      } else if (std::isdigit(static_cast<unsigned char>(c)) ||
                 (c == '.' && pos_ + 1 < src_.size() &&
                  std::isdigit(static_cast<unsigned char>(src_[pos_ + 1])))) {
        number();
      } else {
        ++pos_;
        if (c == '.' && pos_ < src_.size() && src_[pos_] == '.') ++pos_;  // ".."
        emit(TokenKind::punct, start);
        if (c == '(') ++parens;
        if (c == ')' && --parens < open_parens) return;
      }
    }
  }

  bool is_module_sep() const {
    return pos_ + 1 < src_.size() && src_[pos_] == ':' && src_[pos_ + 1] == ':';
  }

  void number() {
    std::size_t start = pos_;
    while (pos_ < src_.size() &&
           (std::isdigit(static_cast<unsigned char>(src_[pos_])) || src_[pos_] == '.'))
      ++pos_;
    if (pos_ < src_.size() && (src_[pos_] == 'e' || src_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < src_.size() && (src_[pos_] == '+' || src_[pos_] == '-')) ++pos_;
      while (pos_ < src_.size() && std::isdigit(static_cast<unsigned char>(src_[pos_]))) ++pos_;
    }
    emit(TokenKind::number, start);
  }

  void string_literal() {
    std::size_t start = pos_++;
    while (pos_ < src_.size() && src_[pos_] != '"') {
      if (src_[pos_] == '\\' && pos_ + 1 < src_.size() && src_[pos_ + 1] == '(') {
        tokens_.push_back(
            {TokenKind::string, std::string(src_.substr(start, pos_ - start)), start});
        pos_ += 1;  // the '(' is lexed as code and closes with its ')'
        start = pos_;
        code_from_paren();
        start = pos_;
        continue;
      }
      pos_ += src_[pos_] == '\\' ? 2 : 1;
    }
    if (pos_ < src_.size()) ++pos_;
    emit(TokenKind::string, start);
  }

  // At an interpolation's `(`: emits it, its code and its `)`.
  void code_from_paren() {
    emit_one(TokenKind::punct, pos_, 1);
    ++pos_;
    code(1);
  }

  void emit(TokenKind kind, std::size_t start) { emit_one(kind, start, pos_ - start); }
  void emit_one(TokenKind kind, std::size_t start, std::size_t length) {
    tokens_.push_back({kind, std::string(src_.substr(start, length)), start});
  }

  std::string_view src_;
  std::size_t pos_ = 0;
  std::vector<Token> tokens_;
};

bool is_punct(const Token& t, std::string_view text) {
  return t.kind == TokenKind::punct && t.text == text;
}

bool is_call(const std::vector<Token>& tokens, std::size_t i) {
  // An identifier directly inside `{` and followed by `:` is an object key, not a call.
  if (i + 1 < tokens.size() && is_punct(tokens[i + 1], ":") && i > 0 &&
      (is_punct(tokens[i - 1], "{") || is_punct(tokens[i - 1], ",")))
    return false;
  return true;
}

// The index of the `)` matching the `(` at `open`, or tokens.size().
std::size_t matching_paren(const std::vector<Token>& tokens, std::size_t open) {
  int depth = 0;
  for (std::size_t i = open; i < tokens.size(); ++i) {
    if (is_punct(tokens[i], "(")) ++depth;
    if (is_punct(tokens[i], ")") && --depth == 0) return i;
  }
  return tokens.size();
}

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

std::optional<UnboundedConstruct> find_unbounded_construct(std::string_view program) {
  std::vector<Token> tokens = Lexer(program).run();
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
      return UnboundedConstruct{"\"" + t.text + "\"", t.offset};
    }
    if (t.text == "def" && def_calls_itself(tokens, i)) {
      return UnboundedConstruct{"the recursive def \"" + tokens[i + 1].text + "\"", t.offset};
    }
    if (t.text == "range" && i + 1 < tokens.size() && is_punct(tokens[i + 1], "(")) {
      bool in_limit = std::find(callers.begin(), callers.end(), "limit") != callers.end();
      std::size_t close = matching_paren(tokens, i + 1);
      if (!in_limit && !literal_arguments(tokens, i + 1, close)) {
        return UnboundedConstruct{"\"range\" over non-literal bounds outside limit()", t.offset};
      }
    }
  }
  return std::nullopt;
}

}  // namespace rmaflow::dsl
