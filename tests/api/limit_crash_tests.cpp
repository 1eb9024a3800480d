// Issue 16: limits per adapter and per operation. The ERP (an HTTP service run by the test on
// loopback, counting what reaches it) is down while 1,000 returns ask it for a credit: each
// suspends. When it is back, a bulk retry job releases all of them at once; the adapters
// file's limits (8 calls in flight, 400 a second) make them wait their turn in the engine,
// visibly per instance and in /metrics. The server is killed while calls wait and go out:
// after the restart each call still waiting is made once, none goes out twice except one that
// had gone out before the kill (same idempotency key), every credit is posted once, and the limit
// held throughout: never more than 8 calls at the ERP at once, nor more than 400 in a second.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <condition_variable>
#include <csignal>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "engine/net/http_server.hpp"
#include "tests/api/api_fixture.hpp"

using namespace rmaflow;
using namespace rmaflow::testing;
using json = nlohmann::json;

namespace {

constexpr int kReturns = 1000;
constexpr int kInFlight = 8;
constexpr double kLimitRate = 400;

const char* kCredits = R"(workflow: credits
version: 1
business_key: ${ .input.rma_id }
start: credit
steps:
  credit:
    action: erp.post_credit
    with: { rma_id: "${ .input.rma_id }" }
    retry: { max_attempts: 1 }
    timeout: 10s
    next: done
  done: { end: completed }
)";

// The ERP: down (503 at once) or up (answers after 20 ms of work, posting each credit once per
// idempotency key). It records when each request arrived and the most it held at once.
class Erp {
 public:
  Erp()
      : server_({},
                [this](net::HttpRequest request, net::Responder respond) {
                  take(std::move(request), std::move(respond));
                }),
        worker_([this] { work(); }) {
    server_.start();
  }
  ~Erp() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    worker_.join();
    server_.stop();
  }

  std::uint16_t port() const { return server_.port(); }
  void set_up(bool up) {
    std::lock_guard lock(mu_);
    up_ = up;
  }
  std::size_t peak() {
    std::lock_guard lock(mu_);
    return peak_;
  }
  std::size_t posted() {
    std::lock_guard lock(mu_);
    return posted_.size();
  }
  // While up: each key's requests, and every arrival time.
  std::map<std::string, int> requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }
  std::vector<std::chrono::steady_clock::time_point> arrivals() {
    std::lock_guard lock(mu_);
    return arrivals_;
  }
  // When each key was first asked while up.
  std::map<std::string, std::chrono::steady_clock::time_point> first_asked() {
    std::lock_guard lock(mu_);
    return first_;
  }

 private:
  struct Pending {
    std::chrono::steady_clock::time_point done_at;
    std::string key;
    net::Responder respond;
  };

  void take(net::HttpRequest request, net::Responder respond) {
    std::string key(request.headers.get("idempotency-key"));
    std::lock_guard lock(mu_);
    if (!up_) {
      respond(net::HttpResponse::with_body(503, R"({"error": "maintenance"})", "application/json"));
      return;
    }
    auto now = std::chrono::steady_clock::now();
    ++requests_[key];
    first_.emplace(key, now);
    arrivals_.push_back(now);
    peak_ = std::max(peak_, ++holding_);
    pending_.push_back({now + std::chrono::milliseconds(20), key, std::move(respond)});
    cv_.notify_all();
  }

  // The ERP's work: each request takes its 20 ms, then is answered.
  void work() {
    std::unique_lock lock(mu_);
    for (;;) {
      if (stopping_) return;
      if (pending_.empty()) {
        cv_.wait(lock);
        continue;
      }
      auto due = pending_.front().done_at;
      if (std::chrono::steady_clock::now() < due) {
        cv_.wait_until(lock, due);
        continue;
      }
      auto item = std::move(pending_.front());
      pending_.pop_front();
      posted_.insert(item.key);
      --holding_;
      item.respond(net::HttpResponse::with_body(200, json{{"memo", "CM-" + item.key}}.dump(),
                                                "application/json"));
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  bool up_ = false;
  bool stopping_ = false;
  std::size_t holding_ = 0;
  std::size_t peak_ = 0;
  std::deque<Pending> pending_;
  std::set<std::string> posted_;
  std::map<std::string, int> requests_;
  std::map<std::string, std::chrono::steady_clock::time_point> first_;
  std::vector<std::chrono::steady_clock::time_point> arrivals_;
  net::HttpServer server_;
  std::thread worker_;
};

std::string adapters_file(TempDir& dir, std::uint16_t port) {
  return dir.write("adapters.yaml", fmt::format(R"(adapters:
  erp:
    type: http
    base_url: http://127.0.0.1:{}
    limits:
      per_second: {}
      operations:
        post_credit: {{ in_flight: {} }}
    operations:
      post_credit: {{ method: POST, path: /credits }}
)",
                                                port, kLimitRate, kInFlight));
}

