#include <doctest/doctest.h>

#include <thread>

#include "tests/runtime/harness.hpp"

using namespace rmaflow;
using namespace rmaflow::testing;
using json = nlohmann::json;

namespace {

const char* kReturn = R"(
workflow: virtual-return
version: 1
defaults:
  timeout: 10s
  retry: { max_attempts: 3, interval: 1h, backoff: 1.0, max_interval: 2h }
start: label
steps:
  label:
    action: ext.label
    result: label
    next: await_receipt
  await_receipt:
    wait: { signal: warehouse.received, timeout: 30d }
    on_timeout: expired
    next: done
  done: { end: completed }
  expired: { end: expired }
)";

// Answers every call from a thread of its own, as an HTTP client would.
class ThreadedAdapter final : public Adapter {
 public:
  void invoke(const Invocation&, AdapterHost&, Completion done) override {
    std::thread([done = std::move(done)] { done(Outcome::success({{"label_id", "L-T"}})); })
        .detach();
  }
  bool has_operation(std::string_view) const override { return true; }
};

}  // namespace

TEST_CASE("VirtualTime.RunVirtual.RetriesAndThirtyDayWaitPassInOneCall") {
  Harness h(kReturn);
  h.ext->script("label", {transient(), ok({{"label_id", "L1"}})});
  auto t0 = h.clock->now();
  StartRequest request;
  request.workflow = h.workflow;
  auto future = h.engine->start(request);
  h.engine->run_virtual(t0 + 365 * kDay);
  auto id = future.get().instance_id;
  auto row = h.row(id);
  CHECK(row.status == InstanceStatus::expired);
  // The retry waited its hour; the wait then ran its full 30 days, not a moment less.
  CHECK((h.clock->now() - t0).count() == (Duration(3'600'000) + 30 * kDay).count());
  CHECK(h.ext->calls().size() == 2);
  CHECK(!h.engine->next_timer().has_value());
}

TEST_CASE("VirtualTime.RunVirtual.StopsAtTheHorizon") {
  Harness h(kReturn);
  h.ext->script("label", {ok()});
  auto t0 = h.clock->now();
  auto id = h.start(json::object()).instance_id;
  h.engine->run_virtual(t0 + 10 * kDay);
  CHECK(h.row(id).status == InstanceStatus::waiting);
  CHECK(h.clock->now() == t0);  // the next timer is past the horizon: the clock stays
  REQUIRE(h.engine->next_timer().has_value());
  CHECK(*h.engine->next_timer() == t0 + 30 * kDay);
}

TEST_CASE("VirtualTime.RunVirtual.WaitsForCallsAnsweredByAnotherThread") {
  Harness h(kReturn);
  h.adapters->add("ext", std::make_shared<ThreadedAdapter>());
  auto t0 = h.clock->now();
  StartRequest request;
  request.workflow = h.workflow;
  auto future = h.engine->start(request);
  h.engine->run_virtual(t0 + 5 * kDay);
  auto row = h.row(future.get().instance_id);
  // Answered, not timed out by a jump to the attempt's deadline.
  CHECK(row.status == InstanceStatus::waiting);
  CHECK(row.context->at("label")["label_id"] == "L-T");
  CHECK(h.clock->now() == t0);
}

TEST_CASE("VirtualTime.RunVirtual.RefusedOnARealClock") {
  TempDir dir;
  EngineOptions options;
  options.db_path = dir.file("real.db");
  auto engine = Engine::open(std::move(options));
  CHECK_THROWS_AS(engine->run_virtual(TimePoint::max()), Error);
}
