#include "engine/api/query.hpp"

#include <charconv>
#include <chrono>
#include <cstdio>

#include <boost/url/parse.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "engine/api/problem.hpp"

namespace rmaflow::api {

namespace {

[[noreturn]] void bad_parameter(const std::string& name, const std::string& why) {
  Problem problem = make_problem(400, "invalid-parameter", why);
  problem.extra["parameter"] = name;
  throw ProblemError(std::move(problem));
}

}  // namespace

Target Target::parse(const std::string& target) {
  auto url = boost::urls::parse_origin_form(target);
  if (!url) fail(400, "malformed-request", "the request target is not a valid path");
  Target out;
  for (auto segment : url->segments()) {
    if (!segment.empty()) out.segments.push_back(segment);
  }
  for (auto param : url->params()) {
    if (!out.query.emplace(param.key, param.value).second) {
      bad_parameter(param.key, fmt::format("the query parameter {} is given twice", param.key));
    }
  }
  return out;
}

std::optional<std::string> QueryParams::text(const std::string& name) {
  taken_.insert(name);
  auto it = query_.find(name);
  if (it == query_.end()) return std::nullopt;
  return it->second;
}

std::vector<std::string> QueryParams::list(const std::string& name) {
  std::vector<std::string> out;
  auto value = text(name);
  if (!value) return out;
  std::size_t start = 0;
  for (;;) {
    auto comma = value->find(',', start);
    auto item = value->substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (item.empty()) bad_parameter(name, fmt::format("{} has an empty item", name));
    out.push_back(item);
    if (comma == std::string::npos) return out;
    start = comma + 1;
  }
}

std::optional<std::int64_t> QueryParams::integer(const std::string& name, std::int64_t min,
                                                 std::int64_t max) {
  auto value = text(name);
  if (!value) return std::nullopt;
  std::int64_t n = 0;
  auto [end, ec] = std::from_chars(value->data(), value->data() + value->size(), n);
  if (ec != std::errc() || end != value->data() + value->size() || n < min || n > max) {
    bad_parameter(name, fmt::format("{} must be an integer from {} to {}, not \"{}\"", name, min,
                                    max, *value));
  }
  return n;
}

std::optional<bool> QueryParams::boolean(const std::string& name) {
  auto value = text(name);
  if (!value) return std::nullopt;
  if (*value == "true") return true;
  if (*value == "false") return false;
  bad_parameter(name, fmt::format("{} must be true or false, not \"{}\"", name, *value));
}

std::optional<TimePoint> QueryParams::time(const std::string& name) {
  auto value = text(name);
  if (!value) return std::nullopt;
  auto t = parse_time(*value);
  if (!t) {
    bad_parameter(name, fmt::format("{} must be an RFC 3339 time such as 2026-01-31T12:00:00Z, "
                                    "not \"{}\"",
                                    name, *value));
  }
  return t;
}

void QueryParams::finish() const {
  for (const auto& [name, value] : query_) {
    if (taken_.count(name) == 0) {
      bad_parameter(name, fmt::format("this endpoint takes no query parameter {} (it takes: {})",
                                      name, fmt::join(taken_, ", ")));
    }
  }
}

std::optional<TimePoint> parse_time(const std::string& text) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &consumed) !=
          6 ||
      consumed != 19) {
    return std::nullopt;
  }
  using namespace std::chrono;
  year_month_day date{year(y), month(static_cast<unsigned>(mo)), day(static_cast<unsigned>(d))};
  if (!date.ok() || h > 23 || mi > 59 || s > 60) return std::nullopt;
  auto rest = std::string_view(text).substr(19);
  std::int64_t ms = 0;
  if (!rest.empty() && rest.front() == '.') {
    rest.remove_prefix(1);
    int digits = 0;
    while (!rest.empty() && std::isdigit(static_cast<unsigned char>(rest.front()))) {
      if (digits < 3) ms = ms * 10 + (rest.front() - '0');
      ++digits;
      rest.remove_prefix(1);
    }
    if (digits == 0) return std::nullopt;
    for (int i = digits; i < 3; ++i) ms *= 10;
  }
  // The offset is required: a time without one would mean whatever zone the server is in.
  std::int64_t offset_minutes = 0;
  if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':') {
    int oh = 0, om = 0;
    if (std::sscanf(std::string(rest.substr(1)).c_str(), "%2d:%2d", &oh, &om) != 2) {
      return std::nullopt;
    }
    offset_minutes = (rest[0] == '+' ? 1 : -1) * (oh * 60 + om);
  } else if (rest != "Z" && rest != "z") {
    return std::nullopt;
  }
  auto at = sys_days(date) + hours(h) + minutes(mi) + seconds(s) + milliseconds(ms) -
            minutes(offset_minutes);
  return TimePoint(duration_cast<milliseconds>(at.time_since_epoch()));
}

}  // namespace rmaflow::api
