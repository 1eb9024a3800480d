// Bulk jobs in the engine: the instances each action takes by default, the checks of a job
// request, the filter as a job stores it, and a job run by the engine's run() over a real
// database: one item per instance, the job's id in each instance's audit entry, and a job
// that a reopened engine resumes where the last one stopped.
#include <doctest/doctest.h>

#include <thread>

#include "tests/runtime/harness.hpp"

using namespace rmaflow;
using namespace rmaflow::testing;
using json = nlohmann::json;

namespace {

const char* kJobFlow = R"(workflow: labels
version: 1
business_key: ${ .input.rma_id }
start: create_label
steps:
  create_label: { action: ext.create_label, retry: { max_attempts: 1 }, next: done }
  done: { end: completed }
)";

std::string field_of(const JobRequest& request) {
  try {
    check_job_request(request);
  } catch (const ArgumentError& e) {
    return e.field();
  }
  return "";
}

// Runs the engine on a thread until the job has ended.
JobRow run_job(Harness& h, JobRequest request) {
  std::thread runner([&] { h.engine->run(); });
  auto job = h.engine->start_job(std::move(request)).get();
  auto reader = open_sqlite_store(h.db, StoreOptions{SyncMode::normal, true});
  bool ended = eventually([&] {
    auto row = reader->get_job(job.id);
    return row && row->state != JobState::running;
  });
  h.engine->stop();
  runner.join();
  REQUIRE(ended);
  return *reader->get_job(job.id);
}

}  // namespace

TEST_CASE("Engine.Jobs.Issue16.ScopesAndChecks") {
  auto retry = job_scope("retry", {});
  CHECK(retry.statuses == std::vector{InstanceStatus::suspended});
  auto pause = job_scope("pause", {});
  CHECK(pause.paused == false);
  CHECK(pause.statuses.size() == 4);
  CHECK(job_scope("resume", {}).paused == true);
  InstanceFilter waiting;
  waiting.statuses = {InstanceStatus::waiting};
  CHECK(job_scope("retry", waiting).statuses == std::vector{InstanceStatus::waiting});

  JobRequest ok{"cancel", {}, {{"compensate", true}}, "alice", "customer withdrew", 5};
  CHECK(field_of(ok) == "");
  auto bad = ok;
  bad.action = "explode";
  CHECK(field_of(bad) == "action");
  bad = ok;
  bad.reason.clear();
  CHECK(field_of(bad) == "reason");
  bad = ok;
  bad.per_second = 0;
  CHECK(field_of(bad) == "per_second");
  bad = ok;
  bad.args = {{"compensate", "yes"}};
  CHECK(field_of(bad) == "args/compensate");
  bad = ok;
  bad.action = "signal";
  bad.args = json::object();
  CHECK(field_of(bad) == "args/name");

  InstanceFilter filter;
  filter.statuses = {InstanceStatus::suspended, InstanceStatus::waiting};
  filter.workflow = "labels";
  filter.version = 2;
  filter.paused = false;
  filter.created_before = parse_time("2026-06-01T00:00:00Z");
  filter.attributes = {parse_attribute_condition("value>=500"),
                       parse_attribute_condition("customer_id=\"500\"")};
  auto back = filter_from_json(filter_to_json(filter));
  CHECK(filter_to_json(back) == filter_to_json(filter));
  CHECK(back.attributes[1].value == json("500"));
  CHECK_THROWS_AS(filter_from_json({{"stauts", json::array()}}), Error);
  CHECK_THROWS_AS(filter_from_json({{"status", {"bogus"}}}), Error);
  CHECK_THROWS_AS(filter_from_json({{"attributes", {"no condition"}}}), Error);
}

TEST_CASE("Engine.Jobs.Issue16.ARetryJobDealsWithEachInstanceOnce") {
  Harness h(kJobFlow);
  std::vector<std::string> ids;
  h.ext->script("create_label", std::vector<Outcome>(6, business("Broken")));
  for (int i = 0; i < 6; ++i)
    ids.push_back(h.start({{"rma_id", "R-" + std::to_string(i)}}).instance_id);
  h.idle();
  for (const auto& id : ids) REQUIRE(h.row(id).status == InstanceStatus::suspended);
  // One of them is repaired by hand before the job reaches it: the job says it was refused.
  h.act(ids[3], ActionKind::resolve);

  JobRequest request{"retry", {}, json::object(), "ops", "ERP back", 1000};
  request.filter.statuses = {InstanceStatus::suspended, InstanceStatus::failed};
  auto job = run_job(h, request);
  CHECK(job.state == JobState::finished);
  CHECK(job.applied == 5);
  CHECK(job.refused == 1);
  CHECK(job.cursor == ids.back());
  auto items = h.engine->store().job_items(job.id, "", false, 100);
  REQUIRE(items.size() == 6);
  CHECK_FALSE(items[3].applied);
  CHECK(items[3].detail.find("finished") != std::string::npos);
  CHECK(h.engine->store().job_items(job.id, "", true, 100).size() == 1);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i == 3) continue;
    int by_job = 0;
    for (const auto& e : h.history(ids[i])) {
      if (e.type != EventType::operator_action) continue;
      by_job += json::parse(e.data).value("job", "") == job.id;
    }
    CHECK(by_job == 1);
  }
}

TEST_CASE("Engine.Jobs.Issue16.ACancelledJobStopsAndAReopenedEngineResumesARunningOne") {
  Harness h(kJobFlow);
  std::vector<std::string> ids;
  for (int i = 0; i < 4; ++i)
    ids.push_back(h.start({{"rma_id", "P-" + std::to_string(i)}}).instance_id);
  h.idle();
  // Stored, not yet run (run_until_idle does not run jobs): the next engine finds it running.
  auto job = h.engine->start_job({"pause", {}, json::object(), "ops", "ERP maintenance", 1000});
  h.idle();
  auto stored = job.get();
  CHECK(stored.filter.paused == false);
  REQUIRE(stored.filter.created_before.has_value());
  h.close();
  h.open();
  CHECK(h.engine->store().running_jobs().size() == 1);
  std::thread runner([&] { h.engine->run(); });
  auto reader = open_sqlite_store(h.db, StoreOptions{SyncMode::normal, true});
  bool ended = eventually([&] {
    auto row = reader->get_job(stored.id);
    return row && row->state == JobState::finished;
  });
  // A slow one, cancelled at once: it dealt with none.
  auto slow = h.engine->start_job({"resume", {}, json::object(), "ops", "ERP back", 0.1}).get();
  auto cancelled = h.engine->cancel_job(slow.id, "bob", "not yet").get();
  CHECK_THROWS_AS(h.engine->cancel_job("job-none", "bob", "x").get(), Error);
  REQUIRE(eventually([&] { return reader->get_job(stored.id)->state == JobState::finished; }));
  // Ended: it cannot be cancelled.
  CHECK_THROWS_AS(h.engine->cancel_job(stored.id, "bob", "late").get(), Error);
  h.engine->stop();
  runner.join();
  REQUIRE(ended);
  CHECK(reader->get_job(stored.id)->applied == 4);
  for (const auto& id : ids) CHECK(h.row(id).paused_at.has_value());
  CHECK(cancelled.state == JobState::cancelled);
  CHECK(cancelled.cancelled_by == "bob");
  CHECK(cancelled.applied + cancelled.refused == 0);
  CHECK(reader->job_items(slow.id, "", false, 10).empty());
}
