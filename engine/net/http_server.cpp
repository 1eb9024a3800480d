#include "engine/net/http_server.hpp"

#include <fmt/format.h>
#include <poll.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <condition_variable>
#include <thread>
#include <unordered_map>
#include <vector>

#include "engine/net/http_session.hpp"
#include "engine/support/threads.hpp"
#include "rmaflow/errors.hpp"

namespace rmaflow::net {

namespace asio = boost::asio;
using boost::system::error_code;
using tcp = asio::ip::tcp;

ListenAddress parse_listen(const std::string& option, const std::string& text) {
  auto colon = text.rfind(':');
  auto fail = [&] {
    return Error(Errc::invalid_argument,
                 fmt::format("{} must be ADDRESS:PORT such as 127.0.0.1:8080, not \"{}\"", option, text));
  };
  if (colon == std::string::npos || colon == 0) throw fail();
  auto host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  unsigned long port = 0;
  try {
    std::size_t used = 0;
    port = std::stoul(text.substr(colon + 1), &used);
    if (used != text.size() - colon - 1 || port > 65535) throw fail();
  } catch (const std::logic_error&) {
    throw fail();
  }
  return {host, static_cast<std::uint16_t>(port)};
}

namespace {

HttpResponse plain_error(int status, std::string_view detail) {
  return HttpResponse::with_body(status, std::string(detail) + "\n", "text/plain; charset=utf-8");
}

// How long stop() waits for connections it closed by force to finish closing.
constexpr std::chrono::milliseconds kForcedCloseWait{5000};
// How often on_out_of_files may be told.
constexpr std::chrono::seconds kOutOfFilesTold{60};

// An accept that failed because the process holds every file it may (EMFILE), or the system
// does (ENFILE): the connection stays in the listen queue, and accepting again at once fails
// again at once.
bool out_of_files(const error_code& ec) {
  return ec == asio::error::no_descriptors ||
         ec == boost::system::errc::too_many_files_open_in_system;
}

}  // namespace

class HttpServer::Impl {
 public:
  Impl(HttpServerOptions options, HttpHandler handler)
      : options_(std::move(options)), handler_(std::move(handler)) {
    if (!options_.error_response) options_.error_response = plain_error;
  }

  void start();
  void stop();
  std::uint16_t port() const { return port_; }

 private:
  void accept();
  void on_accept(error_code ec, tcp::socket socket);
  // After an accept failed for want of a file: with a connection waiting, closes the longest
  // idle connection and accepts once its file is free, or, with none idle, accepts again after
  // a pause; with none waiting, accepts when one comes. On accept_strand_.
  void make_room(const error_code& ec);
  void closed(HttpSession* session);
  // The session that has waited longest for a request, if any waits. Under mu_.
  std::shared_ptr<HttpSession> longest_idle();
  // Waits until no session is left or `deadline` passes; true when none is left.
  bool wait_for_sessions(std::chrono::steady_clock::time_point deadline);
  std::vector<std::shared_ptr<HttpSession>> snapshot();

  HttpServerOptions options_;
  HttpHandler handler_;
  // Declared first: sessions and handlers still queued in it go before it does.
  asio::io_context io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  asio::strand<asio::io_context::executor_type> accept_strand_ = asio::make_strand(io_);
  tcp::acceptor acceptor_{accept_strand_};
  asio::steady_timer accept_pause_{accept_strand_};
  std::optional<std::chrono::steady_clock::time_point> out_of_files_told_;  // on accept_strand_
  std::shared_ptr<ResponderGate> gate_ = std::make_shared<ResponderGate>();
  std::vector<std::thread> threads_;
  std::uint16_t port_ = 0;
  bool started_ = false;
  bool stopped_ = false;

  std::mutex mu_;
  std::condition_variable changed_;
  std::unordered_map<HttpSession*, std::shared_ptr<HttpSession>> sessions_;
  bool stopping_ = false;
};

void HttpServer::Impl::start() {
  if (started_) return;
  auto where = fmt::format("{}:{}", options_.address, options_.port);
  try {
    tcp::endpoint endpoint(asio::ip::make_address(options_.address), options_.port);
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen(asio::socket_base::max_listen_connections);
    port_ = acceptor_.local_endpoint().port();
  } catch (const boost::system::system_error& e) {
    throw Error(Errc::io, fmt::format("cannot listen on {}: {}", where, e.code().message()));
  }
  started_ = true;
  work_.emplace(io_.get_executor());
  accept();
  for (std::size_t i = 0; i < std::max<std::size_t>(options_.threads, 1); ++i) {
    threads_.emplace_back([this] {
      name_this_thread("rmaflow-http");
      io_.run();
    });
  }
}

void HttpServer::Impl::accept() {
  acceptor_.async_accept(asio::make_strand(io_), [this](error_code ec, tcp::socket socket) {
    on_accept(ec, std::move(socket));
  });
}

void HttpServer::Impl::on_accept(error_code ec, tcp::socket socket) {
  if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
  if (out_of_files(ec)) return make_room(ec);
  if (!ec) {
    std::optional<int> refuse;
    std::shared_ptr<HttpSession> session;
    std::shared_ptr<HttpSession> evicted;
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;  // the socket closes as it goes
      if (sessions_.size() >= options_.max_connections) {
        // Connections that send nothing must not lock out the ones that have a request (a
        // health check): the longest idle one makes room. Only when every connection is busy
        // with a request is the newcomer refused.
        evicted = longest_idle();
        if (!evicted) refuse = 503;
      }
      HttpSession::Context context{&options_, &handler_, gate_,
                                   [this](HttpSession* s) { closed(s); }};
      session = std::make_shared<HttpSession>(std::move(socket), std::move(context));
      sessions_.emplace(session.get(), session);
    }
    if (evicted) evicted->force_close();
    session->start(refuse);
  }
  // Other errors concern one connection (reset before it was taken); keep accepting.
  accept();
}

