// The sizes rmaflow accepts for what callers name things with. Checked where a name enters
// (the API answers 4xx naming the field, the engine refuses with Error(invalid_argument)), so
// a hostile caller cannot store a 100 KB key or reach an index with it. docs/api.md lists them.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace rmaflow {

// Instance ids, workflow and step names, operator action names.
inline constexpr std::size_t kMaxNameBytes = 200;
// Business keys, idempotency keys, correlation ids, signal names, match values.
inline constexpr std::size_t kMaxKeyBytes = 512;
// Actors and reasons of operator actions.
inline constexpr std::size_t kMaxTextBytes = 4096;
// Signals an instance keeps that no wait has taken yet (Temporal's default bound on signals
// per execution is the same). Each is held in memory while the instance is, and a wait looks
// through them for its own: past this, a caller sending signals nothing takes is refused.
inline constexpr std::size_t kMaxPendingSignals = 10'000;

// Why `value`, the `what` of a request ("idempotency_key"), may not be used: it is not valid
// UTF-8 or is longer than `max_bytes`. nullopt when it is fine.
std::optional<std::string> name_problem(std::string_view what, std::string_view value,
                                        std::size_t max_bytes);

}  // namespace rmaflow
