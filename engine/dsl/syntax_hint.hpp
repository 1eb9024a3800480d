// Explaining YAML syntax errors in the DSL's terms.
#pragma once

#include <cstddef>
#include <string_view>

namespace rmaflow::dsl {

// True when the YAML syntax error at byte `error_at` falls in a flow collection (`{ }`, `[ ]`)
// holding an unquoted `${`: YAML reads its `{` as the start of a nested mapping, so templates in
// flow collections must be quoted. A lexical scan (quotes and comments are skipped).
bool unquoted_template_in_flow(std::string_view yaml, std::size_t error_at);

}  // namespace rmaflow::dsl
