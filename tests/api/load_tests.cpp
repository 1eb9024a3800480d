// The server keeps answering health checks and queries while 1,000 instances are submitted and
// processed: each probe is answered while the engine still has instances running.
#include <doctest/doctest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "tests/api/api_fixture.hpp"

using namespace rmaflow;
using namespace rmaflow::testing;
using json = nlohmann::json;

namespace {

const char* kSlow = R"(workflow: slow
version: 1
business_key: ${ .input.rma_id }
start: authorize
steps:
  authorize: { action: builtin.delay, with: { delay: 150ms }, next: label }
  label:     { action: builtin.delay, with: { delay: 150ms }, next: refund }
  refund:    { action: builtin.delay, with: { delay: 150ms }, next: done }
  done:      { end: completed }
)";

constexpr int kInstances = 1000;
constexpr int kWindow = 64;  // submissions in flight at once

// The value of `rmaflow_instances{status="..."}` in a metrics text.
long long instances(const std::string& metrics, const std::string& status) {
  auto key = fmt::format("rmaflow_instances{{status=\"{}\"}} ", status);
  auto at = metrics.find(key);
  return at == std::string::npos ? -1 : std::stoll(metrics.substr(at + key.size()));
}

}  // namespace

TEST_CASE("Api.Load.AnswersWhileAThousandInstancesRun") {
  ApiFixture api(WorkflowFiles{{"slow.yaml", kSlow}});
  auto endpoint = net::HttpEndpoint{"127.0.0.1", api.server->port()};

  auto began = std::chrono::steady_clock::now();
  // Submit asynchronously, kWindow at a time.
  std::mutex mu;
  std::condition_variable changed;
  int in_flight = 0, created = 0, failed = 0;
  std::thread submitter([&] {
    for (int i = 0; i < kInstances; ++i) {
      std::unique_lock lock(mu);
      changed.wait(lock, [&] { return in_flight < kWindow; });
      ++in_flight;
      lock.unlock();
      net::HttpRequest request;
      request.method = "POST";
      request.target = "/v1/instances";
      request.headers.set("Content-Type", "application/json");
      request.headers.set("Authorization", "Bearer " + api.token("submitter"));
      request.body =
          json{{"workflow", "slow"}, {"input", {{"rma_id", fmt::format("L-{:04}", i)}}}}.dump();
      api.client.async_request(endpoint, request, std::chrono::seconds(60),
                               [&](net::HttpResult r) {
                                 std::lock_guard guard(mu);
                                 --in_flight;
                                 (r.ok() && r.response.status == 201 ? created : failed) += 1;
                                 changed.notify_all();
                               });
    }
  });

  // Probe until every instance completed.
  int probes_while_running = 0;
  long long completed = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (completed < kInstances && std::chrono::steady_clock::now() < deadline) {
    auto health = api.get("/healthz", "");
    REQUIRE_MESSAGE(health.status == 200, health.text);  // the engine's state, if not ok
    auto running = api.get("/v1/instances?status=running&limit=1");
    REQUIRE(running.status == 200);
    auto one = api.get(running.body["items"].empty()
                           ? "/v1/workflows/slow"
                           : "/v1/instances/" + running.body["items"][0].value("id", ""));
    REQUIRE(one.status == 200);
    // Answered while the engine still had instances to move: the list saw one running.
    if (!running.body["items"].empty()) ++probes_while_running;
    auto metrics = api.get("/metrics");
    REQUIRE(metrics.status == 200);
    completed = instances(metrics.text, "completed");
  }
  submitter.join();
  {
    std::unique_lock lock(mu);
    changed.wait(lock, [&] { return in_flight == 0; });
  }
  CHECK(failed == 0);
  CHECK(created == kInstances);
  CHECK(completed == kInstances);
  CHECK(probes_while_running >= 5);
  MESSAGE(probes_while_running, " rounds of probes answered while instances were running; ",
          kInstances, " instances submitted and completed in ",
          std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count(),
          " s (for information, not asserted)");
}
