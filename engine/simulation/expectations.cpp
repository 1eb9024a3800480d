// check_expectations (rmaflow/simulation.hpp): each expectation against the result, with an
// account a person reads in one go: lists as a line diff, the context by JSON Pointer.
#include <fmt/format.h>

#include <algorithm>

#include "rmaflow/simulation.hpp"

namespace rmaflow {

namespace {

// A line diff of two lists by their longest common subsequence: "  x" in both, "- x" only
// expected, "+ x" only actual.
std::vector<std::string> diff(const std::vector<std::string>& expected,
                              const std::vector<std::string>& actual) {
  std::size_t n = expected.size(), m = actual.size();
  std::vector<std::vector<std::size_t>> lcs(n + 1, std::vector<std::size_t>(m + 1, 0));
  for (std::size_t i = n; i-- > 0;)
    for (std::size_t j = m; j-- > 0;)
      lcs[i][j] = expected[i] == actual[j] ? lcs[i + 1][j + 1] + 1
                                           : std::max(lcs[i + 1][j], lcs[i][j + 1]);
  std::vector<std::string> out;
  std::size_t i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && expected[i] == actual[j]) {
      out.push_back("  " + expected[i++]);
      ++j;
    } else if (i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1])) {
      out.push_back("- " + expected[i++]);  // what is missing first, then what came instead
    } else {
      out.push_back("+ " + actual[j++]);
    }
  }
  return out;
}

void compare_lists(const std::string& what, const std::vector<std::string>& expected,
                   const std::vector<std::string>& actual, std::vector<Mismatch>& out) {
  if (expected == actual) return;
  Mismatch m{what, {"(- expected, + actual)"}};
  auto lines = diff(expected, actual);
  m.lines.insert(m.lines.end(), lines.begin(), lines.end());
  out.push_back(std::move(m));
}

// Every place where `actual` does not contain `expected`: objects need the expected keys
// (others may be there too), arrays and scalars must be equal in full.
void contained(const nlohmann::json& expected, const nlohmann::json& actual,
               const std::string& pointer, std::vector<std::string>& lines) {
  if (expected.is_object() && actual.is_object()) {
    for (const auto& [key, value] : expected.items()) {
      std::string at = pointer + "/" + key;
      if (!actual.contains(key))
        lines.push_back(fmt::format("{}: expected {}, but it is not there", at, value.dump()));
      else
        contained(value, actual[key], at, lines);
    }
    return;
  }
  if (expected != actual)
    lines.push_back(fmt::format("{}: expected {}, got {}", pointer.empty() ? "/" : pointer,
                                expected.dump(), actual.dump()));
}

void check_effects(const std::vector<ExpectedEffect>& expected, const SimulationResult& result,
                   std::vector<Mismatch>& out) {
  auto effects = result.effects();
  std::vector<std::string> want, got;
  for (const auto& e : expected) want.push_back(e.action);
  for (const auto* c : effects) got.push_back(c->action);
  if (want != got) {
    compare_lists("effects", want, got, out);
    return;
  }
  for (std::size_t i = 0; i < expected.size(); ++i) {
    if (!expected[i].input) continue;
    std::vector<std::string> lines;
    contained(*expected[i].input, effects[i]->input, "", lines);
    if (lines.empty()) continue;
    Mismatch m{fmt::format("effect {} ({}) input", i + 1, expected[i].action), {}};
    for (auto& line : lines) m.lines.push_back("input" + line);
    out.push_back(std::move(m));
  }
}

}  // namespace

std::vector<Mismatch> check_expectations(const Expectations& x, const SimulationResult& r) {
  std::vector<Mismatch> out;
  if (x.status && *x.status != r.row.status) {
    std::string where = is_final(r.row.status) ? "" : fmt::format(" (at step {})", r.row.step);
    out.push_back({"status", {fmt::format("expected {}, got {}{}", to_string(*x.status),
                                          to_string(r.row.status), where)}});
  }
  auto path = r.path();
  if (x.path) compare_lists("path", *x.path, path, out);
  for (const auto& step : x.visited)
    if (std::find(path.begin(), path.end(), step) == path.end())
      out.push_back({"visited", {fmt::format("step {} was never entered", step)}});
  for (const auto& step : x.not_visited)
    if (std::find(path.begin(), path.end(), step) != path.end())
      out.push_back({"not_visited", {fmt::format("step {} was entered", step)}});
  if (x.effects) check_effects(*x.effects, r, out);
  if (x.compensated) compare_lists("compensated", *x.compensated, r.compensated(), out);
  if (x.context) {
    std::vector<std::string> lines;
    contained(*x.context, nlohmann::json::parse(r.row.context, nullptr, false), "", lines);
    if (!lines.empty()) out.push_back({"context", lines});
  }
  if (x.ended_after) {
    if (!r.row.ended_at) {
      out.push_back({"ended_after", {fmt::format("expected it to end after {}, but it is still {}",
                                                 format_duration(*x.ended_after),
                                                 to_string(r.row.status))}});
    } else if (*r.row.ended_at - r.start != *x.ended_after) {
      out.push_back({"ended_after", {fmt::format("expected {}, ended after {}",
                                                 format_duration(*x.ended_after),
                                                 format_duration(*r.row.ended_at - r.start))}});
    }
  }
  return out;
}

}  // namespace rmaflow
