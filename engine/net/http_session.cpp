#include "engine/net/http_session.hpp"

#include <algorithm>
#include <array>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

namespace rmaflow::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using boost::system::error_code;

namespace {

// How long a connection closed after an error keeps reading what the client still sends.
constexpr std::chrono::milliseconds kLinger{1000};
constexpr std::size_t kReadChunk = 4096;

}  // namespace

Responder::State::~State() {
  once([](HttpSession& session) { session.abandoned(); });
}

Producer ready(HttpResponse response) {
  return [response = std::move(response)]() mutable { return std::move(response); };
}

void Responder::operator()(HttpResponse response) const {
  produce(ready(std::move(response)));
}

void Responder::produce(Producer produce) const {
  state_->once([&](HttpSession& session) { session.respond(std::move(produce)); });
}

HttpSession::HttpSession(asio::ip::tcp::socket socket, Context context)
    : socket_(std::move(socket)), timer_(socket_.get_executor()), context_(std::move(context)) {}

void HttpSession::start(std::optional<int> refuse_status) {
  asio::dispatch(socket_.get_executor(), [self = shared_from_this(), refuse_status] {
    if (refuse_status) {
      self->fail(*refuse_status, "the server holds as many connections as it may; try again later");
    } else {
      self->await_request();
    }
  });
}

void HttpSession::shut_down() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    self->closing_ = true;
    if (self->state_ == State::idle) self->close();
  });
}

void HttpSession::force_close(std::function<void()> then) {
  asio::post(socket_.get_executor(), [self = shared_from_this(), then = std::move(then)] {
    self->close();
    if (then) then();
  });
}

void HttpSession::respond(Producer produce) {
  asio::post(socket_.get_executor(), [self = shared_from_this(), produce = std::move(produce)] {
    // Built even when the connection closed meanwhile (write() then drops it): what the
    // producer counts and logs of the request is kept.
    HttpResponse response;
    try {
      response = produce();
    } catch (...) {
      response =
          self->context_.options->error_response(500, "the server failed to build the answer");
    }
    self->write(std::move(response));
  });
}

void HttpSession::abandoned() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    self->write(self->context_.options->error_response(500, "the request was not answered"));
  });
}

// ---- reading ---------------------------------------------------------------------------

bool HttpSession::idle(std::chrono::steady_clock::time_point* since) const {
  auto ticks = idle_since_.load();
  if (ticks < 0) return false;
  if (since != nullptr) {
    *since = std::chrono::steady_clock::time_point(std::chrono::steady_clock::duration(ticks));
  }
  return true;
}

void HttpSession::await_request() {
  state_ = State::idle;
  if (closing_) return close();
  if (buffer_.size() > 0) return read_header();  // the next request arrived with the last one
  // A connection that has sent nothing yet gets no more time than a slow header would.
  const auto& options = *context_.options;
  arm(served_ ? options.idle_timeout : std::min(options.idle_timeout, options.header_timeout));
  idle_since_ = std::chrono::steady_clock::now().time_since_epoch().count();
  socket_.async_read_some(buffer_.prepare(kReadChunk),
                          [self = shared_from_this()](error_code ec, std::size_t n) {
                            self->idle_since_ = -1;
                            self->disarm();
                            self->buffer_.commit(n);
                            if (ec || self->closing_) return self->close();
                            self->read_header();
                          });
}

void HttpSession::read_header() {
  state_ = State::reading;
  const auto& options = *context_.options;
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(options.max_header_bytes));
  parser_->body_limit(options.max_body_bytes);
  arm(options.header_timeout);
  http::async_read_header(socket_, buffer_, *parser_,
                          [self = shared_from_this()](error_code ec, std::size_t) {
                            self->disarm();
                            if (ec) {
                              if (int status = self->status_for(ec)) {
                                return self->fail(status, ec == http::error::body_limit
                                                              ? "the request body is too large"
                                                              : "the request is malformed");
                              }
                              return self->close();
                            }
                            self->read_body();
                          });
}

