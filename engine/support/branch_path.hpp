// Branch paths: how a cursor of a fan-out step is named. "" is an instance's main line;
// "<fan-out step>[<key>]" a branch; a nested branch appends "/<fan-out step>[<key>]" to the path
// of the branch that holds it: "inspect_lines[L1]/check[P2]". Keys never hold '[', ']' or '/'.
#pragma once

#include <string>
#include <vector>

namespace rmaflow {

// The parts of a branch path: "inspect_lines[L1]/check[P2]" -> {inspect_lines, L1}, {check, P2}.
struct BranchSegment {
  std::string step;
  std::string key;
};
std::vector<BranchSegment> branch_segments(const std::string& branch);
// The path of the branch that holds `branch` ("" for a top-level branch).
std::string parent_branch(const std::string& branch);
// The path of a new branch of fan-out step `step` under `parent`, keyed `key`.
std::string child_branch(const std::string& parent, const std::string& step, const std::string& key);
// The key of a branch ("L1" for "inspect_lines[L1]"); "" for the main line.
std::string branch_key(const std::string& branch);
// Whether `branch` is `ancestor` or lies inside it.
bool within(const std::string& branch, const std::string& ancestor);

}  // namespace rmaflow
