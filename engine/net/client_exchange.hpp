// One request of an HttpClient, from connecting (or taking a kept-alive connection) to the
// end of the answer. Internal to HttpClient; everything here runs on the client's thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "engine/net/http_client.hpp"

namespace rmaflow::net {

// Kept-alive connections per endpoint, newest last.
class ConnectionPool {
 public:
  explicit ConnectionPool(std::size_t max_per_endpoint) : max_(max_per_endpoint) {}
  std::optional<boost::asio::ip::tcp::socket> take(const std::string& endpoint);
  void give(const std::string& endpoint, boost::asio::ip::tcp::socket socket);
  void clear() { idle_.clear(); }

 private:
  std::size_t max_;
  std::map<std::string, std::deque<boost::asio::ip::tcp::socket>> idle_;
};

class ClientExchange;

// What the exchanges of one client share.
struct ClientContext {
  boost::asio::io_context& io;
  HttpClientOptions options;
  ConnectionPool pool;
  std::unordered_map<ClientExchange*, std::weak_ptr<ClientExchange>> live;
  bool shutting_down = false;
};

class ClientExchange : public std::enable_shared_from_this<ClientExchange> {
 public:
  ClientExchange(ClientContext& context, HttpEndpoint to, HttpRequest request,
                 std::chrono::milliseconds timeout, HttpClient::Callback done);
  void start();
  // Ends it with HttpErrc::cancelled (the client is going away).
  void cancel();

 private:
  void connect();
  void write();
  void read();
  // A failed step: sent again on a new connection when a reused one turned out closed,
  // otherwise reported.
  void failed(boost::system::error_code ec, bool resolving);
  void finish(HttpResult result);
  HttpResult error(HttpErrc code, std::string why) const;

  ClientContext& context_;
  HttpEndpoint to_;
  std::string key_;  // host:port, the pool's key
  HttpRequest request_;
  std::chrono::milliseconds timeout_;
  HttpClient::Callback done_;
  boost::asio::ip::tcp::resolver resolver_;
  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer deadline_;
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::request<boost::beast::http::string_body>> message_;
  std::optional<boost::beast::http::response_parser<boost::beast::http::string_body>> parser_;
  bool reused_ = false;
  bool resent_ = false;
  bool timed_out_ = false;
  bool cancelled_ = false;
  bool finished_ = false;
};

}  // namespace rmaflow::net
