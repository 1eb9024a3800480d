// Checks on the workflow as a graph of steps, once every step is parsed:
//   unknown-target    a transition (start, next, catch, switch, on_timeout) names no step
//   unreachable-step  no path from the start step leads to the step
//   no-path-to-end    a group of steps only leads among itself, never to an end step;
//                     reported once per such group (the steps leading into it are not repeated)
//   uncompensated-before-pivot (warning)  a task that can run before a pivot has no compensate
#pragma once

#include <set>
#include <string>
#include <vector>

#include "engine/dsl/diagnostic_sink.hpp"
#include "engine/dsl/step_parser.hpp"
#include "rmaflow/definition.hpp"

namespace rmaflow::dsl {

// `definition` has its steps indexed; `transitions` are every transition as written.
// `declared` names every step in the file, also those that did not parse (a transition to one
// of those is not reported again).
void check_graph(const Definition& definition, const std::vector<Transition>& transitions,
                 const std::set<std::string>& declared, DiagnosticSink& sink);

}  // namespace rmaflow::dsl
