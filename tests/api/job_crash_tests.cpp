// Issue 16: a bulk job survives SIGKILL. A retry job over 60 suspended returns runs on the real
// server, which is killed again and again while the job is under way: after each restart the
// job goes on from where its last commit left it, retries every instance exactly once (each
// instance's history holds one retry by the job, the job one item per instance), and never
// goes faster than its rate.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <csignal>
#include <map>
#include <thread>

#include "rmaflow/time.hpp"
#include "tests/api/api_fixture.hpp"

using namespace rmaflow;
using namespace rmaflow::testing;
using json = nlohmann::json;

namespace {

// The ERP refuses every refund: a retried instance is suspended again, so a job that retried
// one twice would leave two retries in its history.
const char* kRefunds = R"(workflow: refunds
version: 1
business_key: ${ .input.rma_id }
start: refund
steps:
  refund:
    action: builtin.fail
    with: { code: ErpDown, times: 1000000, retryable: false }
    retry: { max_attempts: 1 }
    next: done
  done: { end: completed }
)";

constexpr int kInstances = 60;
constexpr double kJobRate = 20;

json job_state(ApiFixture& api, const std::string& id) {
  return api.get("/v1/jobs/" + id).body;
}

}  // namespace

TEST_CASE("Api.Crash.Issue16.AJobKilledAgainAndAgainTouchesNoInstanceTwice") {
  ApiFixture api(WorkflowFiles{{"refunds.yaml", kRefunds}});
  std::vector<std::string> ids;
  for (int i = 0; i < kInstances; ++i) {
    auto reply = api.submit({{"rma_id", fmt::format("RMA-J{:02}", i)}}, "refunds");
    REQUIRE_MESSAGE(reply.status == 201, reply.text);
    ids.push_back(reply.body.value("id", ""));
  }
  for (const auto& id : ids) api.await_status(id, "suspended");

  auto started =
      api.post("/v1/jobs", {{"action", "retry"}, {"reason", "ERP back"}, {"per_second", kJobRate}},
               "operator");
  REQUIRE_MESSAGE(started.status == 201, started.text);
  auto job_id = started.body.value("id", "");

  // Kill the server each time the job has gone 8 instances further, until it has finished.
  int kills = 0;
  std::int64_t last = 0;
  for (;;) {
    auto job = job_state(api, job_id);
    if (job.value("state", "") != "running") break;
    auto done = job.value("applied", std::int64_t{0}) + job.value("refused", std::int64_t{0});
    if (done < last + 8) {
      std::this_thread::yield();
      continue;
    }
    CHECK(api.server->stop(SIGKILL) == -SIGKILL);
    ++kills;
    api.start();
    last = job_state(api, job_id).value("applied", std::int64_t{0});
  }
  CHECK(kills >= 3);

  auto job = api.await_job(job_id);
  CHECK(job.value("state", "") == "finished");
  CHECK(job.value("applied", 0) == kInstances);
  CHECK(job.value("refused", 0) == 0);

  std::map<std::string, json> items;
  std::vector<TimePoint> times;
  std::string cursor;
  for (;;) {
    auto page = api.get("/v1/jobs/" + job_id + "/items?limit=25" +
                        (cursor.empty() ? "" : "&cursor=" + cursor))
                    .body;
    for (const auto& item : page["items"]) {
      CHECK(items.emplace(item.value("instance_id", ""), item).second);
      times.push_back(*parse_time(item.value("at", "")));
    }
    if (page["next_cursor"].is_null()) break;
    cursor = page["next_cursor"].get<std::string>();
  }
  REQUIRE(items.size() == ids.size());
  for (const auto& id : ids) {
    INFO(id);
    CHECK(items[id].value("outcome", "") == "applied");
    int retries = 0;
    for (const auto& e : events_of(history(api, id), "operator_action"))
      retries += e["data"].value("job", "") == job_id;
    CHECK(retries == 1);
  }
  // The rate holds across the restarts: no second saw more than its share and a tick's burst.
  std::sort(times.begin(), times.end());
  for (std::size_t i = 0; i < times.size(); ++i) {
    std::size_t within = 0;
    for (std::size_t j = i; j < times.size() && times[j] - times[i] < Duration(1000); ++j) ++within;
    CHECK(within <= static_cast<std::size_t>(kJobRate) + 4);
  }
}
