// One server connection: reads requests one after another (keep-alive), hands each to the
// handler, writes its answer. Internal to HttpServer.
//
// Everything a session does runs on its strand. Its deadlines are its own timer cancelling the
// socket's operation (not a closed socket), so a request that is too slow still gets its 408.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>

#include "engine/net/http_server.hpp"

namespace rmaflow::net {

// Closed by the server before its I/O context goes, so that no answer is posted into a
// context that no longer exists.
struct ResponderGate {
  std::mutex mu;
  bool open = true;
};

class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  struct Context {
    const HttpServerOptions* options;
    const HttpHandler* handler;
    std::shared_ptr<ResponderGate> gate;
    std::function<void(HttpSession*)> on_close;  // called once, on the strand, when it closes
  };

  HttpSession(boost::asio::ip::tcp::socket socket, Context context);

  // Starts reading requests; or, when `refuse_status` is set, answers it (503) and closes.
  void start(std::optional<int> refuse_status = std::nullopt);
  // The server is stopping: an idle connection closes now; a request in progress is finished
  // and its connection closes after the answer. Posted to the strand.
  void shut_down();
  // Closes now, whatever it is doing. Posted to the strand; `then`, when given, runs there
  // right after the close (its socket's file is free by then).
  void force_close(std::function<void()> then = {});
  // The handler's answer, built on the strand (Responder::produce), from any thread; written
  // only while the session waits for one.
  void respond(Producer produce);
  // The handler dropped its request unanswered: answers 500. From any thread.
  void abandoned();
  // True while it waits for a request (none begun yet, or between kept-alive requests); then
  // closing it loses nothing. `since` is when it began to wait. From any thread.
  bool idle(std::chrono::steady_clock::time_point* since = nullptr) const;

 private:
  enum class State { idle, reading, handling, writing, closed };
  using Parser = boost::beast::http::request_parser<boost::beast::http::string_body>;

  void await_request();
  void read_header();
  void read_body();
  void dispatch();
  void write(HttpResponse response);
  // Writes an error answer, then closes gracefully (see linger()).
  void fail(int status, std::string_view detail);
  // Writes `answer`, then runs `then` (or closes, when the write fails).
  void send(HttpResponse answer, bool keep_alive, std::function<void()> then);
  // Shuts down sending and reads what the client still sends for a moment before closing, so
  // that the client reads the answer instead of a reset.
  void linger();
  void drain();
  void close();
  // Cancels the socket's pending operation when `after` passes; a later arm() or disarm()
  // replaces it.
  void arm(std::chrono::milliseconds after);
  void disarm();
  // The status to answer a failed read with; 0 when the connection should just close.
  int status_for(const boost::system::error_code& ec) const;

  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer timer_;
  Context context_;
  boost::beast::flat_buffer buffer_;
  std::optional<Parser> parser_;
  std::optional<boost::beast::http::response<boost::beast::http::string_body>> response_;
  State state_ = State::idle;
  bool keep_alive_ = false;
  bool closing_ = false;
  bool timed_out_ = false;
  bool served_ = false;  // a request was answered on it (it is kept alive)
  std::uint64_t timer_generation_ = 0;
  std::atomic<std::int64_t> idle_since_{-1};  // steady-clock ticks while idle, else -1
};

// What every copy of a Responder shares.
struct Responder::State {
  std::shared_ptr<ResponderGate> gate;
  std::weak_ptr<HttpSession> session;
  bool answered = false;  // under gate->mu

  ~State();
  // Runs `deliver` with the session if the server is still there and nobody answered yet.
  template <typename Deliver>
  void once(Deliver deliver) {
    std::lock_guard lock(gate->mu);
    if (answered) return;
    answered = true;
    if (!gate->open) return;
    if (auto s = session.lock()) deliver(*s);
  }
};

}  // namespace rmaflow::net
