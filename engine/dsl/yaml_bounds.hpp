// Bounds a workflow file must keep before any work is done on it. yaml-cpp shares an aliased
// node instead of copying it, so a few hundred bytes of anchors and aliases ("billion laughs")
// stand for 10^10 nodes once anything walks the document; a file nested ten thousand levels
// deep overflows the recursion of every reader. One pass over the parser's events, in time and
// memory linear in the text, measures the document as a reader would see it, aliases expanded,
// and refuses it before it is loaded.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "rmaflow/definition.hpp"

namespace rmaflow::dsl {

inline constexpr std::size_t kMaxWorkflowBytes = 1 << 20;  // the text of one workflow file
inline constexpr std::size_t kMaxWorkflowNodes = 100'000;  // nodes, aliases expanded
inline constexpr std::size_t kMaxWorkflowDepth = 64;       // nesting, aliases expanded

struct YamlBoundsProblem {
  SourceLocation where;
  std::string code;  // "yaml-encoding", "yaml-too-large", "yaml-too-deep", "yaml-alias"
  std::string message;
};

// The first bound `yaml` breaks, if any: not UTF-8, more than kMaxWorkflowBytes, more than
// kMaxWorkflowNodes or deeper than kMaxWorkflowDepth once aliases are expanded, or an alias
// inside the node it names (a cycle). A syntax error is not reported here: the loader's own
// parse reports it with its hints.
std::optional<YamlBoundsProblem> check_yaml_bounds(std::string_view yaml);

}  // namespace rmaflow::dsl
