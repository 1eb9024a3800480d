// HttpServer over loopback: answers now or later, guards itself against slow, malformed and
// oversized requests and too many connections, keeps connections alive, stops gracefully.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <future>
#include <mutex>
#include <optional>
#include <thread>

#include "engine/net/http_client.hpp"
#include "engine/net/http_server.hpp"
#include "rmaflow/errors.hpp"
#include "tests/net/raw_tcp.hpp"

using namespace rmaflow::net;
using namespace rmaflow::testing;
using namespace std::chrono_literals;

namespace {

HttpResponse echo(const HttpRequest& request) {
  auto response = HttpResponse::with_body(
      200, request.method + " " + request.target + " " + request.body, "text/plain");
  response.headers.set("X-Seen-Header", std::string(request.headers.get("x-test")));
  return response;
}

HttpServerOptions local(std::size_t threads = 1) {
  HttpServerOptions options;
  options.threads = threads;
  return options;
}

// Requests the handler keeps unanswered until the test answers them.
struct Held {
  std::mutex mu;
  std::vector<std::pair<HttpRequest, Responder>> requests;
  std::promise<void> first;
  bool signalled = false;

  HttpHandler handler() {
    return [this](HttpRequest request, Responder respond) {
      std::lock_guard lock(mu);
      requests.emplace_back(std::move(request), std::move(respond));
      if (!signalled) {
        signalled = true;
        first.set_value();
      }
    };
  }
  void answer(std::size_t i, HttpResponse response) {
    std::lock_guard lock(mu);
    requests.at(i).second(std::move(response));
  }
};

std::string request_text(const std::string& method, const std::string& target,
                         const std::string& body = "", const std::string& extra = "") {
  return method + " " + target + " HTTP/1.1\r\nHost: test\r\n" + extra +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

HttpEndpoint at(const HttpServer& server) {
  return HttpEndpoint{"127.0.0.1", server.port()};
}

// For the object's life, this process may hold only the files it holds now and a few more,
// and those few are taken by /dev/null: the next file any of its threads opens (the server's
// accept among them) fails with EMFILE until give_back() frees some.
class FilesExhausted {
 public:
  FilesExhausted() {
    REQUIRE(::getrlimit(RLIMIT_NOFILE, &saved_) == 0);
    int highest = 0;
    for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
      highest = std::max(highest, std::stoi(entry.path().filename().string()));
    }
    rlimit low = saved_;
    low.rlim_cur = static_cast<rlim_t>(highest) + 8;
    REQUIRE(::setrlimit(RLIMIT_NOFILE, &low) == 0);
    for (;;) {
      int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
      if (fd < 0) break;
      taken_.push_back(fd);
    }
    REQUIRE(errno == EMFILE);
  }
  ~FilesExhausted() {
    give_back(taken_.size());
    ::setrlimit(RLIMIT_NOFILE, &saved_);
  }
  FilesExhausted(const FilesExhausted&) = delete;
  FilesExhausted& operator=(const FilesExhausted&) = delete;

  void give_back(std::size_t files) {
    for (; files > 0 && !taken_.empty(); --files) {
      ::close(taken_.back());
      taken_.pop_back();
    }
  }

 private:
  rlimit saved_{};
  std::vector<int> taken_;
};

// CPU time this process has used, all its threads.
std::chrono::microseconds cpu_used() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  auto total = [](const timeval& t) {
    return std::chrono::seconds(t.tv_sec) + std::chrono::microseconds(t.tv_usec);
  };
  return total(usage.ru_utime) + total(usage.ru_stime);
}

// A started server of echoes, and what it told on_out_of_files (from its thread).
struct OutOfFilesServer {
  std::mutex mu;
  std::vector<std::string> told;
  std::promise<void> first;
  HttpServer server;

  OutOfFilesServer()
      : server(telling(this), [](HttpRequest r, Responder respond) { respond(echo(r)); }) {
    server.start();
  }
  std::vector<std::string> seen() {
    std::lock_guard lock(mu);
    return told;
  }

 private:
  static HttpServerOptions telling(OutOfFilesServer* to) {
    auto options = local();
    options.on_out_of_files = [to](std::string_view why) {
      std::lock_guard lock(to->mu);
      to->told.emplace_back(why);
      if (to->told.size() == 1) to->first.set_value();
    };
    return options;
  }
};

}  // namespace

