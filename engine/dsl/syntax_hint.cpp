#include "engine/dsl/syntax_hint.hpp"

#include <cctype>
#include <vector>

namespace rmaflow::dsl {

namespace {

struct FlowSpan {
  std::size_t begin;
  std::size_t end;  // the closing bracket, or the end of the text
  bool has_template = false;
};

// The last character before `i` on the same line that is not a space, or '\n' at line start.
char previous_significant(std::string_view s, std::size_t i) {
  while (i > 0) {
    char c = s[--i];
    if (c == '\n') return '\n';
    if (c != ' ' && c != '\t') return c;
  }
  return '\n';
}

bool can_open_block_flow(char previous) {
  return previous == '\n' || previous == ':' || previous == '-' || previous == '?';
}

bool can_open_nested_flow(char previous) {
  return previous == '{' || previous == '[' || previous == ',' || previous == ':' ||
         previous == '?';
}

std::vector<FlowSpan> flow_spans(std::string_view s) {
  std::vector<FlowSpan> spans;
  int depth = 0;
  char quote = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (quote != 0) {
      if (quote == '"' && c == '\\')
        ++i;
      else if (c == quote)
        quote = 0;
      continue;
    }
    char previous = previous_significant(s, i);
    if (c == '#' && (i == 0 || std::isspace(static_cast<unsigned char>(s[i - 1])))) {
      while (i < s.size() && s[i] != '\n') ++i;
      continue;
    }
    bool value_start = depth > 0 ? can_open_nested_flow(previous) : can_open_block_flow(previous);
    if ((c == '"' || c == '\'') && value_start) {
      quote = c;
    } else if (c == '$' && i + 1 < s.size() && s[i + 1] == '{' && depth > 0) {
      spans.back().has_template = true;
      ++depth;  // the template's own braces balance; count them so spans end where YAML's do
      ++i;
    } else if ((c == '{' || c == '[') && value_start) {
      if (depth++ == 0) spans.push_back({i, s.size()});
    } else if ((c == '}' || c == ']') && depth > 0) {
      if (--depth == 0) spans.back().end = i;
    }
  }
  return spans;
}

}  // namespace

bool unquoted_template_in_flow(std::string_view yaml, std::size_t error_at) {
  for (const auto& span : flow_spans(yaml)) {
    std::size_t line_end = yaml.find('\n', span.end);
    if (line_end == std::string_view::npos) line_end = yaml.size();
    if (span.has_template && span.begin <= error_at && error_at <= line_end) return true;
  }
  return false;
}

}  // namespace rmaflow::dsl
