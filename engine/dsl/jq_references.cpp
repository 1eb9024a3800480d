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

// Keywords and builtins that take no input of their own, and `not` (whose answer on an object
// is the same for any object): keys_read_only() allows them anywhere.
constexpr std::array<std::string_view, 15> kPlainKeywords = {
    "if",  "then",  "elif", "else", "end",   "and",  "or",   "not",
    "try", "catch", "as",   "true", "false", "null", "empty"};

// Names never allowed: they bind `.` or read it in ways the levels below do not follow.
constexpr std::array<std::string_view, 6> kNeverPlain = {"reduce", "foreach", "def",
                                                         "label",  "import",  "include"};

// The punctuation keys_read_only() allows, one character each as lex_jq() splits it: `=` is
// checked apart (a comparison, never an assignment); `.` and `..` only where `.` is not the
// input.
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

// One level of a program as keys_read_only() reads it: a bracket, an `if ... end`, or the
// whole program.
struct Level {
  char kind;             // '(', '[', '{', 'i' (if), or 0 (the program)
  bool initial;          // whether `.` is the input where the level opens (and after `;`)
  bool input;            // whether `.` is the input at this point
  bool binding = false;  // after `as $x`: the next `|` keeps `.`
};

}  // namespace

std::optional<std::vector<std::string>> keys_read_only(std::string_view program) {
  std::vector<Token> tokens = lex_jq(program);
  std::vector<std::string> keys;
  auto read = [&](std::string key) {
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(std::move(key));
  };
  // Where `try` is written, a pipe is not followed: whether `try a | b catch c` pipes inside
  // the try or after it is the grammar's business, and nothing here depends on it.
  bool follow_pipes = std::none_of(tokens.begin(), tokens.end(), [](const Token& t) {
    return t.kind == TokenKind::identifier && t.text == "try";
  });
  std::vector<Level> levels = {{0, true, true}};
  auto close = [&](char kind) {
    if (levels.size() < 2 || levels.back().kind != kind) return false;
    levels.pop_back();
    return true;
  };
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const Token& t = tokens[i];
    Level& level = levels.back();
    auto next_is = [&](std::string_view text) {
      return i + 1 < tokens.size() && is_punct(tokens[i + 1], text);
    };
    // Directly inside `{`, after `{` or `,`: an object's key, or its shorthand (`{key}` reads
    // `.key`, `{"key"}` and `{"\(...)"}` read a key by their text).
    bool pair_start = level.kind == '{' && i > 0 &&
                      (is_punct(tokens[i - 1], "{") || is_punct(tokens[i - 1], ","));
    bool shorthand = pair_start && (next_is(",") || next_is("}"));
    switch (t.kind) {
      case TokenKind::field:
        read(t.text.substr(1));  // wherever it is: a superset of what is read
        break;
      case TokenKind::variable:
      case TokenKind::number:
        break;
      case TokenKind::string:
        if ((shorthand || (pair_start && next_is("("))) && level.input) return std::nullopt;
        break;
      case TokenKind::identifier:
        if (pair_start && next_is(":")) break;  // a key
        if (shorthand) {
          read(t.text);
          break;
        }
        if (one_of(kNeverPlain, t.text)) return std::nullopt;
        if (t.text == "if") {
          levels.push_back({'i', level.input, level.input});
        } else if (t.text == "then" || t.text == "elif" || t.text == "else") {
          if (level.kind != 'i') return std::nullopt;
          level.input = level.initial;
        } else if (t.text == "end") {
          if (!close('i')) return std::nullopt;
        } else if (t.text == "as") {
          level.binding = true;
        } else if (!one_of(kPlainKeywords, t.text) && level.input) {
          return std::nullopt;  // a function, whose input is the whole input
        }
        break;
      case TokenKind::format:
        if (level.input) return std::nullopt;
        break;
      case TokenKind::punct:
        if (t.text == "=") {
          if (!comparison_equals(tokens, i)) return std::nullopt;
          break;
        }
        if (t.text == "." || t.text == "..") {
          if (level.input) return std::nullopt;
          break;
        }
        if (t.text.size() != 1 || kPlainPunct.find(t.text[0]) == std::string_view::npos)
          return std::nullopt;
        if (t.text == "?" && next_is("/") && adjacent(t, tokens[i + 1]))
          return std::nullopt;  // `?//`, a destructuring alternative
        if (t.text == "(" || t.text == "[" || t.text == "{") {
          levels.push_back({t.text[0], level.input, level.input});
        } else if (t.text == ")" || t.text == "]" || t.text == "}") {
          if (!close(t.text == ")" ? '(' : t.text == "]" ? '[' : '{')) return std::nullopt;
        } else if (t.text == "|") {
          if (level.binding) {
            level.binding = false;
          } else if (follow_pipes) {
            level.input = false;  // what follows reads what came before the pipe
          }
        } else if (t.text == ";" || (t.text == "," && level.kind == '{')) {
          level.input = level.initial;  // the next argument, or the next pair's value
          level.binding = false;
        }
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