TEST_CASE("Net.Server.PicksAPortAndAnswers") {
  HttpServer server(local(),
                    [](HttpRequest request, Responder respond) { respond(echo(request)); });
  server.start();
  CHECK(server.port() != 0);
  HttpClient client;
  HttpRequest request;
  request.method = "POST";
  request.target = "/v1/things?x=1";
  request.body = "hello";
  request.headers.set("X-Test", "yes");
  auto result = client.request(at(server), request, 5s);
  REQUIRE(result.ok());
  CHECK(result.response.status == 200);
  CHECK(result.response.body == "POST /v1/things?x=1 hello");
  CHECK(result.response.headers.get("x-seen-header") == "yes");
  CHECK(result.response.headers.get("content-type") == "text/plain");
}

TEST_CASE("Net.Server.ListeningTwiceOnOnePortIsAnError") {
  HttpServer first(local(), [](HttpRequest r, Responder respond) { respond(echo(r)); });
  first.start();
  auto options = local();
  options.port = first.port();
  HttpServer second(options, [](HttpRequest r, Responder respond) { respond(echo(r)); });
  CHECK_THROWS_WITH_AS(second.start(), doctest::Contains("cannot listen on 127.0.0.1:"),
                       rmaflow::Error);
  auto bad = local();
  bad.address = "not-an-address";
  HttpServer third(bad, [](HttpRequest r, Responder respond) { respond(echo(r)); });
  CHECK_THROWS_AS(third.start(), rmaflow::Error);
}

TEST_CASE("Net.Server.AnswersLaterWithoutHoldingItsThread") {
  // One I/O thread: while the first request waits for its answer, a second one is served.
  Held held;
  HttpServer server(local(1), [&](HttpRequest request, Responder respond) {
    if (request.target == "/slow") return held.handler()(std::move(request), std::move(respond));
    respond(echo(request));
  });
  server.start();
  HttpClient client;
  std::promise<HttpResult> slow;
  HttpRequest slow_request;
  slow_request.target = "/slow";
  client.async_request(at(server), slow_request, 10s,
                       [&](HttpResult r) { slow.set_value(std::move(r)); });
  held.first.get_future().wait();

  HttpRequest fast;
  fast.target = "/fast";
  auto answered = client.request(at(server), fast, 5s);
  REQUIRE(answered.ok());
  CHECK(answered.response.body == "GET /fast ");

  // The answer comes from another thread, as the engine's would.
  std::thread([&] { held.answer(0, HttpResponse::with_body(201, "later", "text/plain")); }).join();
  auto late = slow.get_future().get();
  REQUIRE(late.ok());
  CHECK(late.response.status == 201);
  CHECK(late.response.body == "later");
}

TEST_CASE("Net.Server.Issue19.AProducedAnswerIsBuiltOnTheConnectionsThread") {
  // One I/O thread: the handler's thread is the one every connection's work runs on.
  std::mutex mu;
  std::condition_variable arrived;
  std::thread::id io_thread;
  std::vector<Responder> held;
  HttpServer server(local(1), [&](HttpRequest, Responder respond) {
    std::lock_guard lock(mu);
    io_thread = std::this_thread::get_id();
    held.push_back(std::move(respond));
    arrived.notify_all();
  });
  server.start();
  HttpClient client;
  auto ask = [&](std::promise<HttpResult>& into) {
    std::size_t before = 0;
    {
      std::lock_guard lock(mu);
      before = held.size();
    }
    client.async_request(at(server), HttpRequest{}, 10s,
                         [&into](HttpResult r) { into.set_value(std::move(r)); });
    std::unique_lock lock(mu);
    arrived.wait(lock, [&] { return held.size() > before; });
    return held.back();
  };

  std::promise<HttpResult> built;
  auto respond = ask(built);
  std::thread::id built_on;
  std::thread other([&] {
    respond.produce([&] {
      std::lock_guard lock(mu);
      built_on = std::this_thread::get_id();
      return HttpResponse::with_body(200, "built", "text/plain");
    });
    respond(HttpResponse::with_body(202, "second", "text/plain"));  // ignored: answered
  });
  auto answer = built.get_future().get();
  auto answering_thread = other.get_id();
  other.join();
  REQUIRE(answer.ok());
  CHECK(answer.response.status == 200);
  CHECK(answer.response.body == "built");
  {
    std::lock_guard lock(mu);
    CHECK(built_on == io_thread);
    CHECK(built_on != answering_thread);
  }

  // A producer that throws answers 500, and the connection serves the next request.
  std::promise<HttpResult> failed;
  ask(failed).produce([]() -> HttpResponse { throw std::runtime_error("boom"); });
  auto refused = failed.get_future().get();
  REQUIRE(refused.ok());
  CHECK(refused.response.status == 500);
  std::promise<HttpResult> next;
  ask(next)(HttpResponse::with_body(200, "next", "text/plain"));
  auto after = next.get_future().get();
  REQUIRE(after.ok());
  CHECK(after.response.body == "next");
}

