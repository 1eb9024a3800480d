// The DSL's rules for names: workflows, steps, identifiers (adapters, operations), context keys
// and the statuses branches end with.
#pragma once

#include <optional>
#include <string>

#include "engine/dsl/diagnostic_sink.hpp"
#include "engine/dsl/map_reader.hpp"

namespace rmaflow::dsl {

// [a-z][a-z0-9-]*
bool valid_workflow_name(const std::string& name);
// Reads `e` of `r` as a workflow name; reports wrong-type or bad-value and returns nullopt when
// it is not one.
std::optional<std::string> read_workflow_name(MapReader& r, const MapEntry& e);

// [a-z_][a-z0-9_-]*: step names, and the names of a parallel step's branches.
bool valid_step_name(const std::string& name);

// [A-Za-z_][A-Za-z0-9_]*
bool valid_identifier(const std::string& name);

// [a-z][a-z0-9_-]*: how a branch ends ("restocked", "not_received"); free text for analysts,
// not one of the instance statuses.
bool valid_branch_status(const std::string& name);

// Names for context keys (`result`, `set` keys, a foreach's `as`): identifiers that do not
// shadow the engine's own .input, .instance and .error, nor, inside a branch, .branch.
bool valid_context_key(const std::string& name, bool in_branch = false);

// Reports a context key that is not an identifier (bad-value) or one of the engine's own keys
// (result-overwrites, an error); true when `name` may be a context key. `what` names it in the
// message: "\"result\" in step \"a\"". `in_branch`: the key is written inside a branch, where
// the engine fills .branch too.
bool check_context_key(const std::string& name, SourceLocation where, const std::string& what,
                       DiagnosticSink& sink, bool in_branch = false);

}  // namespace rmaflow::dsl
