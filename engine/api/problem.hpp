// Problems (RFC 9457): what every 4xx and 5xx answer of the API carries, as
// application/problem+json: a type, a title, the status, one sentence of detail and, when a
// field of the request body is at fault, its JSON Pointer.
#pragma once

#include <exception>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "engine/net/http_message.hpp"
#include "rmaflow/errors.hpp"

namespace rmaflow::api {

struct Problem {
  int status = 500;
  std::string type;     // a slug from the table in problem.cpp, e.g. "invalid-field"
  std::string detail;   // one sentence about this occurrence, naming what is at fault
  std::string pointer;  // JSON Pointer (RFC 6901) of the bad field of the body; empty when none
  nlohmann::json extra = nlohmann::json::object();  // more members, e.g. "errors"
};

Problem make_problem(int status, std::string type, std::string detail, std::string pointer = {});

// The problem an engine Error stands for: not_found 404, conflict and refused 409,
// invalid_input (with its field under /input), invalid_argument and invalid_definition 422,
// storage 503 (the engine stopped), anything else 500.
Problem problem_from(const Error& error);

// {"type": "urn:rmaflow:problem:<slug>", "title", "status", "detail", "pointer"?, ...extra}
nlohmann::json problem_json(const Problem& problem);
// The answer for `problem`; a 503 carries Retry-After: kRetryAfterSeconds.
net::HttpResponse problem_response(const Problem& problem);
inline constexpr int kRetryAfterSeconds = 5;

// The server's own refusals before routing (malformed HTTP, limits, timeouts) as problems.
net::HttpResponse transport_problem(int status, std::string_view detail);

// Thrown by route handlers; the router answers with the problem.
class ProblemError : public std::exception {
 public:
  explicit ProblemError(Problem problem) : problem_(std::move(problem)) {}
  const Problem& problem() const noexcept { return problem_; }
  const char* what() const noexcept override { return problem_.detail.c_str(); }

 private:
  Problem problem_;
};

[[noreturn]] void fail(int status, std::string type, std::string detail, std::string pointer = {});

// "/a/b~1c" for the path {"a", "b/c"} (RFC 6901 escaping).
std::string json_pointer(std::initializer_list<std::string_view> path);

}  // namespace rmaflow::api