TEST_CASE("Net.Server.KeepsConnectionsAlive") {
  HttpServer server(local(), [](HttpRequest r, Responder respond) { respond(echo(r)); });
  server.start();
  RawConnection connection(server.port());
  connection.send(request_text("GET", "/one"));
  CHECK(connection.read_response().find("GET /one") != std::string::npos);
  connection.send(request_text("GET", "/two") + request_text("GET", "/three"));  // pipelined
  CHECK(connection.read_response().find("GET /two") != std::string::npos);
  CHECK(connection.read_response().find("GET /three") != std::string::npos);
  connection.send(request_text("GET", "/last", "", "Connection: close\r\n"));
  auto last = connection.read_response();
  CHECK(last.find("GET /last") != std::string::npos);
  CHECK(last.find("Connection: close") != std::string::npos);
  CHECK(connection.closed_by_peer());
}

TEST_CASE("Net.Server.RefusesBadRequestsWithTheErrorResponder") {
  auto options = local();
  options.max_body_bytes = 64;
  options.max_header_bytes = 1024;
  options.error_response = [](int status, std::string_view detail) {
    return HttpResponse::with_body(status, "{\"detail\":\"" + std::string(detail) + "\"}",
                                   "application/problem+json");
  };
  std::atomic<int> handled{0};
  HttpServer server(options, [&](HttpRequest r, Responder respond) {
    ++handled;
    respond(echo(r));
  });
  server.start();

  SUBCASE("malformed") {
    RawConnection c(server.port());
    c.send("THIS IS NOT HTTP\r\n\r\n");
    auto answer = c.read_all();
    CHECK(answer.rfind("HTTP/1.1 400 Bad Request", 0) == 0);
    CHECK(answer.find("application/problem+json") != std::string::npos);
    CHECK(answer.find("malformed") != std::string::npos);
  }
  SUBCASE("body over the limit, announced by Content-Length") {
    RawConnection c(server.port());
    c.send(request_text("POST", "/x", std::string(65, 'a')));
    auto answer = c.read_all();
    CHECK(answer.rfind("HTTP/1.1 413", 0) == 0);
    CHECK(answer.find("too large") != std::string::npos);
  }
  SUBCASE("chunked body over the limit") {
    RawConnection c(server.port());
    std::string chunk(40, 'b');
    c.send("POST /x HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n28\r\n" + chunk +
           "\r\n28\r\n" + chunk + "\r\n0\r\n\r\n");
    CHECK(c.read_all().rfind("HTTP/1.1 413", 0) == 0);
  }
  SUBCASE("header over the limit") {
    RawConnection c(server.port());
    c.send(request_text("GET", "/x", "", "X-Big: " + std::string(2000, 'h') + "\r\n"));
    CHECK(c.read_all().rfind("HTTP/1.1 431", 0) == 0);
  }
  CHECK(handled == 0);
  // The server still serves.
  HttpClient client;
  auto fine = client.request(at(server), HttpRequest{}, 5s);
  REQUIRE(fine.ok());
  CHECK(fine.response.status == 200);
}

TEST_CASE("Net.Server.SlowHeaderOrBodyGets408") {
  auto options = local();
  options.header_timeout = 150ms;
  options.body_timeout = 150ms;
  HttpServer server(options, [](HttpRequest r, Responder respond) { respond(echo(r)); });
  server.start();
  SUBCASE("the header stops half-way") {
    RawConnection c(server.port());
    c.send("GET /x HTTP/1.1\r\nHost: t\r\n");
    CHECK(c.read_all().rfind("HTTP/1.1 408", 0) == 0);
  }
  SUBCASE("the body stops half-way") {
    RawConnection c(server.port());
    c.send("POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nonly a part");
    auto answer = c.read_all();
    CHECK(answer.rfind("HTTP/1.1 408", 0) == 0);
    CHECK(answer.find("body did not arrive in time") != std::string::npos);
  }
}

