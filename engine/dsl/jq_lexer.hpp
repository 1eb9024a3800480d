// A lexer for jq programs, shared by the checks that read them (bounds, environment access,
// context references). It only splits tokens; it does not parse.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace rmaflow::dsl {

enum class TokenKind { identifier, field, variable, format, number, string, punct };

struct Token {
  TokenKind kind;
  std::string text;    // as written: ".input", "$x", "map", "(", "..", "\"a\""
  std::size_t offset;  // byte offset in the program
};

// Splits a jq program into tokens. A string literal becomes one `string` token; the code of each
// of its `\( )` interpolations is emitted as `(` tokens `)` right after it. Comments and space
// are dropped; `.name` is a field, `$name` a variable, `@name` a format.
std::vector<Token> lex_jq(std::string_view program);

inline bool is_punct(const Token& t, std::string_view text) {
  return t.kind == TokenKind::punct && t.text == text;
}

// Two punctuation tokens written side by side ("=" "=" is "==").
inline bool adjacent(const Token& a, const Token& b) {
  return a.kind == TokenKind::punct && b.kind == TokenKind::punct && a.offset + 1 == b.offset;
}

// False for an identifier that is an object key (`{while: 1}`), true for a call or keyword.
bool is_call(const std::vector<Token>& tokens, std::size_t i);

// The index of the `)` matching the `(` at `open`, or tokens.size().
std::size_t matching_paren(const std::vector<Token>& tokens, std::size_t open);

}  // namespace rmaflow::dsl
