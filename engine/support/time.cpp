#include "rmaflow/time.hpp"

#include <charconv>
#include <ctime>
#include <limits>

#include <fmt/format.h>

namespace rmaflow {

namespace {

struct Unit {
  std::string_view suffix;
  std::int64_t millis;
};

// Longest suffix first, so "ms" is not read as "m" followed by garbage.
constexpr Unit kUnits[] = {
    {"ms", 1}, {"s", 1000}, {"m", 60'000}, {"h", 3'600'000}, {"d", 86'400'000},
};

}  // namespace

std::optional<Duration> parse_duration(std::string_view text) {
  for (const auto& unit : kUnits) {
    if (text.size() <= unit.suffix.size() || !text.ends_with(unit.suffix)) continue;
    auto digits = text.substr(0, text.size() - unit.suffix.size());
    std::int64_t value = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (ec != std::errc() || end != digits.data() + digits.size()) continue;
    if (value < 0 || value > std::numeric_limits<std::int64_t>::max() / unit.millis) return {};
    return Duration(value * unit.millis);
  }
  return std::nullopt;
}

std::string format_duration(Duration d) {
  auto ms = d.count();
  for (auto it = std::rbegin(kUnits); it != std::rend(kUnits); ++it) {
    if (ms != 0 && ms % it->millis == 0) return fmt::format("{}{}", ms / it->millis, it->suffix);
  }
  return fmt::format("{}ms", ms);
}

std::string format_time(TimePoint t) {
  auto ms = to_millis(t);
  std::time_t secs = static_cast<std::time_t>(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
  int frac = static_cast<int>(ms - static_cast<std::int64_t>(secs) * 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

}  // namespace rmaflow