TEST_CASE("Net.Server.IdleConnectionsClose") {
  auto options = local();
  options.idle_timeout = 100ms;
  HttpServer server(options, [](HttpRequest r, Responder respond) { respond(echo(r)); });
  server.start();
  RawConnection c(server.port());
  c.send(request_text("GET", "/x"));
  CHECK(c.read_response().find("200 OK") != std::string::npos);
  CHECK(c.closed_by_peer());  // no 408 for a connection between requests: it just closes
}

TEST_CASE("Net.Server.ContinuesAfterExpect100") {
  HttpServer server(local(), [](HttpRequest r, Responder respond) { respond(echo(r)); });
  server.start();
  RawConnection c(server.port());
  c.send("POST /x HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n");
  CHECK(c.read_response().rfind("HTTP/1.1 100 Continue", 0) == 0);
  c.send("body");
  CHECK(c.read_response().find("POST /x body") != std::string::npos);
}

TEST_CASE("Net.Server.CapsConnections") {
  auto options = local();
  options.max_connections = 2;
  Held held;
  HttpServer server(options, held.handler());
  server.start();
  // Two connections busy with a request the handler holds: none is idle, so a third is refused.
  RawConnection a(server.port()), b(server.port());
  a.send(request_text("GET", "/hold"));
  held.first.get_future().wait();
  b.send(request_text("GET", "/hold"));
  auto deadline = std::chrono::steady_clock::now() + 10s;
  for (;;) {
    {
      std::lock_guard lock(held.mu);
      if (held.requests.size() == 2) break;
    }
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::yield();
  }
  RawConnection third(server.port());
  third.send(request_text("GET", "/x"));
  CHECK(third.read_all().rfind("HTTP/1.1 503", 0) == 0);
  // A held one still works.
  held.answer(0, HttpResponse::with_body(200, "held", "text/plain"));
  CHECK(a.read_response().find("held") != std::string::npos);
  held.answer(1, HttpResponse::with_body(200, "held", "text/plain"));
}

TEST_CASE("Net.Server.Issue12.IdleConnectionsMakeRoom") {
  auto options = local();
  options.max_connections = 4;
  HttpServer server(options, [](HttpRequest r, Responder respond) { respond(echo(r)); });
  server.start();
  // Connections that never send a byte, and one kept alive after its answer, fill the cap.
  std::vector<std::unique_ptr<RawConnection>> silent;
  for (int i = 0; i < 3; ++i) silent.push_back(std::make_unique<RawConnection>(server.port()));
  RawConnection kept(server.port());
  kept.send(request_text("GET", "/first"));
  REQUIRE(kept.read_response().find("200 OK") != std::string::npos);
  // A newcomer with a request is served: the longest idle connection makes room for it.
  for (int i = 0; i < 10; ++i) {
    RawConnection health(server.port());
    health.send(request_text("GET", "/healthz"));
    CHECK(health.read_response().find("GET /healthz") != std::string::npos);
  }
  CHECK(silent.front()->closed_by_peer());
}

// With every file the process may hold taken, a connection cannot be accepted (EMFILE) and
// waits in the listen queue. The longest idle connection makes room for it, as at the cap.
TEST_CASE("Net.Server.OutOfFilesTheLongestIdleConnectionMakesRoom") {
  OutOfFilesServer out_of_files;
  auto& server = out_of_files.server;
  RawConnection kept(server.port());
  kept.send(request_text("GET", "/first"));
  REQUIRE(kept.read_response().find("GET /first") != std::string::npos);  // now idle
  FilesExhausted files;
  files.give_back(1);  // for the newcomer's own socket
  RawConnection newcomer(server.port());
  newcomer.send(request_text("GET", "/second"));
  CHECK(newcomer.read_response().find("GET /second") != std::string::npos);
  CHECK(kept.closed_by_peer());
  auto told = out_of_files.seen();
  REQUIRE(told.size() == 1);
  CHECK(told[0] == std::error_code(EMFILE, std::generic_category()).message());
}

