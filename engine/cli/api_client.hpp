// The CLI's client of a running server's API. Every failure becomes one sentence: the server's
// own detail for a refusal (a problem+json answer), or what went wrong reaching it.
#pragma once

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "engine/cli/endpoint.hpp"
#include "rmaflow/errors.hpp"

namespace rmaflow::cli {

// A refusal from the server: its problem document is kept for commands that show more of it
// (deploy prints every error of an invalid workflow).
class ServerRefusal : public Error {
 public:
  ServerRefusal(Errc code, const std::string& message, nlohmann::json problem,
                std::chrono::seconds retry_after = {})
      : Error(code, message), problem_(std::move(problem)), retry_after_(retry_after) {}
  const nlohmann::json& problem() const { return problem_; }
  // The answer's Retry-After (a 503's), zero when it gave none.
  std::chrono::seconds retry_after() const { return retry_after_; }

 private:
  nlohmann::json problem_;
  std::chrono::seconds retry_after_;
};

struct ApiAnswer {
  int status = 0;
  nlohmann::json body;
};

class ApiClient {
 public:
  // Throws Error(invalid_argument) when the server is not an http:// URL.
  explicit ApiClient(const Endpoint& endpoint);

  // A 2xx answer, or throws ServerRefusal (4xx/5xx) or Error (unreachable, not JSON).
  ApiAnswer get(const std::string& path, const std::map<std::string, std::string>& query = {});
  // The same for a change. A refusal of type busy (the server takes no new work for now, and
  // stored nothing of the request) is sent again after the answer's Retry-After, for up to a
  // minute, each wait told on stderr, prefixed by `what` (which input) when given.
  ApiAnswer post(const std::string& path, const nlohmann::json& body, std::string_view what = {});

  // "a b/c" -> "a%20b%2Fc": for a value placed in a path segment or a query.
  static std::string encode(const std::string& text);

 private:
  ApiAnswer call(const std::string& method, const std::string& target, const std::string* body);

  std::string server_;
  std::string token_;
};

}  // namespace rmaflow::cli
