// Checks on the workflow as a graph of steps, once every step is parsed:
//   unknown-target    a transition (start, next, catch, switch, on_timeout) names no step
//   unreachable-step  no path from the start step leads to the step
//   no-path-to-end    a group of steps only leads among itself, never to an end step;
//                     reported once per such group (the steps leading into it are not repeated)
//   uncompensated-before-pivot (warning)  a task that can run before a pivot has no compensate
#pragma once

#include "engine/dsl/diagnostic_sink.hpp"
#include "engine/dsl/source_facts.hpp"
#include <vector>

#include "rmaflow/definition.hpp"

namespace rmaflow::dsl {

// `definition` has its steps indexed. A transition to a step that is declared in `facts` but did
// not parse is not reported again.
void check_graph(const Definition& definition, const SourceFacts& facts, DiagnosticSink& sink);

// For each step (in file order), whether a path from the start step leads to it.
std::vector<bool> reachable_steps(const Definition& definition);

}  // namespace rmaflow::dsl
