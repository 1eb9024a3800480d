// Repeatable draws for the simulated systems: a number in [0, 1) from a seed and some words,
// the same in every run and build (std::hash is not), so that a restarted process draws what
// the first one drew.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string_view>

namespace rmaflow::sim {

// Uniform in [0, 1) from `seed` and `parts` (joined by newlines).
double seeded_draw(std::uint64_t seed, std::initializer_list<std::string_view> parts);

}  // namespace rmaflow::sim
