// HttpClient: HTTP/1.1 requests to a server, for the HTTP adapter (called from the engine
// thread, which it must never block), the CLI and tests.
//
// async_request() returns at once and reports once through a callback; request() is the
// blocking convenience on top of it. Every request has a total deadline, from its start to the
// end of the response body. Connections are kept alive and reused per endpoint; a request
// that fails on a reused connection before any byte of the answer arrived (the server closed
// it while idle) is sent once more on a new connection, which means a request may reach the
// server twice: send an Idempotency-Key with anything that must not have two effects.
//
// Thread-safety: every method may be called from any thread. Callbacks run on the client's
// own I/O thread, one at a time; they must not block and must not call request().
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "engine/net/http_message.hpp"

namespace rmaflow::net {

// Why a request got no answer, so that callers can map each to their own errors.
enum class HttpErrc {
  none,       // answered (any status code)
  refused,    // nothing listens there (connection refused)
  timeout,    // the deadline passed before the whole answer arrived
  closed,     // the connection broke or was closed before the whole answer arrived
  protocol,   // the answer is not valid HTTP, or larger than allowed
  network,    // any other failure to reach the server (no such host, unreachable)
  cancelled,  // the client was destroyed first
};

std::string_view to_string(HttpErrc code);

struct HttpResult {
  HttpErrc error = HttpErrc::none;
  std::string message;    // one sentence naming the server, when error != none
  HttpResponse response;  // when error == none
  bool ok() const { return error == HttpErrc::none; }
};

struct HttpEndpoint {
  std::string host;  // a name or a numeric address
  std::uint16_t port = 80;
  std::string to_string() const;
};

// An http:// URL split into where to connect and what to ask for ("/path?query", "/" when
// empty). Throws Error(invalid_argument) naming the URL when it is not an http:// URL.
struct HttpUrl {
  HttpEndpoint endpoint;
  std::string target;
  static HttpUrl parse(std::string_view url);
};

struct HttpClientOptions {
  std::size_t max_response_bytes = 8 << 20;
  std::size_t max_idle_per_endpoint = 16;  // kept-alive connections held for reuse
};

class HttpClient {
 public:
  using Callback = std::function<void(HttpResult)>;

  explicit HttpClient(HttpClientOptions options = {});
  // Requests still running end with HttpErrc::cancelled (their callbacks run) before it returns.
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends `request` (its target is the path and query) to `to`. `done` is called exactly once,
  // on the client's thread, never before async_request() returned.
  void async_request(const HttpEndpoint& to, HttpRequest request, std::chrono::milliseconds timeout,
                     Callback done);
  // The same, waiting for the result. Throws Error(invalid_argument) when called on the
  // client's own thread (from a callback), where it would wait forever.
  HttpResult request(const HttpEndpoint& to, HttpRequest request,
                     std::chrono::milliseconds timeout);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rmaflow::net
