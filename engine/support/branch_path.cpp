#include "engine/support/branch_path.hpp"

namespace rmaflow {

std::vector<BranchSegment> branch_segments(const std::string& branch) {
  std::vector<BranchSegment> out;
  std::size_t at = 0;
  while (at < branch.size()) {
    auto open = branch.find('[', at);
    auto close = branch.find(']', open);
    if (open == std::string::npos || close == std::string::npos) break;
    out.push_back({branch.substr(at, open - at), branch.substr(open + 1, close - open - 1)});
    at = close + 1;
    if (at < branch.size() && branch[at] == '/') ++at;
  }
  return out;
}

std::string parent_branch(const std::string& branch) {
  auto slash = branch.rfind('/');
  return slash == std::string::npos ? std::string() : branch.substr(0, slash);
}

std::string child_branch(const std::string& parent, const std::string& step,
                         const std::string& key) {
  std::string out = parent;
  if (!out.empty()) out += '/';
  out += step;
  out += '[';
  out += key;
  out += ']';
  return out;
}

std::string branch_key(const std::string& branch) {
  if (branch.empty() || branch.back() != ']') return {};
  auto open = branch.rfind('[');
  return open == std::string::npos ? std::string() : branch.substr(open + 1, branch.size() - open - 2);
}

bool within(const std::string& branch, const std::string& ancestor) {
  if (ancestor.empty()) return true;
  return branch.size() >= ancestor.size() && branch.compare(0, ancestor.size(), ancestor) == 0 &&
         (branch.size() == ancestor.size() || branch[ancestor.size()] == '/');
}

}  // namespace rmaflow
