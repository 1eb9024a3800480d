#include "engine/net/client_exchange.hpp"

#include <fmt/format.h>

#include <boost/asio/connect.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

namespace rmaflow::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using boost::system::error_code;
using tcp = asio::ip::tcp;

// ---- pool ------------------------------------------------------------------------------

std::optional<tcp::socket> ConnectionPool::take(const std::string& endpoint) {
  auto it = idle_.find(endpoint);
  if (it == idle_.end() || it->second.empty()) return std::nullopt;
  tcp::socket socket = std::move(it->second.back());
  it->second.pop_back();
  return socket;
}

void ConnectionPool::give(const std::string& endpoint, tcp::socket socket) {
  auto& idle = idle_[endpoint];
  idle.push_back(std::move(socket));
  if (idle.size() > max_) idle.pop_front();  // the oldest is the likeliest to be closed
}

// ---- one exchange ----------------------------------------------------------------------

namespace {

bool connection_lost(const error_code& ec) {
  return ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe || ec == asio::error::connection_aborted ||
         ec == http::error::end_of_stream || ec == http::error::partial_message;
}

bool is_http_error(const error_code& ec) {
  return ec.category() == error_code(http::error::bad_target).category();
}

}  // namespace

ClientExchange::ClientExchange(ClientContext& context, HttpEndpoint to, HttpRequest request,
                               std::chrono::milliseconds timeout, HttpClient::Callback done)
    : context_(context),
      to_(std::move(to)),
      key_(to_.to_string()),
      request_(std::move(request)),
      timeout_(timeout),
      done_(std::move(done)),
      resolver_(context.io),
      socket_(context.io),
      deadline_(context.io) {}

void ClientExchange::start() {
  if (context_.shutting_down) {
    return finish(error(HttpErrc::cancelled, "the client shut down before it was sent"));
  }
  context_.live[this] = weak_from_this();
  deadline_.expires_after(timeout_);
  deadline_.async_wait([self = shared_from_this()](error_code ec) {
    if (ec || self->finished_) return;
    self->timed_out_ = true;
    self->resolver_.cancel();
    error_code ignored;
    self->socket_.close(ignored);
  });
  if (auto idle = context_.pool.take(key_)) {
    socket_ = std::move(*idle);
    reused_ = true;
    return write();
  }
  connect();
}

void ClientExchange::cancel() {
  cancelled_ = true;
  resolver_.cancel();
  deadline_.cancel();
  error_code ignored;
  socket_.close(ignored);
}

void ClientExchange::connect() {
  reused_ = false;
  error_code ignored;
  socket_.close(ignored);
  error_code not_numeric;
  auto address = asio::ip::make_address(to_.host, not_numeric);
  if (!not_numeric) {
    socket_.async_connect(tcp::endpoint(address, to_.port),
                          [self = shared_from_this()](error_code ec) {
                            if (ec) return self->failed(ec, false);
                            self->write();
                          });
    return;
  }
  resolver_.async_resolve(
      to_.host, std::to_string(to_.port),
      [self = shared_from_this()](error_code ec, tcp::resolver::results_type results) {
        if (ec) return self->failed(ec, true);
        asio::async_connect(self->socket_, results, [self](error_code ec, const tcp::endpoint&) {
          if (ec) return self->failed(ec, false);
          self->write();
        });
      });
}

void ClientExchange::write() {
  auto& message = message_.emplace();
  if (auto verb = http::string_to_verb(request_.method); verb != http::verb::unknown) {
    message.method(verb);
  } else {
    message.method_string(request_.method);
  }
  message.target(request_.target.empty() ? "/" : request_.target);
  message.version(11);
  message.set(http::field::host, key_);
  for (const auto& field : request_.headers) message.insert(field.name, field.value);
  message.body() = request_.body;
  message.keep_alive(true);
  message.prepare_payload();
  http::async_write(socket_, message, [self = shared_from_this()](error_code ec, std::size_t) {
    if (ec) return self->failed(ec, false);
    self->read();
  });
}

void ClientExchange::read() {
  buffer_.clear();
  auto& parser = parser_.emplace();
  parser.body_limit(context_.options.max_response_bytes);
  http::async_read(
      socket_, buffer_, parser, [self = shared_from_this()](error_code ec, std::size_t) {
        if (ec) return self->failed(ec, false);
        auto message = self->parser_->release();
        HttpResult result;
        result.response.status = static_cast<int>(message.result_int());
        for (const auto& field : message) {
          result.response.headers.add(std::string(field.name_string()), std::string(field.value()));
        }
        result.response.body = std::move(message.body());
        if (message.keep_alive() && self->buffer_.size() == 0 && !self->context_.shutting_down) {
          self->context_.pool.give(self->key_, std::move(self->socket_));
        }
        self->finish(std::move(result));
      });
}

void ClientExchange::failed(error_code ec, bool resolving) {
  if (finished_) return;
  if (cancelled_) return finish(error(HttpErrc::cancelled, "the client shut down first"));
  if (timed_out_) {
    return finish(
        error(HttpErrc::timeout, fmt::format("no answer within {} ms", timeout_.count())));
  }
  bool nothing_read = !parser_ || !parser_->got_some();
  if (reused_ && !resent_ && nothing_read && connection_lost(ec)) {
    resent_ = true;  // the server had closed the idle connection; nothing reached it
    return connect();
  }
  if (ec == asio::error::connection_refused) {
    return finish(error(HttpErrc::refused, "nothing listens there (connection refused)"));
  }
  if (resolving) {
    return finish(
        error(HttpErrc::network, fmt::format("cannot resolve the host: {}", ec.message())));
  }
  if (connection_lost(ec)) {
    return finish(error(HttpErrc::closed, "the connection closed before the whole answer arrived"));
  }
  if (is_http_error(ec)) {
    return finish(
        error(HttpErrc::protocol,
              fmt::format("the answer is not valid HTTP or too large ({})", ec.message())));
  }
  finish(error(HttpErrc::network, ec.message()));
}

HttpResult ClientExchange::error(HttpErrc code, std::string why) const {
  HttpResult result;
  result.error = code;
  result.message = fmt::format("{} http://{}{}: {}", request_.method, key_, request_.target, why);
  return result;
}

void ClientExchange::finish(HttpResult result) {
  if (finished_) return;
  finished_ = true;
  deadline_.cancel();
  context_.live.erase(this);
  auto done = std::move(done_);
  try {
    done(std::move(result));
  } catch (...) {
    // A callback that throws broke its contract; the client's thread must go on serving the
    // other requests.
  }
}

}  // namespace rmaflow::net
