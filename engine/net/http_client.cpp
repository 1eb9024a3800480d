#include "engine/net/http_client.hpp"

#include <fmt/format.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/url/parse.hpp>
#include <future>
#include <thread>

#include "engine/net/client_exchange.hpp"
#include "engine/support/name_table.hpp"
#include "engine/support/threads.hpp"
#include "rmaflow/errors.hpp"

namespace rmaflow::net {

namespace asio = boost::asio;

namespace {

constexpr NameTable<HttpErrc, 7> kErrcNames{{
    {HttpErrc::none, "none"},
    {HttpErrc::refused, "refused"},
    {HttpErrc::timeout, "timeout"},
    {HttpErrc::closed, "closed"},
    {HttpErrc::protocol, "protocol"},
    {HttpErrc::network, "network"},
    {HttpErrc::cancelled, "cancelled"},
}};

}  // namespace

std::string_view to_string(HttpErrc code) {
  return name_of(kErrcNames, code);
}

std::string HttpEndpoint::to_string() const {
  bool ipv6 = host.find(':') != std::string::npos;
  return ipv6 ? fmt::format("[{}]:{}", host, port) : fmt::format("{}:{}", host, port);
}

HttpUrl HttpUrl::parse(std::string_view text) {
  auto url = boost::urls::parse_uri(text);
  if (!url || url->scheme() != "http" || !url->has_authority() || url->encoded_host().empty()) {
    throw Error(Errc::invalid_argument,
                fmt::format("{} is not an http:// URL such as http://127.0.0.1:8080", text));
  }
  HttpUrl out;
  out.endpoint.host = url->host_address();
  out.endpoint.port = url->has_port() ? url->port_number() : 80;
  if (url->has_port() && out.endpoint.port == 0) {
    throw Error(Errc::invalid_argument, fmt::format("{} has no valid port", text));
  }
  out.target = std::string(url->encoded_target());
  if (out.target.empty() || out.target.front() != '/') out.target.insert(0, "/");
  return out;
}

class HttpClient::Impl {
 public:
  explicit Impl(HttpClientOptions options)
      : context_{io_, options, ConnectionPool(options.max_idle_per_endpoint), {}, false},
        work_(io_.get_executor()),
        thread_([this] {
          name_this_thread("rmaflow-client");
          io_.run();
        }) {}

  ~Impl() {
    asio::post(io_, [this] {
      context_.shutting_down = true;
      for (auto& [raw, weak] : context_.live) {
        if (auto exchange = weak.lock()) exchange->cancel();
      }
      context_.pool.clear();
    });
    work_.reset();
    thread_.join();
  }

  void send(const HttpEndpoint& to, HttpRequest request, std::chrono::milliseconds timeout,
            Callback done) {
    auto exchange = std::make_shared<ClientExchange>(context_, to, std::move(request), timeout,
                                                     std::move(done));
    asio::post(io_, [exchange] { exchange->start(); });
  }

  bool on_own_thread() const { return std::this_thread::get_id() == thread_.get_id(); }

 private:
  asio::io_context io_;
  ClientContext context_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::thread thread_;
};

HttpClient::HttpClient(HttpClientOptions options) : impl_(std::make_unique<Impl>(options)) {}

HttpClient::~HttpClient() = default;

void HttpClient::async_request(const HttpEndpoint& to, HttpRequest request,
                               std::chrono::milliseconds timeout, Callback done) {
  impl_->send(to, std::move(request), timeout, std::move(done));
}

HttpResult HttpClient::request(const HttpEndpoint& to, HttpRequest request,
                               std::chrono::milliseconds timeout) {
  if (impl_->on_own_thread()) {
    throw Error(Errc::invalid_argument,
                "HttpClient::request() called from one of the client's own callbacks");
  }
  auto promise = std::make_shared<std::promise<HttpResult>>();
  auto future = promise->get_future();
  impl_->send(to, std::move(request), timeout,
              [promise](HttpResult result) { promise->set_value(std::move(result)); });
  return future.get();
}

}  // namespace rmaflow::net
