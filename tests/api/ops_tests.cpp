// What the operations side sees: health, metrics, and the server's own limits as `rmaflow
// serve` sets them (slow requests, too many connections), each answered as a problem.
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <sys/resource.h>

#include <algorithm>
#include <csignal>
#include <fstream>
#include <memory>
#include <sstream>
#include <vector>

#include "tests/api/api_fixture.hpp"
#include "tests/net/raw_tcp.hpp"

using namespace rmaflow;
using namespace rmaflow::testing;
using json = nlohmann::json;

namespace {

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

}  // namespace

TEST_CASE("Api.Ops.HealthAndMetrics") {
  ApiFixture api;
  auto health = api.get("/healthz", "");
  CHECK(health.status == 200);
  CHECK(health.body["status"] == "ok");
  CHECK(health.body["engine"]["running"] == true);
  CHECK(health.body["engine"]["storage"] == "ok");
  CHECK(health.body["engine"]["heartbeat_age_ms"].get<std::int64_t>() < 10'000);
  auto id = api.submit({{"rma_id", "RMA-M1"}, {"amount", 1}}).body.value("id", "");
  api.await_status(id, "waiting");
  check_problem(api.submit({{"rma_id", "RMA-M1"}, {"amount", 2}}), 409, "conflict");

  auto metrics = api.get("/metrics");
  REQUIRE(metrics.status == 200);
  CHECK(metrics.headers.get("content-type").rfind("text/plain", 0) == 0);
  const auto& text = metrics.text;
  INFO(text);
  CHECK(has_line(text, "rmaflow_up 1"));
  CHECK(has_line(text, R"(rmaflow_instances{status="waiting"} 1)"));
  CHECK(has_line(text, R"(rmaflow_instances{status="completed"} 0)"));
  CHECK(has_line(text, R"(rmaflow_http_requests_total{method="POST",route="/v1/instances",status="201"} 1)"));
  CHECK(has_line(text, R"(rmaflow_http_requests_total{method="POST",route="/v1/instances",status="409"} 1)"));
  CHECK(text.find(R"(rmaflow_http_request_duration_seconds_count{method="POST",route="/v1/instances"} 2)") !=
        std::string::npos);
  CHECK(text.find("# TYPE rmaflow_engine_commits_total counter") != std::string::npos);
}

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// "4096 4096": the soft and hard limits on open files of process `pid`.
std::string open_files_limits(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/limits");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Max open files", 0) != 0) continue;
    std::istringstream words(line.substr(std::string("Max open files").size()));
    std::string soft, hard;
    words >> soft >> hard;
    return soft + " " + hard;
  }
  return "";
}

}  // namespace

// serve holds a file per connection: it raises its soft limit on open files to the hard one,
// lowers the default cap on connections to what the limit leaves room for (with a warning),
// and refuses a --max-connections that the limit cannot hold. Before, a server at its limit
// could not accept the next connection and tried again at once, a core spinning, until a
// silent connection timed out.
TEST_CASE("Api.Ops.ConnectionsFitTheOpenFilesLimit") {
  ApiFixture api;
  rlimit own{};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &own) == 0);
  // A child may not have a hard limit above this process's own.
  auto hard = std::to_string(std::min<rlim_t>(own.rlim_max, 4096));
  api.files = {200, static_cast<std::size_t>(std::stoul(hard))};
  api.start();
  CHECK(open_files_limits(api.server->pid()) == hard + " " + hard);
  CHECK_FALSE(contains(run_process({"/bin/cat", api.log}).out, "holding fewer connections"));

  api.files = {128, 128};  // room for 64 connections beside the server's own files
  api.start();
  auto log = run_process({"/bin/cat", api.log}).out;
  CHECK(contains(log, "holding fewer connections than the default"));
  CHECK(contains(log, "max_connections=64"));
  std::vector<std::unique_ptr<RawConnection>> silent;
  for (int i = 0; i < 200; ++i)
    silent.push_back(std::make_unique<RawConnection>(api.server->port()));
  RawConnection health(api.server->port());
  health.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(health.read_response().rfind("HTTP/1.1 200", 0) == 0);
  silent.clear();
  api.server.reset();

  auto serve = [&](std::vector<std::string> extra, OpenFilesLimit files) {
    std::vector<std::string> argv = {rmaflow_binary(), "serve",       "--db",   api.db,
                                     "--workflows",    api.workflows, "--auth", api.auth,
                                     "--listen",       "127.0.0.1:0"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return run_process(argv, {}, "", files);
  };
  auto too_many = serve({"--max-connections", "100"}, {128, 128});
  CHECK(too_many.exit_code == 1);
  CHECK(too_many.err ==
        "rmaflow: --max-connections 100 needs 164 open files, and this process may hold 128 "
        "(ulimit -n); give at most 64, or raise the limit\n");
  auto too_few = serve({}, {60, 60});
  CHECK(too_few.exit_code == 1);
  CHECK(too_few.err ==
        "rmaflow: this process may hold only 60 files open (ulimit -n), and serve needs at "
        "least 65; raise the limit\n");
}

