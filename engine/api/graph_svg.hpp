// Workflow graphs as SVG, laid out by Graphviz's library (cgraph and gvc) in-process: the
// console shows what `rmaflow graph --format dot` describes, without a `dot` program at run
// time. Labels reach the SVG escaped by Graphviz (text, never markup), and every node carries
// the classes write_dot gives it ("step", its kind, visited, current, failing).
//
// Thread-safety: any thread; Graphviz keeps global state, so drawings are made one at a time.
#pragma once

#include <string>

#include "rmaflow/definition.hpp"
#include "rmaflow/graph.hpp"

namespace rmaflow::api {

// The workflow drawn as `rmaflow graph --format dot` draws it (with `overlay`, an instance's
// path and where it stands), as SVG.
std::string graph_svg(const Definition& definition, const GraphOverlay* overlay = nullptr);

// The SVG document for a Graphviz digraph. Throws Error(internal) when Graphviz refuses it
// (write_dot's output always parses).
std::string dot_to_svg(const std::string& dot);

}  // namespace rmaflow::api
