// HttpServer: an HTTP/1.1 server on a local endpoint, for the API (`rmaflow serve`) and for the
// mock services tests talk to.
//
// Each request is handed to one handler with a Responder; the handler answers through it at once
// or later, from any thread (an API handler answers once the engine has committed the change),
// so no thread is held while a request waits. The server guards itself before any handler runs:
// it bounds header and body sizes, gives a request a deadline for its header and another for its
// body, caps the connections it holds (closing idle ones first to make room, also when the
// process holds every file it may), keeps
// connections alive between requests, and answers
// malformed HTTP with an error instead of failing. stop() is graceful: it stops accepting,
// closes idle connections and lets requests in progress finish.
//
// Thread-safety: start(), port() and stop() may be called from any thread, but not concurrently
// with each other. The handler runs on the server's I/O threads, several at a time.
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

class Responder;
using HttpHandler = std::function<void(HttpRequest request, Responder respond)>;
// An answer built later: run on the connection's own I/O thread just before it is written.
using Producer = std::function<HttpResponse()>;
// A producer of an answer already built.
Producer ready(HttpResponse response);

// The answer to a request the server refuses before any handler sees it: status 400 (malformed),
// 408 (header or body deadline passed), 413 (body too large), 431 (header too large) or 503
// (too many connections); `detail` says why in one sentence.
using ErrorResponder = std::function<HttpResponse(int status, std::string_view detail)>;

// An address and a port to listen on, read from "ADDRESS:PORT" ("[::1]:8080" for IPv6).
struct ListenAddress {
  std::string address;
  std::uint16_t port = 0;
};
// Throws Error(invalid_argument) naming `option` and the text when it is not ADDRESS:PORT with
// a port from 0 to 65535.
ListenAddress parse_listen(const std::string& option, const std::string& text);

struct HttpServerOptions {
  std::string address = "127.0.0.1";  // a numeric address
  std::uint16_t port = 0;             // 0: the system picks a free port (see HttpServer::port())
  std::size_t threads = 2;            // I/O threads; handlers run on them
  std::size_t max_body_bytes = 1 << 20;
  std::size_t max_header_bytes = 16 << 10;
  // From the first byte of a request to the end of its header, and from there to the end of
  // its body. A client too slow for either gets 408 and the connection closes.
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds body_timeout{30'000};
  // How long a kept-alive connection may sit between requests, and a response may take to write.
  // A new connection must send its first byte within min(idle_timeout, header_timeout).
  std::chrono::milliseconds idle_timeout{60'000};
  std::chrono::milliseconds write_timeout{30'000};
  // Connections held at once. When all are taken, the one that has waited longest for a
  // request is closed to make room; only when none waits is the newcomer answered 503.
  std::size_t max_connections = 256;
  // stop() waits this long for requests in progress, then closes what is left.
  std::chrono::milliseconds drain_timeout{30'000};
  // When the process holds every file it may (EMFILE, ENFILE), a waiting connection cannot be
  // accepted: the connection that has waited longest for a request is closed to make room,
  // or, with none idle, the server tries again after this pause (the newcomer waits in the
  // listen queue) instead of failing again at once on a core of its own.
  std::chrono::milliseconds out_of_files_pause{100};
  // Told why (the system's words), on an I/O thread, when a connection could not be accepted
  // for want of a file: at most once a minute.
  std::function<void(std::string_view why)> on_out_of_files;
  ErrorResponder error_response;  // default: a plain-text body
};

class HttpServer {
 public:
  HttpServer(HttpServerOptions options, HttpHandler handler);
  // Stops (as stop()) if running.
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds, listens and starts the I/O threads. Throws Error(io) naming the endpoint when it
  // cannot listen there (address in use, not a local address, not numeric).
  void start();
  // The port it listens on (the one picked when options.port was 0). Valid after start().
  std::uint16_t port() const;
  // Stops accepting, closes idle connections, waits up to drain_timeout for requests in
  // progress to be answered and written (their connections then close), closes the rest, and
  // joins the I/O threads. Idempotent.
  void stop();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// How a handler answers its request. Copyable; all copies share one answer: the first call
// wins, later calls are ignored. When the last copy is destroyed unanswered the client gets 500,
// so a handler that loses a request cannot leave its connection hanging. Calls are safe from
// any thread, also after the server stopped (they are then dropped).
class Responder {
 public:
  struct State;
  explicit Responder(std::shared_ptr<State> state) : state_(std::move(state)) {}
  void operator()(HttpResponse response) const;
  // Answers with what `produce` returns, run on the connection's own I/O thread, so that an
  // answer that takes work to build wakes no other thread. It runs also when the connection
  // closed meanwhile (its answer is then dropped), not once the server has stopped. A producer
  // that throws answers 500.
  void produce(Producer produce) const;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace rmaflow::net
