// Shared helpers for the DSL tests: load YAML text, and look for a diagnostic by code and position.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "rmaflow/definition.hpp"
#include "tests/support/process.hpp"

namespace rmaflow::dsl_testing {

inline std::string fixtures_dir() {
  return testing::source_dir() + "/tests/dsl/fixtures";
}

// The workflows the project ships: every .yaml in workflows/, in a stable order.
inline std::vector<std::string> shipped_workflows() {
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(testing::source_dir() + "/workflows"))
    if (entry.path().extension() == ".yaml") files.push_back(entry.path().string());
  std::sort(files.begin(), files.end());
  return files;
}

inline LoadResult load(const std::string& yaml) {
  return load_definition(yaml, "test.yaml", fixtures_dir());
}

// A workflow header (lines 1-4) followed by `steps_text`, which therefore starts on line 5:
//   1 workflow: t / 2 version: 1 / 3 start: a / 4 steps:
inline std::string with_steps(const std::string& steps_text) {
  return "workflow: t\nversion: 1\nstart: a\nsteps:\n" + steps_text;
}

inline std::string listing(const LoadResult& r) {
  std::string out = "diagnostics:\n";
  for (const auto& d : r.diagnostics) out += "  " + format_diagnostic(d) + "\n";
  return out;
}

inline const Diagnostic* find(const LoadResult& r, const std::string& code) {
  for (const auto& d : r.diagnostics)
    if (d.code == code) return &d;
  return nullptr;
}

inline bool has(const LoadResult& r, const std::string& code, int line, int column) {
  for (const auto& d : r.diagnostics)
    if (d.code == code && d.where.line == line && d.where.column == column) return true;
  return false;
}

inline int count(const LoadResult& r, const std::string& code) {
  int n = 0;
  for (const auto& d : r.diagnostics) n += d.code == code ? 1 : 0;
  return n;
}

}  // namespace rmaflow::dsl_testing

// Checks that `result` holds a diagnostic `code` at line:column, printing every diagnostic if not.
#define CHECK_DIAG(result, code, line, column)                              \
  do {                                                                      \
    INFO(::rmaflow::dsl_testing::listing(result));                          \
    CHECK(::rmaflow::dsl_testing::has((result), (code), (line), (column))); \
  } while (false)

// Checks that `result` loaded, printing every diagnostic if not.
#define REQUIRE_LOADED(result)                     \
  do {                                             \
    INFO(::rmaflow::dsl_testing::listing(result)); \
    REQUIRE((result).ok());                        \
  } while (false)
