// A bound on the work one call into libjq's C code may do during an evaluation.
//
// The watchdog (jq_watchdog.hpp) halts a program between two instructions; a C builtin runs to
// its end. Some of libjq's walk a whole value in one call: tojson, tostring and string
// interpolation, comparison and sorting, contains, deep merge, and the error message that names
// a value. jq shares values instead of copying them, so `[.,.]` thirty times over is thirty cheap
// instructions and a value with 2^30 leaves to such a walk; `. + .` thirty times on a string, or
// `"ab" * 1e8`, copies gigabytes inside single instructions. Either holds the engine thread for
// minutes, or takes all its memory.
//
// So rmaflow defines those libjq functions itself (jq_cost_guard.cpp). libjq calls its own
// exported functions through its procedure linkage table, and the dynamic linker binds them to
// the executable's definitions first. During an evaluation each one measures its arguments
// within kWalkUnits before handing them to libjq's definition; past that it returns a harmless
// value (an empty string, an unsorted array, "not equal", the string or array unextended) and
// records the overrun, and the evaluation is then refused with the "size" limit whatever the
// program went on to output.
// Each walk is bounded, but one builtin may ask for many: `.[b]` with b an array compares b with
// every place of the array, `min_by` each element with the least so far, `contains` every pair.
// So the evaluation's deadline holds inside the builtins too: a walk asked for after it is
// refused, and the evaluation is refused with the "time" limit. Array search (`.[b]`) and string
// search (`index`, `indices` on strings) are rmaflow's own here: libjq 1.6's array search leaks
// every element it looks at, and its string search never ends on an empty string.
// Regular expression searches (oniguruma's onig_search, which jq's regex builtins call) are
// bounded the same way, by the deadline between start positions: see jq_regex_guard.cpp.
// An evaluation's memory is bounded too: rmaflow defines libjq's allocator functions
// (jv_mem_alloc and the rest), and during an evaluation counts the blocks they hand out and take
// back. Once it holds more than kEvaluationBytes, the evaluation is halted at jq's next
// instruction and refused with the "memory" limit; the builtins refuse from then on. A builtin
// runs to its end, so what it builds in one go is bounded by the limits above, and many quick
// copies (`[range(1e5) | $s + $s]` on a string of megabytes) by this one.
// Outside an evaluation they only forward. Tests (tests/dsl/jq_cost_tests.cpp) fail if the
// binding ever stops taking effect.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

extern "C" {
#include <jv.h>
}

namespace rmaflow::dsl {

// What one walk may cost: a value counts 8 per element or member plus the bytes of its strings
// and keys, the measure JvBudget uses for results. Eight times the result limit.
inline constexpr std::size_t kWalkUnits = std::size_t{8} << 20;
// The deepest value a walk accepts; libjq's own walks recurse on the C stack.
inline constexpr std::size_t kWalkDepth = 1000;
// The longest string (in bytes) and array (in elements) a builtin may build by concatenation or
// `string * n`: each holds its memory for real, and every step copies it.
inline constexpr std::size_t kBuiltBytes = kWalkUnits;
inline constexpr std::size_t kBuiltElements = kWalkUnits / 8;
// What one evaluation may hold at once in libjq's blocks (its values, its interpreter's stacks),
// beyond what it held as it began.
inline constexpr std::size_t kEvaluationBytes = std::size_t{256} << 20;

// The guard for this thread's evaluation, from construction to destruction. Not nested.
class JqCostScope {
 public:
  // `held_bytes`: what the evaluation may hold at once (kEvaluationBytes but in tests).
  explicit JqCostScope(std::chrono::steady_clock::time_point deadline,
                       std::size_t held_bytes = kEvaluationBytes);
  ~JqCostScope();
  JqCostScope(const JqCostScope&) = delete;
  JqCostScope& operator=(const JqCostScope&) = delete;

  // A builtin was refused a value past the bounds above.
  bool overrun() const;
  // A builtin was refused because the deadline had passed.
  bool late() const;
  // The evaluation came to hold more than its bound (and was halted).
  bool full() const;
  // The evaluation is armed with the watchdog as `ticket`: halted through it when full.
  void watched_as(std::uint64_t ticket);
};

// True when `value` (borrowed) costs at most `units` and nests at most kWalkDepth levels. Stops
// as soon as the answer is known, so its own cost is bounded by `units`.
bool jv_within(jv value, std::size_t units);

}  // namespace rmaflow::dsl
