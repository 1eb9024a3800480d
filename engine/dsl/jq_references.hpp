// Which keys of the instance context a jq program reads.
#pragma once

#include <optional>
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

// One read of the start input, `.input.lines[].qty`, as the path that follows `.input`:
// fields, and array elements (`[]`, `[0]`). The path ends where the program stops naming a
// place plainly (a pipe, a function, a computed index).
struct InputRead {
  struct Step {
    std::string field;  // empty for an element
    long index = -1;    // an element's literal index; -1 for any (`[]`)
  };
  std::vector<Step> path;  // empty for `.input` itself
  std::size_t offset = 0;  // byte offset of the `.input` in the program
};

// Every read of the start input by the context (as context_reads() finds them), in order.
std::vector<InputRead> input_reads(std::string_view program);

// The top-level keys of its input a program may read, when it reads its input through nothing
// but `.key` (and `{key}`): then its answers on an object are the same on the object cut down
// to those keys. It errs towards nothing, unlike context_reads(): every `.key` anywhere is
// listed (after a pipe too), and a program that may look at its input otherwise gets nothing:
// one that applies to its input `.` alone, `..`, `.[...]`, `."key"`, a function or a format
// (each takes `.` as its input), and one with an assignment, `reduce`, `foreach`, `def` or a
// `{"key"}` shorthand. After a pipe `.` is what came before it, so functions there are allowed
// (`(.qty * .price | round)`, `[.lines[] | select(.ok)]`), up to the end of the bracket or the
// `if` branch, the next argument (`;`) or the next pair of an object (`,` in `{}`); not after
// the pipe of a binding (`E as $x | ...`, where `.` is the input again), nor in a program that
// writes `try` anywhere. Each key once, in order.
std::optional<std::vector<std::string>> keys_read_only(std::string_view program);

}  // namespace rmaflow::dsl
