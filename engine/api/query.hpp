// A request target split for routing: the decoded path segments and the query parameters,
// read strictly (an unknown parameter or a malformed value is a 400 naming the parameter).
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "rmaflow/time.hpp"

namespace rmaflow::api {

struct Target {
  std::vector<std::string> segments;  // "/v1/instances/X" -> {"v1", "instances", "X"}
  std::map<std::string, std::string> query;
  // Throws ProblemError(400) when `target` is not an origin-form target, repeats a parameter,
  // or decodes to a segment or parameter that is not UTF-8 or is longer than kMaxKeyBytes.
  static Target parse(const std::string& target);
};

// The query parameters of one request, taken one by one; finish() refuses the rest.
// Throws the 400 invalid-parameter problem naming `name`, with `why` as its detail.
[[noreturn]] void bad_parameter(const std::string& name, const std::string& why);

class QueryParams {
 public:
  explicit QueryParams(const std::map<std::string, std::string>& query) : query_(query) {}

  std::optional<std::string> text(const std::string& name);
  // A comma-separated list; empty items are refused.
  std::vector<std::string> list(const std::string& name);
  std::optional<std::int64_t> integer(const std::string& name, std::int64_t min, std::int64_t max);
  std::optional<bool> boolean(const std::string& name);
  // A UTC time ("2026-01-31T12:00:00Z") or date ("2026-01-31"): rmaflow::parse_time().
  std::optional<TimePoint> time(const std::string& name);
  // Every parameter named `prefix` + something (attr.customer_id=C-105): (something, value).
  std::vector<std::pair<std::string, std::string>> prefixed(const std::string& prefix);
  void finish() const;

 private:
  const std::map<std::string, std::string>& query_;
  std::set<std::string> taken_;
};

}  // namespace rmaflow::api
