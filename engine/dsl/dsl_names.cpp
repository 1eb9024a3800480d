#include "engine/dsl/dsl_names.hpp"

#include <fmt/format.h>

#include <regex>

namespace rmaflow::dsl {

bool valid_step_name(const std::string& name) {
  static const std::regex kName("[a-z_][a-z0-9_-]*");
  return std::regex_match(name, kName);
}

bool valid_identifier(const std::string& name) {
  static const std::regex kIdentifier("[A-Za-z_][A-Za-z0-9_]*");
  return std::regex_match(name, kIdentifier);
}

bool valid_context_key(const std::string& name) {
  return valid_identifier(name) && name != "input" && name != "instance" && name != "error";
}

bool check_context_key(const std::string& name, SourceLocation where, const std::string& what,
                       DiagnosticSink& sink) {
  if (valid_context_key(name)) return true;
  if (valid_identifier(name)) {
    sink.error(where, "result-overwrites",
               fmt::format("{} would overwrite .{}, which the engine fills; choose another name",
                           what, name));
  } else {
    sink.error(where, "bad-value",
               fmt::format("{} must be an identifier ([A-Za-z_][A-Za-z0-9_]*), not \"{}\"", what,
                           name));
  }
  return false;
}

}  // namespace rmaflow::dsl
