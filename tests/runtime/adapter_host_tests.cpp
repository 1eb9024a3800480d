// What the engine offers adapters beyond calls: being told when an engine opens and closes,
// timers on its clock, and delivering the signals an outside system sends back.
#include <doctest/doctest.h>

#include "tests/runtime/harness.hpp"

using namespace rmaflow;
using namespace rmaflow::testing;
using json = nlohmann::json;

namespace {

const char* kAwait = R"(
workflow: await-receipt
version: 1
business_key: ${ .input.rma_id }
start: label
steps:
  label:
    action: ext.label
    next: await_receipt
  await_receipt:
    wait: { signal: warehouse.received, timeout: 30d }
    result: receipt
    on_timeout: expired
    next: done
  done: { end: completed }
  expired: { end: expired }
)";

// Keeps the host it is started with, as a system that sends events does.
class EventSource final : public Adapter {
 public:
  void invoke(const Invocation&, AdapterHost&, Completion done) override { done(ok()); }
  bool has_operation(std::string_view) const override { return true; }
  void start(AdapterHost& host) override {
    host_ = &host;
    ++starts;
  }
  void stop() override {
    host_ = nullptr;
    ++stops;
  }

  // Delivers a signal and returns what the engine answered, once it has answered.
  SignalDelivery send(Engine& engine, SignalRequest request) {
    std::optional<SignalDelivery> answer;
    REQUIRE(host_ != nullptr);
    host_->deliver_signal(std::move(request), [&](SignalDelivery d) { answer = std::move(d); });
    engine.run_until_idle();
    REQUIRE(answer.has_value());
    return *answer;
  }
  AdapterHost* host() const { return host_; }

  int starts = 0;
  int stops = 0;

 private:
  AdapterHost* host_ = nullptr;
};

// A harness whose engine started an event source, with one instance of `yaml` for RMA-1
// started and settled.
struct WithSource {
  explicit WithSource(const char* yaml) : h(yaml), source(std::make_shared<EventSource>()) {
    h.adapters->add("wms", source);
    h.open();
    h.ext->script("label", {ok()});
    id = h.start({{"rma_id", "RMA-1"}}).instance_id;
  }
  Harness h;
  std::shared_ptr<EventSource> source;
  std::string id;
};

SignalRequest receipt(const std::string& key) {
  SignalRequest r;
  r.workflow = "await-receipt";
  r.business_key = "RMA-1";
  r.name = "warehouse.received";
  r.payload = {{"dock", 4}};
  r.idempotency_key = key;
  return r;
}

}  // namespace

TEST_CASE("AdapterHost.StartAndStop.FollowTheEngine") {
  Harness h(kAwait);
  auto source = std::make_shared<EventSource>();
  h.adapters->add("wms", source);
  h.open();  // an engine opened with the adapter starts it
  CHECK(source->starts == 1);
  CHECK(source->stops == 0);
  h.close();
  CHECK(source->stops == 1);
  CHECK(source->host() == nullptr);
  h.open();
  CHECK(source->starts == 2);
}

TEST_CASE("AdapterHost.DeliverSignal.AcceptedOnceCommitted") {
  WithSource w(kAwait);
  auto& [h, source, id] = w;
  REQUIRE(h.row(id).status == InstanceStatus::waiting);

  auto first = source->send(*h.engine, receipt("scan-1"));
  REQUIRE(first.accepted.has_value());
  CHECK_FALSE(first.refused.has_value());
  CHECK(first.accepted->instance_id == id);
  CHECK_FALSE(first.accepted->duplicate);
  CHECK(h.row(id).status == InstanceStatus::completed);
  CHECK(h.context(id)["receipt"]["dock"] == 4);
}

TEST_CASE("AdapterHost.DeliverSignal.UnknownOrFinishedInstancesAreRefused") {
  WithSource w(kAwait);
  auto& [h, source, id] = w;
  source->send(*h.engine, receipt("scan-1"));
  auto repeat = source->send(*h.engine, receipt("scan-1"));
  // Finished by the first one: the repeat is refused as for a finished instance.
  REQUIRE(repeat.refused.has_value());
  CHECK(repeat.refused->code() == Errc::refused);
  CHECK(h.engine->store().signals(id).size() == 1);

  auto unknown = receipt("scan-2");
  unknown.business_key = "RMA-404";
  auto refused = source->send(*h.engine, unknown);
  REQUIRE(refused.refused.has_value());
  CHECK(refused.refused->code() == Errc::not_found);
  CHECK_FALSE(refused.accepted.has_value());
}

TEST_CASE("AdapterHost.DeliverSignal.DuplicateWhileWaitingIsAcceptedOnce") {
  const char* two_waits = R"(
workflow: await-receipt
version: 1
business_key: ${ .input.rma_id }
start: await_review
steps:
  await_review:
    wait: { signal: review.done, timeout: 1d }
    on_timeout: await_receipt
    next: await_receipt
  await_receipt:
    wait: { signal: warehouse.received, timeout: 30d }
    on_timeout: done
    next: done
  done: { end: completed }
)";
  WithSource w(two_waits);
  auto& [h, source, id] = w;
  // The receipt arrives while the instance still waits for the review: it is stored.
  auto first = source->send(*h.engine, receipt("scan-1"));
  auto again = source->send(*h.engine, receipt("scan-1"));
  REQUIRE(first.accepted.has_value());
  REQUIRE(again.accepted.has_value());
  CHECK_FALSE(first.accepted->duplicate);
  CHECK(again.accepted->duplicate);
  CHECK(h.engine->store().signals(id).size() == 1);
  CHECK(h.row(id).status == InstanceStatus::waiting);
}

TEST_CASE("AdapterHost.CallAt.AnAdaptersOwnTimerDoesNotKeepARunGoing") {
  // On the real clock: an event the adapter will send in a day is not waited for by
  // run_until_idle(); the adapter keeps it durably and re-arms it at the next start.
  TempDir dir;
  auto registry = std::make_shared<AdapterRegistry>();
  auto source = std::make_shared<EventSource>();
  registry->add("wms", source);
  EngineOptions options;
  options.db_path = dir.file("real.db");
  options.adapters = registry;
  auto engine = Engine::open(std::move(options));
  bool fired = false;
  source->host()->call_at(source->host()->clock().now() + Duration(86'400'000),
                          [&] { fired = true; });
  engine->run_until_idle();  // returns: nothing but the adapter's own timer is pending
  CHECK_FALSE(fired);
  REQUIRE(engine->next_timer().has_value());
}
