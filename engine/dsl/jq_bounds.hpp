// The v1 rule that every expression terminates: jq programs may not use constructs whose
// running time the data does not bound.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace rmaflow::dsl {

struct UnboundedConstruct {
  std::string construct;   // "while", "recursive def f", "range over non-literals", ...
  std::size_t offset = 0;  // byte offset in the program
};

// The first unbounded construct in a jq program, if any: a `def` that calls itself, `while`,
// `until`, `repeat`, `recurse` (and `recurse_down`), and `range` whose arguments are not number
// literals unless it sits inside `limit(...)`. A lexical scan: string literals are skipped (their
// `\( )` interpolations are scanned), `.name` fields, `$name` variables and object keys are not
// calls. The scan is conservative: it may refuse a program jq would run to completion, never the
// reverse for the constructs listed.
std::optional<UnboundedConstruct> find_unbounded_construct(std::string_view program);

}  // namespace rmaflow::dsl
