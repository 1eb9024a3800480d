// Parses one entry of a workflow's `steps` mapping into a Step. The step's kind is the one kind
// key it has (action, switch, wait, set, end); keys of another kind are refused.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "engine/dsl/map_reader.hpp"
#include "engine/dsl/policy_reader.hpp"
#include "engine/dsl/source_facts.hpp"
#include "rmaflow/definition.hpp"

namespace rmaflow::dsl {

// Reports every problem in the step; returns it when its kind is known (even with other
// errors, so that the graph checks still see its transitions). Records its transitions,
// expressions and context writes in `facts`.
std::optional<Step> parse_step(const MapEntry& entry, const StepDefaults& defaults,
                               DiagnosticSink& sink, SourceFacts& facts);

}  // namespace rmaflow::dsl
