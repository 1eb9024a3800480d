// HTTP requests and responses as plain values, shared by HttpServer and HttpClient. No Beast or
// Asio type appears here, so the API, the HTTP adapter and the CLI include this without them.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rmaflow::net {

// Header fields in arrival order. Names compare case-insensitively, as HTTP requires.
class HttpHeaders {
 public:
  struct Field {
    std::string name;
    std::string value;
  };

  // The value of the first field named `name`, or nullopt.
  std::optional<std::string_view> find(std::string_view name) const;
  // find(), or "" when absent.
  std::string_view get(std::string_view name) const { return find(name).value_or(""); }
  // Replaces every field named `name` with one.
  void set(std::string name, std::string value);
  void add(std::string name, std::string value);

  auto begin() const { return fields_.begin(); }
  auto end() const { return fields_.end(); }
  bool empty() const { return fields_.empty(); }

 private:
  std::vector<Field> fields_;
};

struct HttpRequest {
  std::string method = "GET";  // as sent: "GET", "POST", ...
  std::string target = "/";    // origin form: path and query, e.g. "/v1/instances?limit=10"
  HttpHeaders headers;         // Host, Content-Length and Connection are managed by the sender
  std::string body;
};

struct HttpResponse {
  int status = 200;
  HttpHeaders headers;  // Content-Length and Connection are managed by the sender
  std::string body;

  // A response with `body` and its Content-Type.
  static HttpResponse with_body(int status, std::string body, std::string content_type);
};

// The reason phrase of a status code ("Not Found"), "Unknown" for codes HTTP does not name.
std::string_view reason_phrase(int status);

}  // namespace rmaflow::net
