#include "engine/dsl/diagnostic_sink.hpp"

#include <algorithm>

namespace rmaflow::dsl {

void DiagnosticSink::error(SourceLocation where, std::string code, std::string message) {
  diagnostics_.push_back({file_, where, Severity::error, std::move(code), std::move(message)});
  ++errors_;
}

void DiagnosticSink::warning(SourceLocation where, std::string code, std::string message) {
  diagnostics_.push_back({file_, where, Severity::warning, std::move(code), std::move(message)});
}

std::vector<Diagnostic> DiagnosticSink::take() {
  std::stable_sort(diagnostics_.begin(), diagnostics_.end(),
                   [](const Diagnostic& a, const Diagnostic& b) {
                     if (a.where.line != b.where.line) return a.where.line < b.where.line;
                     return a.where.column < b.where.column;
                   });
  errors_ = 0;
  return std::move(diagnostics_);
}

SourceLocation location_of(const YAML::Mark& mark) {
  if (mark.line < 0 || mark.column < 0) return {};
  return {mark.line + 1, mark.column + 1};
}

SourceLocation location_of(const YAML::Node& node, SourceLocation fallback) {
  if (!node.IsDefined() || node.IsNull()) return fallback;
  SourceLocation where = location_of(node.Mark());
  return where.line == 0 ? fallback : where;
}

}  // namespace rmaflow::dsl
