// Which keys of the instance context a jq program reads.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace rmaflow::dsl {

struct ContextRead {
  std::string key;         // "refund_amount" for `.refund_amount`
  std::size_t offset = 0;  // byte offset of the `.key` in the program
};

// The top-level context keys a program reads: `.refund_amount` in `.refund_amount > 2000`,
// `input` (but not `qty`) in `[.input.lines[] | .qty]`, since after a pipe `.` is no longer the
// context. A lexical approximation that errs towards missing a read, never towards inventing
// one: after a pipe, inside the arguments of a function that iterates (map, sort_by, ...) or is
// unknown, inside reduce/foreach bodies, def bodies and catch handlers, `.key` is not taken as
// a context read; `.["key"]` and `{key}` are not recognised. Each key is listed once, at its
// first read.
std::vector<ContextRead> context_reads(std::string_view program);

}  // namespace rmaflow::dsl
