#include "engine/cli/api_client.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <thread>

#include "engine/net/http_client.hpp"

namespace rmaflow::cli {

namespace {

// Generous: an answer waits for its commit, which may wait out a slow or failing disk.
constexpr std::chrono::milliseconds kTimeout{10 * 60 * 1000};

// How long a change answered busy is sent again, all waits together.
constexpr std::chrono::seconds kMostBusyWait{60};

Errc errc_for(int status) {
  switch (status) {
    case 404:
      return Errc::not_found;
    case 409:
      return Errc::conflict;
    case 422:
    case 400:
      return Errc::invalid_argument;
    case 503:
      return Errc::storage;
    default:
      return Errc::refused;
  }
}

// A Retry-After of delay-seconds (the form the server sends), within an hour; zero otherwise.
std::chrono::seconds retry_after(std::string_view value) {
  int seconds = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec != std::errc() || end != value.data() + value.size() || seconds < 0) return {};
  return std::chrono::seconds(std::min(seconds, 3600));
}

}  // namespace

ApiClient::ApiClient(const Endpoint& endpoint) : server_(endpoint.server), token_(endpoint.token) {
  while (!server_.empty() && server_.back() == '/') server_.pop_back();
  net::HttpUrl::parse(server_);  // refuses what is not an http:// URL
}

std::string ApiClient::encode(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

ApiAnswer ApiClient::get(const std::string& path, const std::map<std::string, std::string>& query) {
  std::string target = path;
  char separator = '?';
  for (const auto& [name, value] : query) {
    if (value.empty()) continue;
    target += fmt::format("{}{}={}", separator, name, encode(value));
    separator = '&';
  }
  return call("GET", target, nullptr);
}

ApiAnswer ApiClient::post(const std::string& path, const nlohmann::json& body,
                          std::string_view what) {
  auto text = body.dump();
  std::chrono::seconds waited{0};
  for (;;) {
    try {
      return call("POST", path, &text);
    } catch (const ServerRefusal& e) {
      auto pause = std::max(e.retry_after(), std::chrono::seconds(1));
      if (e.code() != Errc::busy || waited + pause > kMostBusyWait) throw;
      fmt::print(stderr, "rmaflow: {}{}{}; sending it again in {} s\n", what,
                 what.empty() ? "" : ": ", e.what(), pause.count());
      std::this_thread::sleep_for(pause);
      waited += pause;
    }
  }
}

ApiAnswer ApiClient::call(const std::string& method, const std::string& target,
                          const std::string* body) {
  auto url = net::HttpUrl::parse(server_ + target);
  net::HttpRequest request;
  request.method = method;
  request.target = url.target;
  request.headers.set("Accept", "application/json");
  if (!token_.empty()) request.headers.set("Authorization", "Bearer " + token_);
  if (body != nullptr) {
    request.headers.set("Content-Type", "application/json");
    request.body = *body;
  }
  net::HttpClient client;
  auto result = client.request(url.endpoint, std::move(request), kTimeout);
  if (!result.ok()) {
    throw Error(Errc::io, fmt::format("cannot reach the rmaflow server at {}: {}", server_,
                                      result.error == net::HttpErrc::refused
                                          ? "nothing listens there (connection refused)"
                                          : result.message));
  }
  const auto& response = result.response;
  auto json = nlohmann::json::parse(response.body, nullptr, false);
  if (response.status >= 400) {
    std::string detail = json.is_object() && json.contains("detail") && json["detail"].is_string()
                             ? json["detail"].get<std::string>()
                             : fmt::format("the server answered {} {}", response.status,
                                           net::reason_phrase(response.status));
    if (response.status == 401) detail = fmt::format("the server refused the token: {}", detail);
    // Busy: the server stored nothing of the request, which may be sent again.
    bool busy = json.is_object() && json.value("type", "") == "urn:rmaflow:problem:busy";
    throw ServerRefusal(busy ? Errc::busy : errc_for(response.status), detail, json,
                        retry_after(response.headers.get("Retry-After")));
  }
  if (json.is_discarded()) {
    throw Error(Errc::io, fmt::format("the server at {} answered {} with something that is not JSON",
                                      server_, response.status));
  }
  return ApiAnswer{response.status, std::move(json)};
}

}  // namespace rmaflow::cli
