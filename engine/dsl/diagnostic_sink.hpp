// Where the loader's problems accumulate: every check reports here and carries on, so that one
// run of `validate` shows every problem in a file, not just the first.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "rmaflow/definition.hpp"
#include "rmaflow/expression.hpp"

namespace rmaflow::dsl {

class DiagnosticSink {
 public:
  explicit DiagnosticSink(std::string file, Compilation jq = Compilation::now)
      : file_(std::move(file)), jq_(jq) {}

  // When the readers compile the jq they find: now, reporting what does not compile, or on
  // first use, for a definition that was checked when it was deployed.
  Compilation jq_compilation() const { return jq_; }

  void error(SourceLocation where, std::string code, std::string message);
  void warning(SourceLocation where, std::string code, std::string message);

  bool has_errors() const { return errors_ > 0; }
  std::size_t error_count() const { return errors_; }

  // Every diagnostic, sorted by position (stable: same position keeps report order).
  std::vector<Diagnostic> take();

 private:
  std::string file_;
  Compilation jq_;
  std::vector<Diagnostic> diagnostics_;
  std::size_t errors_ = 0;
};

// The 1-based position of `node` in its source, or `fallback` when yaml-cpp has none. An empty
// value (`next:`) has no position of its own: yaml-cpp marks the token after it, so callers pass
// the key's position as fallback and null nodes always use it.
SourceLocation location_of(const YAML::Node& node, SourceLocation fallback = {});

// 0-based yaml-cpp mark to 1-based location.
SourceLocation location_of(const YAML::Mark& mark);

}  // namespace rmaflow::dsl
