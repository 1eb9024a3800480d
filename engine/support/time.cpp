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

namespace {

// Reads exactly `width` digits at `pos`, or fails.
bool read_digits(std::string_view text, std::size_t pos, std::size_t width, int& out) {
  if (pos + width > text.size()) return false;
  auto [end, ec] = std::from_chars(text.data() + pos, text.data() + pos + width, out);
  return ec == std::errc() && end == text.data() + pos + width;
}

}  // namespace

std::optional<TimePoint> parse_time(std::string_view text) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, ms = 0;
  if (!read_digits(text, 0, 4, y) || text.size() < 10 || text[4] != '-' ||
      !read_digits(text, 5, 2, mo) || text[7] != '-' || !read_digits(text, 8, 2, d)) {
    return std::nullopt;
  }
  std::size_t pos = 10;
  if (text.size() > pos) {
    if ((text[pos] != 'T' && text[pos] != 't') || text.size() < 20 ||
        !read_digits(text, 11, 2, h) || text[13] != ':' || !read_digits(text, 14, 2, mi) ||
        text[16] != ':' || !read_digits(text, 17, 2, s)) {
      return std::nullopt;
    }
    pos = 19;
    if (pos < text.size() && text[pos] == '.') {
      std::size_t digits = 0;
      for (++pos; pos < text.size() && text[pos] >= '0' && text[pos] <= '9'; ++pos, ++digits) {
        if (digits < 3) ms = ms * 10 + (text[pos] - '0');
      }
      if (digits == 0) return std::nullopt;
      for (; digits < 3; ++digits) ms *= 10;
    }
    if (pos + 1 != text.size() || (text[pos] != 'Z' && text[pos] != 'z')) return std::nullopt;
  }
  std::chrono::year_month_day date{std::chrono::year(y), std::chrono::month(static_cast<unsigned>(mo)),
                                   std::chrono::day(static_cast<unsigned>(d))};
  if (!date.ok() || h > 23 || mi > 59 || s > 59) return std::nullopt;
  auto t = std::chrono::sys_days(date) + std::chrono::hours(h) + std::chrono::minutes(mi) +
           std::chrono::seconds(s) + Duration(ms);
  return std::chrono::time_point_cast<Duration>(t);
}

}  // namespace rmaflow
