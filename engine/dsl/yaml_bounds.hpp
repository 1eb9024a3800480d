// Bounds a YAML file must keep before any work is done on it: a workflow, and the files beside
// it that rmaflow reads (scenarios, adapters files, the simulated systems' data, tokens).
// yaml-cpp shares an aliased node instead of copying it, so a few hundred bytes of anchors and
// aliases ("billion laughs") stand for 10^10 nodes once anything walks the document; a file
// nested ten thousand levels deep overflows the recursion of every reader. One pass over the
// parser's events, in time and memory linear in the text, measures the document as a reader
// would see it, aliases expanded, and refuses it before it is loaded.
#pragma once

#include <yaml-cpp/node/node.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "rmaflow/definition.hpp"
#include "rmaflow/errors.hpp"

namespace rmaflow::dsl {

inline constexpr std::size_t kMaxWorkflowBytes = 1 << 20;  // the text of one workflow file
inline constexpr std::size_t kMaxWorkflowNodes = 100'000;  // nodes, aliases expanded
inline constexpr std::size_t kMaxWorkflowDepth = 64;       // nesting, aliases expanded

// What one kind of YAML file may hold; `kind` names it in messages ("a workflow file").
struct YamlBounds {
  std::string_view kind;
  std::size_t bytes;
  std::size_t nodes;  // aliases expanded
  std::size_t depth;  // aliases expanded
};

inline constexpr YamlBounds kWorkflowBounds{"a workflow file", kMaxWorkflowBytes, kMaxWorkflowNodes,
                                            kMaxWorkflowDepth};

// A file of data an analyst or operator writes beside the workflows (a scenario with its
// inputs, an adapters file, a simulated ERP's customers and invoices, a tokens file): larger
// than a workflow, bounded the same way. 16 MiB, a million nodes, 128 levels.
constexpr YamlBounds data_file_bounds(std::string_view kind) {
  return YamlBounds{kind, std::size_t{16} << 20, 1'000'000, 128};
}

struct YamlBoundsProblem {
  SourceLocation where;
  std::string code;  // "yaml-encoding", "yaml-too-large", "yaml-too-deep", "yaml-alias"
  std::string message;
};

// The first bound `yaml` breaks, if any: not UTF-8, more than `bounds.bytes`, more than
// `bounds.nodes` or deeper than `bounds.depth` once aliases are expanded, or an alias inside
// the node it names (a cycle). A syntax error is not reported here: the reader's own parse
// reports it.
std::optional<YamlBoundsProblem> check_yaml_bounds(std::string_view yaml,
                                                   const YamlBounds& bounds = kWorkflowBounds);

// `yaml`, the text of `file`, loaded once it keeps `bounds`: what the readers of the files beside
// the workflows (adapters, a simulated ERP's data, tokens) start with. Throws Error(`code`)
// "{file}:{line}:{column}: {message}" for the first bound it breaks, or for its syntax error
// ("not valid YAML: ...").
YAML::Node load_bounded_yaml(std::string_view yaml, const std::string& file,
                             const YamlBounds& bounds, Errc code);

// The file at `path`, loaded as load_bounded_yaml loads its text, its size checked before a
// byte of it is read (a file of gigabytes is refused unread). Throws Error(io) "cannot read
// {role} {path}: no such file" (role: "the tokens file") when it cannot be read.
YAML::Node load_bounded_yaml_file(const std::string& path, std::string_view role,
                                  const YamlBounds& bounds, Errc code);

// The problem of a file of `bytes` bytes, past `bounds.bytes`.
YamlBoundsProblem too_large(std::uintmax_t bytes, const YamlBounds& bounds);

}  // namespace rmaflow::dsl
