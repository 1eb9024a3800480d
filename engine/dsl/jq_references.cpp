#include "engine/dsl/jq_references.hpp"

#include <algorithm>
#include <array>

#include "engine/dsl/jq_lexer.hpp"

namespace rmaflow::dsl {

namespace {

// Functions whose filter arguments run on the function's own input, as `select(.x > 1)` does.
constexpr std::array<std::string_view, 38> kSameInput = {
    "select",   "has",      "in",       "contains", "inside",  "startswith", "endswith",
    "ltrimstr", "rtrimstr", "test",     "match",    "capture", "split",      "splits",
    "join",     "index",    "rindex",   "indices",  "error",   "path",       "getpath",
    "setpath",  "delpaths", "del",      "limit",    "first",   "last",       "nth",
    "isempty",  "range",    "pow",      "flatten",  "strftime", "strptime",  "IN",
    "tojson",   "ascii",    "tostring"};

// Keywords after which a `(` only groups, and after which a `.key` starts a new path.
constexpr std::array<std::string_view, 9> kKeywords = {"if",  "then", "elif",   "else",   "and",
                                                       "or",  "try",  "reduce", "foreach"};

template <std::size_t N>
bool one_of(const std::array<std::string_view, N>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// A nesting level: parentheses, brackets or braces, or the whole program.
struct Frame {
  bool initial;            // whether `.` is the context when the level opens (and after each `;`)
  bool root;               // whether `.` is the context at this point
  bool binding = false;    // after `as $x` or `label $x`: the next `|` keeps `.`
};

// True when the field at `i` starts a path (`.a` in `.a.b`), rather than continuing one.
bool starts_path(const std::vector<Token>& tokens, std::size_t i) {
  if (i == 0) return true;
  const Token& before = tokens[i - 1];
  switch (before.kind) {
    case TokenKind::punct:
      return !(before.text == "]" || before.text == ")" || before.text == "}" ||
               before.text == "?" || before.text == ".");
    case TokenKind::identifier:
      return one_of(kKeywords, before.text);
    default:
      return false;  // a field, variable, string or number before it continues a path
  }
}

// Calls `read(i)` for each field token at `i` that reads a top-level key of the context.
template <typename Read>
void visit_context_reads(const std::vector<Token>& tokens, Read read) {
  std::vector<Frame> frames = {{true, true}};
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const Token& t = tokens[i];
    Frame& frame = frames.back();
    if (t.kind == TokenKind::identifier) {
      if (t.text == "as" || t.text == "label") frame.binding = true;
      if (t.text == "def" || t.text == "catch") frame.root = false;
      continue;
    }
    if (t.kind == TokenKind::field) {
      if (frame.root && starts_path(tokens, i)) read(i);
      continue;
    }
    if (t.kind != TokenKind::punct) continue;
    if (t.text == "|") {
      if (frame.binding) frame.binding = false;
      else frame.root = false;
    } else if (t.text == ";") {
      frame.root = frame.initial;
      frame.binding = false;
    } else if (t.text == "(") {
      bool root = frame.root;
      if (frame.binding) {  // reduce/foreach's body: `.` is the accumulator
        root = false;
        frame.binding = false;
      } else if (i > 0 && tokens[i - 1].kind == TokenKind::identifier &&
                 !one_of(kKeywords, tokens[i - 1].text)) {
        root = root && one_of(kSameInput, tokens[i - 1].text);
      }
      frames.push_back({root, root});
    } else if (t.text == "[" || t.text == "{") {
      frames.push_back({frame.root, frame.root});
    } else if ((t.text == ")" || t.text == "]" || t.text == "}") && frames.size() > 1) {
      frames.pop_back();
    }
  }
}

// The place named after the field at `i`: `.a`, `[]`, `[0]`, `["a"]`, `?`, until anything else.
std::vector<InputRead::Step> path_after(const std::vector<Token>& tokens, std::size_t i) {
  std::vector<InputRead::Step> path;
  for (std::size_t j = i + 1; j < tokens.size();) {
    const Token& t = tokens[j];
    if (t.kind == TokenKind::field) {
      path.push_back({t.text.substr(1), -1});
      ++j;
    } else if (is_punct(t, "?")) {
      ++j;
    } else if (is_punct(t, "[") && j + 1 < tokens.size() && is_punct(tokens[j + 1], "]")) {
      path.push_back({"", -1});
      j += 2;
    } else if (is_punct(t, "[") && j + 2 < tokens.size() && is_punct(tokens[j + 2], "]") &&
               (tokens[j + 1].kind == TokenKind::number ||
                tokens[j + 1].kind == TokenKind::string)) {
      const auto& inner = tokens[j + 1].text;
      if (tokens[j + 1].kind == TokenKind::number) {
        if (inner.find_first_not_of("0123456789") != std::string::npos) break;
        path.push_back({"", std::stol(inner.substr(0, 9))});
      } else {
        if (inner.size() < 2 || inner.find('\\') != std::string::npos) break;
        path.push_back({inner.substr(1, inner.size() - 2), -1});
      }
      j += 3;
    } else {
      break;
    }
  }
  return path;
}

// The keywords a program read by keys_read_only() may use: none takes `.` as its input but
// `not` (whose answer on an object is the same for any object).
constexpr std::array<std::string_view, 14> kPlainKeywords = {
    "if",  "then", "elif",  "else", "end",  "and",   "or",
    "not", "try",  "catch", "as",   "true", "false", "null"};

// The punctuation such a program may use, one character each as lex_jq() splits it: `=` is
// checked apart (a comparison, never an assignment), and `.` and `..` are not here.
constexpr std::string_view kPlainPunct = "()[]{},:|+-*/%<>!?;";

// Whether the `=` at `i` is part of `==`, `!=`, `<=` or `>=`, not of an assignment (`=`, `|=`,
// `+=`, `//=`, ...).
bool comparison_equals(const std::vector<Token>& tokens, std::size_t i) {
  if (i > 0 && adjacent(tokens[i - 1], tokens[i])) {
    const std::string& before = tokens[i - 1].text;
    if (before == "=" || before == "!" || before == "<" || before == ">") return true;
    if (before == "|" || before == "+" || before == "-" || before == "*" || before == "/" ||
        before == "%")
      return false;
  }
  return i + 1 < tokens.size() && is_punct(tokens[i + 1], "=") &&
         adjacent(tokens[i], tokens[i + 1]);
}

}  // namespace

std::optional<std::vector<std::string>> keys_read_only(std::string_view program) {
  std::vector<Token> tokens = lex_jq(program);
  std::vector<std::string> keys;
  auto read = [&](std::string key) {
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(std::move(key));
  };
  std::vector<char> open;  // the brackets open at each token
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const Token& t = tokens[i];
    // Directly inside `{`, after `{` or `,`: an object's key, or its shorthand (`{key}` reads
    // `.key`, `{"key"}` and `{"\(...)"}` read a key by their text).
    bool pair_start = !open.empty() && open.back() == '{' && i > 0 &&
                      (is_punct(tokens[i - 1], "{") || is_punct(tokens[i - 1], ","));
    bool shorthand = pair_start && i + 1 < tokens.size() &&
                     (is_punct(tokens[i + 1], ",") || is_punct(tokens[i + 1], "}"));
    switch (t.kind) {
      case TokenKind::field:
        read(t.text.substr(1));
        break;
      case TokenKind::variable:
      case TokenKind::number:
        break;
      case TokenKind::string:
        if (shorthand || (pair_start && i + 1 < tokens.size() && is_punct(tokens[i + 1], "(")))
          return std::nullopt;
        break;
      case TokenKind::identifier:
        if (pair_start && i + 1 < tokens.size() && is_punct(tokens[i + 1], ":")) break;  // a key
        if (shorthand) {
          read(t.text);
          break;
        }
        if (!one_of(kPlainKeywords, t.text)) return std::nullopt;
        break;
      case TokenKind::format:
        return std::nullopt;
      case TokenKind::punct:
        if (t.text == "=") {
          if (!comparison_equals(tokens, i)) return std::nullopt;
          break;
        }
        if (t.text.size() != 1 || kPlainPunct.find(t.text[0]) == std::string_view::npos)
          return std::nullopt;
        if (t.text == "?" && i + 1 < tokens.size() && is_punct(tokens[i + 1], "/") &&
            adjacent(t, tokens[i + 1]))
          return std::nullopt;  // `?//`, a destructuring alternative
        if (t.text == "(" || t.text == "[" || t.text == "{") open.push_back(t.text[0]);
        if ((t.text == ")" || t.text == "]" || t.text == "}") && !open.empty()) open.pop_back();
        break;
    }
  }
  return keys;
}

std::vector<ContextRead> context_reads(std::string_view program) {
  std::vector<Token> tokens = lex_jq(program);
  std::vector<ContextRead> reads;
  visit_context_reads(tokens, [&](std::size_t i) {
    std::string key = tokens[i].text.substr(1);
    bool seen = std::any_of(reads.begin(), reads.end(),
                            [&](const ContextRead& r) { return r.key == key; });
    if (!seen) reads.push_back({key, tokens[i].offset});
  });
  return reads;
}

std::vector<InputRead> input_reads(std::string_view program) {
  std::vector<Token> tokens = lex_jq(program);
  std::vector<InputRead> reads;
  visit_context_reads(tokens, [&](std::size_t i) {
    if (tokens[i].text == ".input") reads.push_back({path_after(tokens, i), tokens[i].offset});
  });
  return reads;
}

}  // namespace rmaflow::dsl