void HttpSession::read_body() {
  if (parser_->is_done()) return dispatch();
  auto on_body = [self = shared_from_this()](error_code ec, std::size_t) {
    self->disarm();
    if (ec) {
      int status = self->status_for(ec);
      if (status == 0) return self->close();
      return self->fail(status, status == 413   ? "the request body is too large"
                                : status == 408 ? "the request body did not arrive in time"
                                                : "the request body is malformed");
    }
    self->dispatch();
  };
  auto read = [self = shared_from_this(), on_body = std::move(on_body)](error_code ec,
                                                                        std::size_t) mutable {
    if (ec) return self->close();
    self->arm(self->context_.options->body_timeout);
    http::async_read(self->socket_, self->buffer_, *self->parser_, std::move(on_body));
  };
  // A client that asked before sending its body ("Expect: 100-continue") is told to go on.
  if (beast::iequals(parser_->get()[http::field::expect], "100-continue")) {
    static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    arm(context_.options->write_timeout);
    asio::async_write(socket_, asio::buffer(kContinue.data(), kContinue.size()), std::move(read));
    return;
  }
  read(error_code{}, 0);
}

int HttpSession::status_for(const error_code& ec) const {
  if (timed_out_) return 408;
  if (ec == http::error::end_of_stream || ec == http::error::partial_message) return 0;
  if (ec == http::error::header_limit) return 431;
  if (ec == http::error::body_limit) return 413;
  if (ec.category() == error_code(http::error::bad_target).category()) return 400;
  return 0;  // the connection failed (reset, closed, cancelled): nobody to answer
}

void HttpSession::dispatch() {
  auto message = parser_->release();
  parser_.reset();
  HttpRequest request;
  request.method = std::string(message.method_string());
  request.target = std::string(message.target());
  for (const auto& field : message) {
    request.headers.add(std::string(field.name_string()), std::string(field.value()));
  }
  request.body = std::move(message.body());
  keep_alive_ = message.keep_alive();
  state_ = State::handling;

  auto state = std::make_shared<Responder::State>();
  state->gate = context_.gate;
  state->session = weak_from_this();
  Responder respond(std::move(state));
  try {
    (*context_.handler)(std::move(request), respond);
  } catch (...) {
    respond(context_.options->error_response(500, "the server failed to handle the request"));
  }
}

// ---- writing ---------------------------------------------------------------------------

void HttpSession::write(HttpResponse answer) {
  if (state_ != State::handling) return;  // closed meanwhile
  bool keep_alive = keep_alive_ && !closing_;
  served_ = true;
  send(std::move(answer), keep_alive, [self = shared_from_this(), keep_alive] {
    if (!keep_alive) return self->close();
    self->await_request();
  });
}

void HttpSession::fail(int status, std::string_view detail) {
  send(context_.options->error_response(status, detail), false,
       [self = shared_from_this()] { self->linger(); });
}

void HttpSession::send(HttpResponse answer, bool keep_alive, std::function<void()> then) {
  state_ = State::writing;
  auto& response = response_.emplace();
  response.version(11);
  response.result(static_cast<unsigned>(answer.status));
  for (const auto& field : answer.headers) response.insert(field.name, field.value);
  response.body() = std::move(answer.body);
  response.keep_alive(keep_alive);
  response.prepare_payload();
  arm(context_.options->write_timeout);
  http::async_write(
      socket_, response,
      [self = shared_from_this(), then = std::move(then)](error_code ec, std::size_t) {
        self->disarm();
        self->response_.reset();
        if (ec) return self->close();
        then();
      });
}

void HttpSession::linger() {
  error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  arm(kLinger);
  drain();
}

void HttpSession::drain() {
  buffer_.clear();
  socket_.async_read_some(buffer_.prepare(kReadChunk),
                          [self = shared_from_this()](error_code ec, std::size_t) {
                            if (ec) return self->close();
                            self->drain();
                          });
}

void HttpSession::close() {
  if (state_ == State::closed) return;
  state_ = State::closed;
  idle_since_ = -1;
  disarm();
  error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  context_.on_close(this);
}

// ---- deadlines -------------------------------------------------------------------------

void HttpSession::arm(std::chrono::milliseconds after) {
  auto generation = ++timer_generation_;
  timed_out_ = false;
  timer_.expires_after(after);
  timer_.async_wait([self = shared_from_this(), generation](error_code ec) {
    if (ec || generation != self->timer_generation_) return;
    self->timed_out_ = true;
    error_code ignored;
    self->socket_.cancel(ignored);
  });
}

void HttpSession::disarm() {
  ++timer_generation_;
  timer_.cancel();
}

}  // namespace rmaflow::net
