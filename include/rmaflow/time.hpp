// Time as rmaflow stores it: milliseconds, wall clock (UTC), so that timers survive restarts.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rmaflow {

using Duration = std::chrono::milliseconds;
using TimePoint = std::chrono::time_point<std::chrono::system_clock, std::chrono::milliseconds>;

// Parses the DSL's durations: an integer followed by ms, s, m, h or d ("250ms", "30s", "14d").
// Returns nullopt for anything else, including negative or overflowing values.
std::optional<Duration> parse_duration(std::string_view text);

// The shortest exact DSL spelling of `d` ("90s" -> "90s", 120000ms -> "2m").
std::string format_duration(Duration d);

// RFC 3339 UTC with milliseconds: "2026-11-26T23:10:00.000Z".
std::string format_time(TimePoint t);

// Reads a UTC date ("2026-11-26", midnight) or an RFC 3339 UTC time ("2026-11-26T23:10:00Z",
// with or without fractions of a second). Returns nullopt for anything else.
std::optional<TimePoint> parse_time(std::string_view text);

inline std::int64_t to_millis(TimePoint t) { return t.time_since_epoch().count(); }
inline TimePoint from_millis(std::int64_t ms) { return TimePoint(Duration(ms)); }

}  // namespace rmaflow
