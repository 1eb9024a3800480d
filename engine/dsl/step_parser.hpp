// Parses one entry of a workflow's `steps` mapping into a Step. The step's kind is the one kind
// key it has (action, switch, wait, set, end); keys of another kind are refused.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "engine/dsl/map_reader.hpp"
#include "engine/dsl/policy_reader.hpp"
#include "rmaflow/definition.hpp"

namespace rmaflow::dsl {

// One transition as written, kept with its position for the graph checks.
struct Transition {
  std::string from;  // the step; empty for the workflow's `start`
  std::string to;
  std::string key;      // the key that names it: "next", "default", "on_timeout", "start"
  std::string context;  // where that key is, for messages: "catch entry 1 of step \"a\""
  SourceLocation where;
};

// Reports every problem in the step; returns it when its kind is known (even with other
// errors, so that the graph checks still see its transitions), appending them to `transitions`.
std::optional<Step> parse_step(const MapEntry& entry, const StepDefaults& defaults,
                               DiagnosticSink& sink, std::vector<Transition>& transitions);

// True for the names the DSL accepts for context keys (`result`, `set` keys): identifiers that
// do not shadow the engine's own .input, .instance and .error.
bool valid_context_key(const std::string& name);

}  // namespace rmaflow::dsl
