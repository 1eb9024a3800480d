// The v1 rules for what a jq expression may do: terminate (no construct whose running time the
// data does not bound) and depend only on the instance context (no reading the environment).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace rmaflow::dsl {

struct JqConstruct {
  std::string construct;   // "\"while\"", "the recursive def \"f\"", "$ENV", ...
  std::size_t offset = 0;  // byte offset in the program
};

// The first unbounded construct in a jq program, if any: a `def` that calls itself, `while`,
// `until`, `repeat`, `recurse` (and `recurse_down`), and `range` whose arguments are not number
// literals of at most 100000 unless it sits inside `limit(N; ...)` with N such a literal. A lexical scan: string literals are skipped (their
// `\( )` interpolations are scanned), `.name` fields, `$name` variables and object keys are not
// calls. The scan is conservative: it may refuse a program jq would run to completion, never the
// reverse for the constructs listed.
std::optional<JqConstruct> find_unbounded_construct(std::string_view program);

// The first read of the process environment (`env`, `$ENV`), if any: an expression that reads
// it behaves differently on each machine and can leak the engine's secrets into the context.
std::optional<JqConstruct> find_environment_access(std::string_view program);

}  // namespace rmaflow::dsl
