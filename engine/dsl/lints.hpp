// Lints: checks for what the DSL allows but is probably a mistake. All are warnings, which
// `rmaflow validate --strict` turns into failures:
//   switch-no-default           a switch without a default whose conditions may all be false
//                               (it would suspend with NoMatch); cases are taken as exhaustive
//                               only when one is `true` or two are each other's negation
//                               (`X` and `X | not`, `A == B` and `A != B`, `A < B` and `A >= B`)
//   wait-without-timeout        a wait for a signal with neither timeout nor on_timeout: if the
//                               signal never comes, the instance (or the branch) waits forever
//   match-outside-branch        a wait with `match` at the top level: only signals carrying that
//                               value reach it, though the signal already names the instance;
//                               legal (e.g. only the scan of a re-issued label), so a warning
//   end-only-via-compensation   an end reached only by undoing the instance's work: an end that
//                               compensates yet reports `completed`, or a workflow whose every
//                               reachable end compensates (it cannot finish without undoing);
//                               the ends of branches end no instance and are not counted
// Other lints live with the analysis they need: uncompensated-before-pivot (graph_checks.hpp),
// undefined-reference and result-overwrites (context_flow.hpp).
#pragma once

#include <string>

#include "engine/dsl/diagnostic_sink.hpp"
#include "engine/dsl/source_facts.hpp"
#include "rmaflow/definition.hpp"

namespace rmaflow::dsl {

void check_lints(const Definition& definition, const SourceFacts& facts, DiagnosticSink& sink);

}  // namespace rmaflow::dsl
