#include "engine/dsl/diagnostic_sink.hpp"

#include "engine/support/utf8.hpp"

#include <algorithm>

namespace rmaflow::dsl {

// Messages quote the file (yaml-cpp names a byte of a character it could not escape, a jq
// message echoes the program): quoted as UTF-8, they stay printable as JSON (validate --format
// json, the API's deploy answers).
void DiagnosticSink::error(SourceLocation where, std::string code, std::string message) {
  diagnostics_.push_back({quote_utf8(file_), where, Severity::error, std::move(code),
                          quote_utf8(message)});
  ++errors_;
}

void DiagnosticSink::warning(SourceLocation where, std::string code, std::string message) {
  diagnostics_.push_back({quote_utf8(file_), where, Severity::warning, std::move(code),
                          quote_utf8(message)});
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