// The value of a sample line of /metrics (0 when absent).
double sample(const std::string& metrics, const std::string& line_start) {
  auto at = metrics.find("\n" + line_start + " ");
  if (at == std::string::npos) return 0;
  return std::stod(metrics.substr(at + line_start.size() + 2));
}

}  // namespace

TEST_CASE("Api.Crash.Issue16.CallsQueuedBehindALimitAreMadeOnceAcrossAKillAndTheLimitHolds") {
  Erp erp;
  TempDir config;
  ApiFixture api(WorkflowFiles{{"credits.yaml", kCredits}},
                 {"--adapters", adapters_file(config, erp.port())});
  std::vector<std::string> ids;
  for (int i = 0; i < kReturns; ++i) {
    auto reply = api.submit({{"rma_id", fmt::format("RMA-L{:03}", i)}}, "credits");
    REQUIRE_MESSAGE(reply.status == 201, reply.text);
    ids.push_back(reply.body.value("id", ""));
  }
  for (const auto& id : ids) api.await_status(id, "suspended");
  CHECK(erp.posted() == 0);

  erp.set_up(true);
  auto job = api.post(
      "/v1/jobs", {{"action", "retry"}, {"reason", "ERP back"}, {"per_second", 1000}}, "operator");
  REQUIRE_MESSAGE(job.status == 201, job.text);

  // The wait is visible: an instance says where it stands in the queue, /metrics how many wait.
  // The instance the job retried last is the one most likely to wait behind the others.
  auto job_id = job.body.value("id", "");
  bool seen_instance = false;
  bool seen_metrics = false;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while ((!seen_instance || !seen_metrics) && std::chrono::steady_clock::now() < deadline) {
    auto progress = api.get("/v1/jobs/" + job_id).body;
    auto newest = progress["last_instance"].is_string()
                      ? progress["last_instance"].get<std::string>()
                      : ids.front();
    auto last = api.get("/v1/instances/" + newest).body;
    if (last.contains("queued_call")) {
      seen_instance = true;
      CHECK(last["queued_call"].value("adapter", "") == "erp");
      CHECK(last["queued_call"].value("operation", "") == "post_credit");
      CHECK(last["queued_call"].value("position", 0) >= 1);
    }
    auto metrics = api.get("/metrics").text;
    seen_metrics |=
        sample(metrics, R"(rmaflow_adapter_calls_queued{adapter="erp",operation="post_credit"})") >
        0;
  }
  CHECK(seen_instance);
  CHECK(seen_metrics);

  // Killed while calls wait and go out.
  while (erp.posted() < 300) std::this_thread::yield();
  CHECK(api.server->stop(SIGKILL) == -SIGKILL);
  auto killed_at = std::chrono::steady_clock::now();
  auto posted_at_kill = erp.posted();
  CHECK(posted_at_kill < static_cast<std::size_t>(kReturns));
  api.start();
  api.await_job(job.body.value("id", ""));
  for (const auto& id : ids) api.await_status(id, "completed");

  CHECK(erp.posted() == static_cast<std::size_t>(kReturns));
  MESSAGE("peak at the ERP: ", erp.peak(), " calls at once (limit ", kInFlight, ")");
  CHECK(erp.peak() <= static_cast<std::size_t>(kInFlight));
  auto requests = erp.requests();
  CHECK(requests.size() == static_cast<std::size_t>(kReturns));
  // Only a call that had gone out before the kill (its answer not committed) is asked again,
  // with the same key; a call still waiting its turn at the kill is asked once, after it.
  auto first = erp.first_asked();
  int asked_twice = 0;
  for (const auto& [key, count] : requests) {
    INFO(key);
    CHECK(count <= 2);
    if (count == 2) {
      ++asked_twice;
      CHECK(first[key] < killed_at);
    }
  }
  MESSAGE(asked_twice, " calls out at the kill were asked again");
  auto arrivals = erp.arrivals();
  std::sort(arrivals.begin(), arrivals.end());
  for (std::size_t i = 0; i < arrivals.size(); ++i) {
    std::size_t within = 0;
    for (std::size_t j = i;
         j < arrivals.size() && arrivals[j] - arrivals[i] < std::chrono::seconds(1); ++j)
      ++within;
    CHECK(within <= static_cast<std::size_t>(kLimitRate) + 2);
  }
  auto metrics = api.get("/metrics").text;
  CHECK(sample(metrics, R"(rmaflow_adapter_calls_waited_total{adapter="erp",operation=""})") > 0);
}
