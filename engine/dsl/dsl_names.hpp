// The DSL's rules for names: steps, identifiers (adapters, operations) and context keys.
#pragma once

#include <string>

#include "engine/dsl/diagnostic_sink.hpp"

namespace rmaflow::dsl {

// [a-z_][a-z0-9_-]*
bool valid_step_name(const std::string& name);

// [A-Za-z_][A-Za-z0-9_]*
bool valid_identifier(const std::string& name);

// Names for context keys (`result`, `set` keys): identifiers that do not shadow the engine's
// own .input, .instance and .error.
bool valid_context_key(const std::string& name);

// Reports a context key that is not an identifier (bad-value) or one of the engine's own keys
// (result-overwrites, an error); true when `name` may be a context key. `what` names it in the
// message: "\"result\" in step \"a\"".
bool check_context_key(const std::string& name, SourceLocation where, const std::string& what,
                       DiagnosticSink& sink);

}  // namespace rmaflow::dsl
