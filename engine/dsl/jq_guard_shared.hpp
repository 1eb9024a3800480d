// What the guard's two parts share: jq_cost_guard.cpp (libjq's walking builtins) and
// jq_regex_guard.cpp (oniguruma's searches). See jq_cost_guard.hpp. For those two files only.
#pragma once

namespace rmaflow::dsl {

// This thread is inside a JqCostScope: an evaluation is running.
bool guarding();

// False (and the evaluation marked late) once a builtin was refused or the deadline has passed.
bool in_time();

// The shared library's definition of `name`, which the executable's stands in for: the next one
// in lookup order. Aborts when no library defines it (the binding is then broken for good).
void* next_definition(const char* name);

}  // namespace rmaflow::dsl

// Declares `real`, the library's definition of the function `name` being defined.
#define RMAFLOW_NEXT_DEFINITION(name) \
  static const auto real = reinterpret_cast<decltype(&::name)>(rmaflow::dsl::next_definition(#name))
