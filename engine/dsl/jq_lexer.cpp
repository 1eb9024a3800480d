#include "engine/dsl/jq_lexer.hpp"

#include <algorithm>
#include <cctype>

namespace rmaflow::dsl {

namespace {

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
      // A "\\" last in the program escapes nothing: the literal ends with the program.
      pos_ = std::min(pos_ + (src_[pos_] == '\\' ? 2 : 1), src_.size());
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

}  // namespace

std::vector<Token> lex_jq(std::string_view program) { return Lexer(program).run(); }

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

}  // namespace rmaflow::dsl
