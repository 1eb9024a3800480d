#include "engine/api/problem.hpp"

#include <array>
#include <utility>

#include <fmt/format.h>

#include "engine/support/utf8.hpp"

namespace rmaflow::api {

namespace {

// Every problem type the API answers with, and its title (the same for every occurrence).
// docs/api.md lists them; the types are part of the API's contract.
constexpr std::array<std::pair<std::string_view, std::string_view>, 22> kTitles{{
    {"malformed-request", "The request is not valid HTTP"},
    {"invalid-header", "A request header is invalid"},
    {"malformed-json", "The request body is not valid JSON"},
    {"unsupported-media-type", "The request body has a content type this endpoint does not take"},
    {"invalid-field", "A field of the request body is invalid"},
    {"unknown-field", "The request body has a field this endpoint does not take"},
    {"invalid-parameter", "A query parameter is invalid"},
    {"invalid-input", "The input fails the workflow's input schema"},
    {"invalid-definition", "The workflow definition is invalid"},
    {"unauthorized", "A valid bearer token is required"},
    {"forbidden", "The token's role may not do this"},
    {"not-found", "No such resource"},
    {"method-not-allowed", "The resource does not take this method"},
    {"conflict", "The request conflicts with what is stored"},
    {"refused", "The instance's state does not allow this"},
    {"graph-too-large", "The graph is too costly to lay out as SVG"},
    {"body-too-large", "The request body is too large"},
    {"header-too-large", "The request header is too large"},
    {"request-timeout", "The request did not arrive in time"},
    {"unavailable", "The service is unavailable"},
    {"busy", "The server takes no new work for now; send it again later"},
    {"internal", "The server failed"},
}};

std::string_view title_of(std::string_view type) {
  for (const auto& [slug, title] : kTitles)
    if (slug == type) return title;
  return "Error";
}

}  // namespace

Problem make_problem(int status, std::string type, std::string detail, std::string pointer) {
  return Problem{status, std::move(type), std::move(detail), std::move(pointer),
                 nlohmann::json::object()};
}

void fail(int status, std::string type, std::string detail, std::string pointer) {
  throw ProblemError(make_problem(status, std::move(type), std::move(detail), std::move(pointer)));
}

Problem problem_from(const Error& error) {
  std::string detail = error.what();
  // An argument of the request at fault: the body's field, whatever the code says.
  if (const auto* argument = dynamic_cast<const ArgumentError*>(&error)) {
    return make_problem(422, "invalid-field", detail, "/" + argument->field());
  }
  switch (error.code()) {
    case Errc::not_found:
      return make_problem(404, "not-found", detail);
    case Errc::conflict: {
      const auto* differs = dynamic_cast<const InputConflict*>(&error);
      return make_problem(409, "conflict", detail,
                          differs != nullptr ? "/input" + differs->pointer() : std::string());
    }
    case Errc::refused:
      return make_problem(409, "refused", detail);
    case Errc::invalid_input: {
      const auto* invalid = dynamic_cast<const InvalidInput*>(&error);
      auto problem = make_problem(422, "invalid-input", detail,
                                  "/input" + (invalid != nullptr ? invalid->pointer() : std::string()));
      if (invalid != nullptr) {
        auto errors = nlohmann::json::array();
        for (const auto& v : invalid->violations()) {
          errors.push_back({{"pointer", "/input" + v.pointer}, {"message", v.message}});
        }
        problem.extra["errors"] = std::move(errors);
      }
      return problem;
    }
    case Errc::invalid_argument:
      return make_problem(422, "invalid-field", detail);
    case Errc::invalid_definition:
      return make_problem(422, "invalid-definition", detail);
    case Errc::storage:
      return make_problem(503, "unavailable", detail);
    case Errc::busy:
      return make_problem(503, "busy", detail);
    case Errc::adapter_config:
    case Errc::io:
      break;
  }
  return make_problem(500, "internal", detail);
}

nlohmann::json problem_json(const Problem& problem) {
  nlohmann::json body = {{"type", fmt::format("urn:rmaflow:problem:{}", problem.type)},
                         {"title", title_of(problem.type)},
                         {"status", problem.status},
                         // A detail may quote what a request carried: never let a byte
                         // that is not UTF-8 make the answer itself fail.
                         {"detail", quote_utf8(problem.detail)}};
  if (!problem.pointer.empty()) body["pointer"] = quote_utf8(problem.pointer);
  for (const auto& [key, value] : problem.extra.items()) body[key] = value;
  return body;
}

net::HttpResponse problem_response(const Problem& problem) {
  auto response = net::HttpResponse::with_body(problem.status, problem_json(problem).dump(),
                                               "application/problem+json");
  // Unavailable is temporary (commits being retried, connections all busy): say when to retry.
  if (problem.status == 503) response.headers.set("Retry-After", std::to_string(kRetryAfterSeconds));
  return response;
}

net::HttpResponse transport_problem(int status, std::string_view detail) {
  std::string type = status == 400   ? "malformed-request"
                     : status == 408 ? "request-timeout"
                     : status == 413 ? "body-too-large"
                     : status == 431 ? "header-too-large"
                     // every connection busy: the request was not even read
                     : status == 503 ? "busy"
                                     : "internal";
  return problem_response(make_problem(status, std::move(type), std::string(detail)));
}

std::string json_pointer(std::initializer_list<std::string_view> path) {
  std::string out;
  for (auto part : path) {
    out += '/';
    for (char c : part) {
      if (c == '~') {
        out += "~0";
      } else if (c == '/') {
        out += "~1";
      } else {
        out += c;
      }
    }
  }
  return out;
}

}  // namespace rmaflow::api
