// HttpClient over loopback: answers, the errors an adapter maps (refused, timeout, closed,
// protocol), connection reuse and the resend on a connection the server closed while idle.
#include <doctest/doctest.h>

#include <atomic>
#include <future>

#include "engine/net/http_client.hpp"
#include "engine/net/http_server.hpp"
#include "rmaflow/errors.hpp"
#include "tests/net/raw_tcp.hpp"

using namespace rmaflow::net;
using namespace rmaflow::testing;
using namespace std::chrono_literals;

namespace {

const std::string kOk = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

HttpEndpoint local(std::uint16_t port) {
  return HttpEndpoint{"127.0.0.1", port};
}

HttpRequest get(const std::string& target) {
  HttpRequest request;
  request.target = target;
  return request;
}

}  // namespace

TEST_CASE("Net.Client.ParsesUrls") {
  auto url = HttpUrl::parse("http://127.0.0.1:8080/v1/instances?limit=5");
  CHECK(url.endpoint.host == "127.0.0.1");
  CHECK(url.endpoint.port == 8080);
  CHECK(url.target == "/v1/instances?limit=5");
  auto bare = HttpUrl::parse("http://localhost");
  CHECK(bare.endpoint.port == 80);
  CHECK(bare.target == "/");
  CHECK(HttpUrl::parse("http://[::1]:9000/x").endpoint.to_string() == "[::1]:9000");
  for (const char* bad : {"127.0.0.1:8080", "https://example.com", "http://", "not a url"}) {
    CAPTURE(bad);
    CHECK_THROWS_AS(HttpUrl::parse(bad), rmaflow::Error);
  }
}

TEST_CASE("Net.Client.RefusedWhenNothingListens") {
  std::uint16_t port;
  {
    HttpServer server({}, [](HttpRequest, Responder) {});
    server.start();
    port = server.port();
  }
  HttpClient client;
  auto result = client.request(local(port), get("/"), 5s);
  CHECK(result.error == HttpErrc::refused);
  CHECK(to_string(result.error) == "refused");
  CHECK(result.message.find("127.0.0.1:" + std::to_string(port)) != std::string::npos);
  CHECK(result.message.find("connection refused") != std::string::npos);
}

TEST_CASE("Net.Client.TimesOutWhenNoAnswerComes") {
  std::promise<Responder> held;
  HttpServer server({}, [&](HttpRequest, Responder respond) { held.set_value(respond); });
  server.start();
  HttpClient client;
  auto result = client.request(local(server.port()), get("/slow"), 150ms);
  CHECK(result.error == HttpErrc::timeout);
  CHECK(result.message.find("no answer within 150 ms") != std::string::npos);
  held.get_future().get()(HttpResponse{});
}

TEST_CASE("Net.Client.ProtocolErrorOnGarbage") {
  RawListener listener(1, [](int fd) {
    read_request(fd);
    write_all(fd, "THIS IS NOT HTTP AT ALL\r\n\r\n");
  });
  HttpClient client;
  auto result = client.request(local(listener.port()), get("/"), 5s);
  CHECK(result.error == HttpErrc::protocol);
}

TEST_CASE("Net.Client.ProtocolErrorOnAnOversizeAnswer") {
  RawListener listener(1, [](int fd) {
    read_request(fd);
    write_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2000\r\n\r\n" + std::string(2000, 'x'));
  });
  HttpClientOptions options;
  options.max_response_bytes = 1000;
  HttpClient client(options);
  CHECK(client.request(local(listener.port()), get("/"), 5s).error == HttpErrc::protocol);
}

TEST_CASE("Net.Client.ClosedWhenTheServerDropsTheConnection") {
  RawListener listener(1, [](int fd) { read_request(fd); });  // reads, then closes
  HttpClient client;
  auto result = client.request(local(listener.port()), get("/"), 5s);
  CHECK(result.error == HttpErrc::closed);
}

TEST_CASE("Net.Client.ReusesAKeptAliveConnection") {
  // The listener accepts one connection only: a second connection would never be answered.
  std::atomic<int> served{0};
  RawListener listener(1, [&](int fd) {
    while (!read_request(fd).empty()) {
      ++served;
      write_all(fd, kOk);
    }
  });
  HttpClient client;
  for (int i = 0; i < 3; ++i) {
    auto result = client.request(local(listener.port()), get("/again"), 5s);
    REQUIRE(result.ok());
    CHECK(result.response.body == "ok");
  }
  CHECK(served == 3);
}

TEST_CASE("Net.Client.ResendsOnceWhenAReusedConnectionWasClosed") {
  // First connection: one answer, then closed as an idle server would. Second: answers.
  std::atomic<int> requests{0};
  RawListener listener(2, [&](int fd) {
    if (read_request(fd).empty()) return;
    ++requests;
    write_all(fd, kOk);
  });
  HttpClient client;
  REQUIRE(client.request(local(listener.port()), get("/first"), 5s).ok());
  auto second = client.request(local(listener.port()), get("/second"), 5s);
  REQUIRE(second.ok());
  CHECK(second.response.status == 200);
  listener.join();
  CHECK(requests == 2);  // the stale connection carried nothing to the server
}

TEST_CASE("Net.Client.DestructionCancelsWhatIsInFlight") {
  std::promise<Responder> held;
  HttpServer server({}, [&](HttpRequest, Responder respond) { held.set_value(respond); });
  server.start();
  auto responder = held.get_future();
  std::promise<HttpResult> outcome;
  {
    HttpClient client;
    client.async_request(local(server.port()), get("/never"), 10s,
                         [&](HttpResult r) { outcome.set_value(std::move(r)); });
    responder.wait();
  }
  auto result = outcome.get_future().get();
  CHECK(result.error == HttpErrc::cancelled);
  responder.get()(HttpResponse{});  // lets the server stop without waiting for it
}

TEST_CASE("Net.Client.BlockingCallFromACallbackIsRefused") {
  HttpServer server({}, [](HttpRequest, Responder respond) { respond(HttpResponse{}); });
  server.start();
  HttpClient client;
  std::promise<bool> refused;
  client.async_request(local(server.port()), get("/"), 5s, [&](HttpResult) {
    try {
      client.request(local(server.port()), get("/"), 5s);
      refused.set_value(false);
    } catch (const rmaflow::Error&) {
      refused.set_value(true);
    }
  });
  CHECK(refused.get_future().get());
}