// With none idle, the server tries again after a pause rather than at once: before, the accept
// failed again at once, a core spinning until a file was free.
TEST_CASE("Net.Server.OutOfFilesWithNoneIdleTheServerWaitsWithoutSpinning") {
  OutOfFilesServer out_of_files;
  auto& server = out_of_files.server;
  FilesExhausted files;
  files.give_back(1);
  RawConnection newcomer(server.port());
  newcomer.send(request_text("GET", "/waiting"));
  REQUIRE(out_of_files.first.get_future().wait_for(10s) == std::future_status::ready);
  // A measurement over a window, not a synchronisation: the server's use of a CPU while it
  // waits for a file (a spinning accept used 0.28 to 0.5 s of the window, as loaded as the
  // machine was).
  auto before = cpu_used();
  std::this_thread::sleep_for(500ms);
  CHECK(cpu_used() - before < 100ms);
  files.give_back(1);
  CHECK(newcomer.read_response().find("GET /waiting") != std::string::npos);
  CHECK(out_of_files.seen().size() == 1);  // at most once a minute
}

TEST_CASE("Net.Server.Issue12.SilentConnectionsCloseAfterTheHeaderTimeout") {
  auto options = local();
  options.header_timeout = 200ms;  // idle_timeout stays 60 s: it is for kept-alive connections
  HttpServer server(options, [](HttpRequest r, Responder respond) { respond(echo(r)); });
  server.start();
  RawConnection silent(server.port());
  CHECK(silent.closed_by_peer());  // within the read's own 10 s bound, long before 60 s
}

TEST_CASE("Net.Server.HandlerFailuresAnswer500") {
  HttpServer server(local(), [](HttpRequest request, Responder respond) {
    if (request.target == "/throw") throw std::runtime_error("boom");
    if (request.target == "/drop") return;  // the responder dies unanswered
    respond(HttpResponse::with_body(200, "first", "text/plain"));
    respond(HttpResponse::with_body(202, "second", "text/plain"));  // ignored
  });
  server.start();
  HttpClient client;
  for (const char* target : {"/throw", "/drop"}) {
    HttpRequest request;
    request.target = target;
    auto result = client.request(at(server), request, 5s);
    REQUIRE(result.ok());
    CHECK(result.response.status == 500);
  }
  auto once = client.request(at(server), HttpRequest{}, 5s);
  REQUIRE(once.ok());
  CHECK(once.response.status == 200);
  CHECK(once.response.body == "first");
}

TEST_CASE("Net.Server.StopsGracefully") {
  Held held;
  HttpServer server(local(), [&](HttpRequest request, Responder respond) {
    if (request.target == "/in-flight")
      return held.handler()(std::move(request), std::move(respond));
    respond(echo(request));
  });
  server.start();
  auto port = server.port();

  RawConnection idle(port);  // kept alive after one request: closed by stop
  idle.send(request_text("GET", "/warm"));
  REQUIRE(idle.read_response().find("200 OK") != std::string::npos);
  RawConnection busy(port);
  busy.send(request_text("POST", "/in-flight", "data"));
  held.first.get_future().wait();

  auto stopped = std::async(std::launch::async, [&] { server.stop(); });
  CHECK(idle.closed_by_peer());
  // New connections are refused while the request in flight is still being answered.
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!connection_refused(port) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  CHECK(connection_refused(port));
  CHECK(stopped.wait_for(0s) == std::future_status::timeout);

  held.answer(0, HttpResponse::with_body(201, "done", "text/plain"));
  auto answer = busy.read_response();
  CHECK(answer.rfind("HTTP/1.1 201", 0) == 0);
  CHECK(answer.find("Connection: close") != std::string::npos);
  CHECK(busy.closed_by_peer());
  stopped.get();
  // Answering after the stop is harmless.
  held.answer(0, HttpResponse::with_body(200, "late", "text/plain"));
}

TEST_CASE("Net.Server.StopGivesUpOnRequestsPastTheDrainTimeout") {
  Held held;
  auto options = local();
  options.drain_timeout = 100ms;
  HttpServer server(options, held.handler());
  server.start();
  RawConnection busy(server.port());
  busy.send(request_text("GET", "/never"));
  held.first.get_future().wait();
  server.stop();
  CHECK(busy.read_all().empty());  // closed without an answer
  held.answer(0, HttpResponse::with_body(200, "too late", "text/plain"));
}
