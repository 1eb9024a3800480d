#include "engine/api/query.hpp"

#include <charconv>

#include <boost/url/parse.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "engine/api/problem.hpp"
#include "engine/support/limits.hpp"
#include "engine/support/utf8.hpp"

namespace rmaflow::api {

void bad_parameter(const std::string& name, const std::string& why) {
  Problem problem = make_problem(400, "invalid-parameter", why);
  problem.extra["parameter"] = name;
  throw ProblemError(std::move(problem));
}

Target Target::parse(const std::string& target) {
  auto url = boost::urls::parse_origin_form(target);
  if (!url) fail(400, "malformed-request", "the request target is not a valid path");
  Target out;
  for (auto segment : url->segments()) {
    if (segment.empty()) continue;
    // Decoded, a segment may hold any byte (%FF): it names an instance, a workflow or a
    // signal, so it must be text the engine can store.
    if (auto why = name_problem("a segment of the request path", segment, kMaxKeyBytes)) {
      fail(400, "malformed-request", *why);
    }
    out.segments.push_back(segment);
  }
  for (auto param : url->params()) {
    if (!is_valid_utf8(param.key)) {
      fail(400, "malformed-request", "a query parameter's name is not valid UTF-8");
    }
    if (auto why = name_problem(fmt::format("the query parameter {}", param.key), param.value,
                                kMaxKeyBytes)) {
      bad_parameter(param.key, *why);
    }
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

std::vector<std::pair<std::string, std::string>> QueryParams::prefixed(const std::string& prefix) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [name, value] : query_) {
    if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) continue;
    taken_.insert(name);
    out.emplace_back(name.substr(prefix.size()), value);
  }
  taken_.insert(prefix + "NAME");  // for the list of what it takes
  return out;
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
    bad_parameter(name, fmt::format("{} must be a UTC time such as 2026-01-31T12:00:00Z or a "
                                    "date such as 2026-01-31, not \"{}\"",
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

}  // namespace rmaflow::api
