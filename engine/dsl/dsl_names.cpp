#include "engine/dsl/dsl_names.hpp"

#include <fmt/format.h>

#include <string_view>

#include "engine/support/limits.hpp"
#include "engine/support/utf8.hpp"

namespace rmaflow::dsl {

namespace {

// Whether `name` is one of `first` followed by any of `rest` (as the regex "[first][rest]*"),
// checked by a loop: std::regex recurses per character, and a name of 300,000 characters
// overflowed the stack.
bool spelled(std::string_view name, std::string_view first, std::string_view rest) {
  auto in = [](char c, std::string_view set) {
    for (std::size_t i = 0; i < set.size(); ++i) {
      if (i + 2 < set.size() && set[i + 1] == '-') {
        if (c >= set[i] && c <= set[i + 2]) return true;
        i += 2;
      } else if (c == set[i]) {
        return true;
      }
    }
    return false;
  };
  if (name.empty() || !in(name[0], first)) return false;
  for (std::size_t i = 1; i < name.size(); ++i) {
    if (!in(name[i], rest)) return false;
  }
  return true;
}

}  // namespace

bool valid_workflow_name(const std::string& name) {
  return name.size() <= kMaxNameBytes && spelled(name, "a-z", "a-z0-9-");
}

std::optional<std::string> read_workflow_name(MapReader& r, const MapEntry& e) {
  auto name = r.string(e);
  if (!name) return std::nullopt;
  if (valid_workflow_name(*name)) return name;
  r.bad_value(e, fmt::format("must match [a-z][a-z0-9-]* in at most {} bytes, not \"{}\"",
                             kMaxNameBytes, quote_utf8(*name, 200)));
  return std::nullopt;
}

bool valid_step_name(const std::string& name) {
  return name.size() <= kMaxNameBytes && spelled(name, "a-z_", "a-z0-9_-");
}

bool valid_identifier(const std::string& name) {
  return spelled(name, "A-Za-z_", "A-Za-z0-9_");
}

bool valid_branch_status(const std::string& name) {
  return spelled(name, "a-z", "a-z0-9_-");
}

bool valid_context_key(const std::string& name, bool in_branch) {
  return valid_identifier(name) && name != "input" && name != "instance" && name != "error" &&
         !(in_branch && name == "branch");
}

bool check_context_key(const std::string& name, SourceLocation where, const std::string& what,
                       DiagnosticSink& sink, bool in_branch) {
  if (valid_context_key(name, in_branch)) return true;
  if (valid_identifier(name)) {
    sink.error(where, "result-overwrites",
               fmt::format("{} would overwrite .{}, which the engine fills{}; choose another name",
                           what, name, name == "branch" ? " inside a branch" : ""));
  } else {
    sink.error(where, "bad-value",
               fmt::format("{} must be an identifier ([A-Za-z_][A-Za-z0-9_]*), not \"{}\"", what,
                           quote_utf8(name, 200)));
  }
  return false;
}

}  // namespace rmaflow::dsl
