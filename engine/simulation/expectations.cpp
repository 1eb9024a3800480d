// check_expectations (rmaflow/simulation.hpp): each expectation against the result, with an
// account a person reads in one go: lists as a line diff, the context by JSON Pointer.
#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "engine/support/branch_path.hpp"
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

// The path of the main line (or of the branch `branch`), then of each branch it lists.
void check_path(const std::vector<ExpectedStep>& expected, const std::string& branch,
                const SimulationResult& r, std::vector<Mismatch>& out) {
  std::vector<std::string> steps;
  for (const auto& e : expected) steps.push_back(e.step);
  compare_lists(branch.empty() ? "path" : "path of branch " + branch, steps, r.path(branch), out);
  for (const auto& e : expected)
    for (const auto& [key, sub] : e.branches)
      check_path(sub, child_branch(branch, e.step, key), r, out);
}

// Whether `path` is the branch `branch` names: its path, or its own (innermost) key.
bool names(const std::string& branch, const std::string& path) {
  if (branch.find('[') != std::string::npos) return path == branch;
  return branch_key(path) == branch;
}

void check_branches(const std::vector<ExpectedBranch>& expected, const SimulationResult& r,
                    std::vector<Mismatch>& out) {
  // The last end of each branch (a fan-out step entered again runs its branches again).
  std::map<std::string, SimulationResult::BranchEnd> ends;
  for (auto& end : r.branch_ends()) ends[end.branch] = end;
  Mismatch m{"branches", {}};
  for (const auto& x : expected) {
    std::vector<const SimulationResult::BranchEnd*> found;
    for (const auto& [path, end] : ends)
      if (names(x.branch, path)) found.push_back(&end);
    if (found.empty()) {
      m.lines.push_back(
          fmt::format("branch {}: expected {}, but it never ended", x.branch, x.status));
      continue;
    }
    if (found.size() > 1) {
      std::vector<std::string> paths;
      for (const auto* end : found) paths.push_back(end->branch);
      m.lines.push_back(fmt::format("branch {}: the key names {} branches ({}); give its path",
                                    x.branch, found.size(), fmt::join(paths, ", ")));
      continue;
    }
    const auto& end = *found.front();
    if (end.status != x.status)
      m.lines.push_back(
          fmt::format("branch {}: expected {}, got {}", end.branch, x.status, end.status));
    if (x.output) {
      std::vector<std::string> lines;
      contained(*x.output, end.output, "", lines);
      for (auto& line : lines)
        m.lines.push_back(fmt::format("branch {} output{}", end.branch, line));
    }
  }
  if (!m.lines.empty()) out.push_back(std::move(m));
}

}  // namespace

std::vector<Mismatch> check_expectations(const Expectations& x, const SimulationResult& r) {
  std::vector<Mismatch> out;
  if (x.status && *x.status != r.row.status) {
    std::string where = is_final(r.row.status) ? "" : fmt::format(" (at step {})", r.row.step);
    out.push_back({"status", {fmt::format("expected {}, got {}{}", to_string(*x.status),
                                          to_string(r.row.status), where)}});
  }
  if (x.path) check_path(*x.path, "", r, out);
  auto entered = r.entered();
  for (const auto& step : x.visited)
    if (std::find(entered.begin(), entered.end(), step) == entered.end())
      out.push_back({"visited", {fmt::format("step {} was never entered", step)}});
  for (const auto& step : x.not_visited)
    if (std::find(entered.begin(), entered.end(), step) != entered.end())
      out.push_back({"not_visited", {fmt::format("step {} was entered", step)}});
  if (x.effects) check_effects(*x.effects, r, out);
  if (x.compensated) compare_lists("compensated", *x.compensated, r.compensated(), out);
  if (x.context) {
    std::vector<std::string> lines;
    contained(*x.context, r.row.context, "", lines);
    if (!lines.empty()) out.push_back({"context", lines});
  }
  if (!x.branches.empty()) check_branches(x.branches, r, out);
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