void HttpServer::Impl::make_room(const error_code& ec) {
  // accept() fails for want of a file before it looks at the queue, and asio accepts again as
  // soon as it has accepted: with no connection waiting, there is nothing to make room for
  // until one comes.
  pollfd listening{acceptor_.native_handle(), POLLIN, 0};
  if (::poll(&listening, 1, 0) <= 0 || (listening.revents & POLLIN) == 0) {
    acceptor_.async_wait(tcp::acceptor::wait_read, [this](error_code waited) {
      if (waited != asio::error::operation_aborted && acceptor_.is_open()) accept();
    });
    return;
  }
  auto now = std::chrono::steady_clock::now();
  if (options_.on_out_of_files &&
      (!out_of_files_told_ || now - *out_of_files_told_ >= kOutOfFilesTold)) {
    out_of_files_told_ = now;
    options_.on_out_of_files(ec.message());
  }
  std::shared_ptr<HttpSession> idle;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    idle = longest_idle();
  }
  if (idle) {
    // As at the connection cap; accepted again on this strand once the idle one's file is
    // closed (on its own strand), so that one newcomer closes one idle connection.
    idle->force_close([this] { asio::post(accept_strand_, [this] { accept(); }); });
    return;
  }
  accept_pause_.expires_after(options_.out_of_files_pause);
  accept_pause_.async_wait([this](error_code waited) {
    if (!waited && acceptor_.is_open()) accept();
  });
}

std::shared_ptr<HttpSession> HttpServer::Impl::longest_idle() {
  std::shared_ptr<HttpSession> oldest;
  std::chrono::steady_clock::time_point oldest_since;
  for (const auto& [raw, session] : sessions_) {
    std::chrono::steady_clock::time_point since;
    if (!session->idle(&since)) continue;
    if (!oldest || since < oldest_since) {
      oldest = session;
      oldest_since = since;
    }
  }
  return oldest;
}

void HttpServer::Impl::closed(HttpSession* session) {
  std::shared_ptr<HttpSession> last;  // released outside the lock
  {
    std::lock_guard lock(mu_);
    auto it = sessions_.find(session);
    if (it == sessions_.end()) return;
    last = std::move(it->second);
    sessions_.erase(it);
  }
  changed_.notify_all();
}

std::vector<std::shared_ptr<HttpSession>> HttpServer::Impl::snapshot() {
  std::lock_guard lock(mu_);
  std::vector<std::shared_ptr<HttpSession>> out;
  for (const auto& [raw, session] : sessions_) out.push_back(session);
  return out;
}

bool HttpServer::Impl::wait_for_sessions(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mu_);
  return changed_.wait_until(lock, deadline, [this] { return sessions_.empty(); });
}

void HttpServer::Impl::stop() {
  if (!started_ || stopped_) return;
  stopped_ = true;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  asio::post(accept_strand_, [this] {
    error_code ignored;
    acceptor_.close(ignored);
    accept_pause_.cancel();
  });
  for (const auto& session : snapshot()) session->shut_down();
  auto now = std::chrono::steady_clock::now();
  if (!wait_for_sessions(now + options_.drain_timeout)) {
    for (const auto& session : snapshot()) session->force_close();
    wait_for_sessions(std::chrono::steady_clock::now() + kForcedCloseWait);
  }
  {
    std::lock_guard lock(gate_->mu);
    gate_->open = false;
  }
  work_.reset();
  io_.stop();  // whatever is still queued is dropped with the context
  for (auto& thread : threads_) thread.join();
  threads_.clear();
  std::lock_guard lock(mu_);
  sessions_.clear();
}

HttpServer::HttpServer(HttpServerOptions options, HttpHandler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler))) {}

HttpServer::~HttpServer() {
  stop();
}

void HttpServer::start() {
  impl_->start();
}
std::uint16_t HttpServer::port() const {
  return impl_->port();
}
void HttpServer::stop() {
  impl_->stop();
}

}  // namespace rmaflow::net
