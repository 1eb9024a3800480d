// Parses a flow of steps: the workflow's own `start` and `steps`, or the sub-flow of a foreach
// step or of a parallel step's branch. Each step's kind is the one kind key it has (action,
// switch, wait, set, end, foreach, parallel, call); keys of another kind are refused. Sub-flows
// nest: a branch's steps may fan out again.
#pragma once

#include <string>
#include <vector>

#include "engine/dsl/map_reader.hpp"
#include "engine/dsl/policy_reader.hpp"
#include "engine/dsl/source_facts.hpp"
#include "rmaflow/definition.hpp"

namespace rmaflow::dsl {

// The flow steps are parsed in.
struct FlowScope {
  std::string id;     // Step::flow: "" at the top level, else the sub-flow's id
  std::string label;  // names it in messages: "the workflow", "the branches of foreach \"x\""
  bool in_branch() const { return !id.empty(); }
};

// What every step of a workflow is parsed with.
struct ParseContext {
  const StepDefaults& defaults;
  DiagnosticSink& sink;
  SourceFacts& facts;
};

// Parses a flow from its `start` and `steps` entries (null when absent; the caller reported
// that). Reports every problem; appends each step that has a known kind (even with other
// errors, so that the graph checks still see its transitions) to `out`, followed by the steps
// of its sub-flows, in file order. A step whose name another flow of the workflow declares
// already is reported (duplicate-step) and left out. Records transitions, expressions, context
// writes and declarations in the context's facts. `owner` names the mapping that holds
// `start` and `steps` in messages ("the workflow", "step \"inspect_lines\"").
Flow parse_flow(const MapEntry* start, const MapEntry* steps, const FlowScope& scope,
                const std::string& owner, ParseContext& cx, std::vector<Step>& out);

}  // namespace rmaflow::dsl
