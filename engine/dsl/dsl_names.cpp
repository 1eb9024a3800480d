#include "engine/dsl/dsl_names.hpp"

#include <fmt/format.h>

#include <regex>

namespace rmaflow::dsl {

bool valid_workflow_name(const std::string& name) {
  static const std::regex kName("[a-z][a-z0-9-]*");
  return std::regex_match(name, kName);
}

std::optional<std::string> read_workflow_name(MapReader& r, const MapEntry& e) {
  auto name = r.string(e);
  if (!name) return std::nullopt;
  if (valid_workflow_name(*name)) return name;
  r.bad_value(e, fmt::format("must match [a-z][a-z0-9-]*, not \"{}\"", *name));
  return std::nullopt;
}

bool valid_step_name(const std::string& name) {
  static const std::regex kName("[a-z_][a-z0-9_-]*");
  return std::regex_match(name, kName);
}

bool valid_identifier(const std::string& name) {
  static const std::regex kIdentifier("[A-Za-z_][A-Za-z0-9_]*");
  return std::regex_match(name, kIdentifier);
}

bool valid_branch_status(const std::string& name) {
  static const std::regex kStatus("[a-z][a-z0-9_-]*");
  return std::regex_match(name, kStatus);
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
                           name));
  }
  return false;
}

}  // namespace rmaflow::dsl
