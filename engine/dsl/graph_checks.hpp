// Checks on the workflow as a graph of steps, once every step is parsed. Each flow (the top
// level, and the sub-flow each branch of a foreach or parallel step runs) is checked on its own:
//   unknown-target    a transition (start, next, catch, switch, on_timeout) names no step
//   leaves-flow       a transition names a step of another flow: into a branch from outside
//                     (only the fan-out step enters it) or out of a branch (a branch ends at
//                     an end step of its own)
//   unreachable-step  no path from its flow's start step leads to the step; not reported in a
//                     flow where a transition names no step of the flow (the step it meant may
//                     be the way in), unless the name is a likely typo of one, taken instead
//   no-path-to-end    a group of steps only leads among itself, never to an end step;
//                     reported once per such group (the steps leading into it are not repeated)
//   uncompensated-before-pivot (warning)  a task that can run before a pivot of its flow (or
//                     inside the branches of a fan-out step that can) has no compensate
#pragma once

#include <vector>

#include "engine/dsl/diagnostic_sink.hpp"
#include "engine/dsl/source_facts.hpp"
#include "rmaflow/definition.hpp"

namespace rmaflow::dsl {

// `definition` has its steps indexed. A transition to a step that is declared in `facts` but did
// not parse is not reported again.
void check_graph(const Definition& definition, const SourceFacts& facts, DiagnosticSink& sink);

// For each step (in file order), whether a path leads to it from its flow's start, and to the
// fan-out step that runs its flow (and so on up to the workflow's start).
std::vector<bool> reachable_steps(const Definition& definition);

}  // namespace rmaflow::dsl
