// Checks on how data flows through the instance context, once the workflow loads:
//   undefined-reference (warning)  an expression reads `.key` and no step on any path from the
//                                  start to it writes `key` (as a result or a set key); `.error`
//                                  exists only on paths through a catch
//   result-overwrites (warning)    a step writes a key that another step can already have
//                                  written before it (a set that reads the key it writes is an
//                                  update, and not reported)
// Both are may-analyses over the step graph: a key counts as written on entry to a step when
// some path from the start writes it first, so a warning means no path does.
//
// Branches: the first step of a branch's sub-flow sees what its fan-out step sees on entry, plus
// the element (a foreach's `as`) and `.branch`; what a branch writes stays in it, and the steps
// after the fan-out step see only its `result`. An element name that hides a key written before
// the foreach is reported as result-overwrites too.
#pragma once

#include "engine/dsl/diagnostic_sink.hpp"
#include "engine/dsl/source_facts.hpp"
#include "rmaflow/definition.hpp"

namespace rmaflow::dsl {

void check_context_flow(const Definition& definition, const SourceFacts& facts,
                        DiagnosticSink& sink);

}  // namespace rmaflow::dsl