TEST_CASE("Api.Ops.ServeLimits") {
  ApiFixture api(WorkflowFiles{{"returns.yaml", kReturnsWorkflow}},
                 {"--header-timeout", "300ms", "--body-timeout", "300ms", "--max-connections", "3"});
  SUBCASE("a header that stops half-way") {
    RawConnection slow(api.server->port());
    slow.send("POST /v1/instances HTTP/1.1\r\nHost: x\r\n");
    auto answer = slow.read_all();
    CHECK(answer.rfind("HTTP/1.1 408", 0) == 0);
    CHECK(answer.find("urn:rmaflow:problem:request-timeout") != std::string::npos);
  }
  SUBCASE("a body that stops half-way") {
    RawConnection slow(api.server->port());
    slow.send("POST /v1/instances HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              "Content-Length: 50\r\n\r\n{\"workflow\":");
    CHECK(slow.read_all().rfind("HTTP/1.1 408", 0) == 0);
  }
  SUBCASE("Issue12: connections that send nothing do not lock out a health check") {
    std::vector<std::unique_ptr<RawConnection>> held;
    for (int i = 0; i < 3; ++i) {
      held.push_back(std::make_unique<RawConnection>(api.server->port()));
      held.back()->send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");  // kept alive afterwards
      REQUIRE(held.back()->read_response().rfind("HTTP/1.1 200", 0) == 0);
    }
    // Every place is taken by an idle connection: the longest idle one makes room (which one
    // that is depends on when each went idle, and the fixture's own client may hold one too;
    // which connection goes is the server suite's test, Net.Server.*). Here: the health check
    // is answered rather than refused with 503.
    RawConnection extra(api.server->port());
    extra.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(extra.read_response().rfind("HTTP/1.1 200", 0) == 0);
  }
  // Closed connections free their places (the server sees them close a moment later).
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  int status = 0;
  while (status != 200 && std::chrono::steady_clock::now() < deadline) {
    status = api.get("/healthz", "").status;
  }
  CHECK(status == 200);
}

// serve --max-running: a start that would run more instances at once than that is answered
// 503 with Retry-After, as problem+json naming the bound; a retried start of a key already
// begun is answered as before. The instances here hold their calls (a builtin adapter an hour
// slow), so they run for the whole test.
TEST_CASE("Api.Ops.StartsPastMaxRunningAreAnsweredBusy") {
  TempDir adapters_dir;
  ApiFixture api({{"held.yaml", kHeldWorkflow}},
                 {"--adapters", slow_adapter(adapters_dir, "1h"), "--max-running", "2"});
  auto first = api.submit({{"rma_id", "R1"}}, "held");
  REQUIRE(first.status == 201);
  REQUIRE(api.submit({{"rma_id", "R2"}}, "held").status == 201);
  auto busy = api.submit({{"rma_id", "R3"}}, "held");
  CHECK(busy.status == 503);
  CHECK(busy.headers.get("Content-Type") == "application/problem+json");
  CHECK(!busy.headers.get("Retry-After").empty());
  CHECK(busy.body["type"] == "urn:rmaflow:problem:busy");
  CHECK(busy.body["detail"] ==
        "the engine runs as many instances at once as it may (2); start held again shortly");
  auto again = api.submit({{"rma_id", "R1"}}, "held");
  CHECK(again.status == 200);
  CHECK(again.body["id"] == first.body["id"]);
  auto listed = api.get("/v1/instances?workflow=held");
  REQUIRE(listed.status == 200);
  CHECK(listed.body["items"].size() == 2);
  // What an operator's alert reads.
  auto metrics = api.get("/metrics").text;
  CHECK(metrics.find("\nrmaflow_engine_active_instances 2\n") != std::string::npos);
  CHECK(metrics.find("\nrmaflow_engine_max_running 2\n") != std::string::npos);
  CHECK(metrics.find("\nrmaflow_engine_starts_refused_total 1\n") != std::string::npos);
}

// serve --max-running-bytes: a start whose input would take the contexts the running
// instances hold past it is answered 503 busy, naming the bound; a small one still goes in.
// The bound takes a size with its unit.
TEST_CASE("Api.Ops.StartsPastMaxRunningBytesAreAnsweredBusy") {
  TempDir adapters_dir;
  ApiFixture api({{"held.yaml", kHeldWorkflow}},
                 {"--adapters", slow_adapter(adapters_dir, "1h"), "--max-running-bytes", "1MiB"});
  auto padded = [](const std::string& id) {
    return nlohmann::json{{"rma_id", id}, {"notes", std::string(600'000, 'x')}};
  };
  REQUIRE(api.submit(padded("R1"), "held").status == 201);
  auto busy = api.submit(padded("R2"), "held");
  CHECK(busy.status == 503);
  CHECK(!busy.headers.get("Retry-After").empty());
  CHECK(busy.body["type"] == "urn:rmaflow:problem:busy");
  CHECK(busy.body["detail"].get<std::string>().starts_with(
      "the instances the engine runs at once hold as many bytes as they may (1048576 bytes; "));
  // The title says what every busy answer says, whatever the server is short of.
  CHECK(busy.body["title"] == "The server takes no new work for now; send it again later");
  REQUIRE(api.submit({{"rma_id", "R3"}}, "held").status == 201);
  auto listed = api.get("/v1/instances?workflow=held");
  REQUIRE(listed.status == 200);
  CHECK(listed.body["items"].size() == 2);
  auto metrics = api.get("/metrics").text;
  CHECK(metrics.find("\nrmaflow_engine_max_running_bytes 1048576\n") != std::string::npos);
  CHECK(metrics.find("\nrmaflow_engine_held_bytes 6") != std::string::npos);  // 600,000 and more
  CHECK(metrics.find("\nrmaflow_engine_starts_refused_total 1\n") != std::string::npos);
  // Killed and started again: the instances it resumes are counted for the contexts it reads
  // back, so the big start is still refused, and nothing refused was stored.
  CHECK(api.server->stop(SIGKILL) == -SIGKILL);
  api.start();
  CHECK(api.get("/metrics").text.find("\nrmaflow_engine_held_bytes 6") != std::string::npos);
  check_problem(api.submit(padded("R2"), "held"), 503, "busy");
  listed = api.get("/v1/instances?workflow=held");
  REQUIRE(listed.status == 200);
  CHECK(listed.body["items"].size() == 2);
}

namespace {

const char* kParkedWorkflow = R"(workflow: parked
version: 1
business_key: ${ .input.rma_id }
start: parcel
steps:
  parcel:
    wait: { signal: delivered, timeout: 30d }
    next: done
  done: { end: completed }
)";

// A waiting instance whose row (its context holds the input) is past the 64 KiB from which
// it may be kept decoded.
nlohmann::json big_parked(const std::string& rma) {
  return {{"rma_id", rma}, {"notes", std::string(100'000, 'x')}};
}

// What /metrics shows for `name`, once a small instance started after everything before it
// was answered: its answer comes after the effects of every commit before its own, the
// decision to keep or let go of a big waiting instance among them.
std::uint64_t gauge_after_a_start(ApiFixture& api, const std::string& name,
                                  const std::string& rma) {
  REQUIRE(api.submit({{"rma_id", rma}}, "parked").status == 201);
  auto text = api.get("/metrics").text;
  auto at = text.find("\n" + name + " ");
  REQUIRE(at != std::string::npos);
  return std::stoull(text.substr(at + name.size() + 2));
}

}  // namespace

// serve --keep-waiting-bytes: the big waiting instances kept decoded never take more than it,
// the least recently used let go; 0 keeps none, and they are read back from their rows.
TEST_CASE("Api.Ops.KeepWaitingBytesBoundsTheBigWaitingInstancesKept") {
  constexpr std::uint64_t kBudget = 300 * 1024;
  {
    ApiFixture api({{"parked.yaml", kParkedWorkflow}}, {"--keep-waiting-bytes", "300KiB"});
    CHECK(gauge_after_a_start(api, "rmaflow_engine_keep_waiting_bytes", "S0") == kBudget);
    std::vector<std::string> ids;
    for (int i = 0; i < 5; ++i) {
      CAPTURE(i);
      auto started = api.submit(big_parked(fmt::format("R{}", i)), "parked");
      REQUIRE(started.status == 201);
      ids.push_back(started.body.value("id", ""));
      // One or more kept (each past 100,000 bytes), never past the budget.
      auto kept =
          gauge_after_a_start(api, "rmaflow_engine_kept_waiting_bytes", fmt::format("S{}", i + 1));
      CHECK(kept > 100'000);
      CHECK(kept <= kBudget);
    }
    // Each is delivered, kept or let go, and completes with its input whole.
    for (const auto& id : ids) {
      REQUIRE(api.post("/v1/instances/" + id + "/signals/delivered", {{"payload", {}}}, "submitter")
                  .status == 202);
      auto done = api.await_status(id, "completed");
      CHECK(done["context"]["input"]["notes"].get<std::string>().size() == 100'000);
    }
  }
  {
    ApiFixture api({{"parked.yaml", kParkedWorkflow}}, {"--keep-waiting-bytes", "0"});
    auto started = api.submit(big_parked("R0"), "parked");
    REQUIRE(started.status == 201);
    CHECK(gauge_after_a_start(api, "rmaflow_engine_kept_waiting_bytes", "S0") == 0);
    CHECK(gauge_after_a_start(api, "rmaflow_engine_keep_waiting_bytes", "S1") == 0);
    auto id = started.body.value("id", "");
    REQUIRE(api.post("/v1/instances/" + id + "/signals/delivered", {{"payload", {}}}, "submitter")
                .status == 202);
    CHECK(
        api.await_status(id, "completed")["context"]["input"]["notes"].get<std::string>().size() ==
        100'000);
  }
}

// Every connection busy with a request: a newcomer is answered 503 busy (its request not even
// read, so it may be sent as it is again) with Retry-After.
TEST_CASE("Api.Ops.ANewcomerPastMaxConnectionsIsAnsweredBusy") {
  TempDir adapters_dir;
  ApiFixture api({{"held.yaml", kHeldWorkflow}},
                 {"--adapters", slow_adapter(adapters_dir, "1h"), "--max-connections", "2"});
  // Two starts that wait for their instances' ends (an hour away; a minute, the longest wait
  // asked) hold both connections.
  std::vector<std::unique_ptr<RawConnection>> waiting;
  for (const char* rma : {"R1", "R2"}) {
    auto body = nlohmann::json{{"workflow", "held"}, {"input", {{"rma_id", rma}}}}.dump();
    waiting.push_back(std::make_unique<RawConnection>(api.server->port()));
    waiting.back()->send(
        fmt::format("POST /v1/instances?wait=60 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n"
                    "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{}",
                    api.token("submitter"), body.size(), body));
  }
  // Once both are started (committed, read from the file: a connection would take a place),
  // both connections are busy with their requests, and a third is refused.
  auto started = [&] {
    auto list = run_process({rmaflow_binary(), "list", "--db", api.db, "--format", "json"});
    auto listed = nlohmann::json::parse(list.out, nullptr, false);
    return listed.is_object() && listed["items"].size() == 2;
  };
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!started() && std::chrono::steady_clock::now() < deadline) {
  }
  REQUIRE(started());
  std::string answer;
  while (std::chrono::steady_clock::now() < deadline) {
    RawConnection newcomer(api.server->port());
    newcomer.send("GET /v1/instances HTTP/1.1\r\nHost: x\r\n\r\n");
    answer = newcomer.read_all();
    if (answer.rfind("HTTP/1.1 503", 0) == 0) break;
  }
  INFO(answer);
  REQUIRE(answer.rfind("HTTP/1.1 503", 0) == 0);
  CHECK(contains(answer, "Retry-After: 5\r\n"));
  CHECK(contains(answer, "\"type\":\"urn:rmaflow:problem:busy\""));
  CHECK(contains(answer, "the server holds as many connections as it may; try again later"));
}
