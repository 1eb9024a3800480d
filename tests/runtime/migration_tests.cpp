// Migrations: a waiting instance moved to another version as one audited transition, its wait
// keeping its start, refusals that change nothing, and the dry-run plan.
#include <doctest/doctest.h>

#include "rmaflow/graph.hpp"
#include "rmaflow/migration.hpp"
#include "tests/runtime/harness.hpp"

using namespace rmaflow;
using namespace rmaflow::testing;
using json = nlohmann::json;

namespace {

const char* kV1 = R"(
workflow: ret
version: 1
start: label
steps:
  label:
    action: ext.label
    result: label
    compensate: { action: ext.void_label }
    next: await_parcel
  await_parcel:
    wait: { signal: warehouse.received, timeout: 30d }
    result: receipt
    on_timeout: expired
    next: credit
  credit:
    action: ext.credit
    next: done
  done: { end: completed }
  expired: { end: { status: expired, compensate: true } }
)";

// await_parcel is now await_receipt (20 days), then an inspection.
const char* kV2 = R"(
workflow: ret
version: 2
start: label
steps:
  label:
    action: ext.label
    result: label
    compensate: { action: ext.void_label }
    next: await_receipt
  await_receipt:
    wait: { signal: warehouse.received, timeout: 20d }
    result: receipt
    on_timeout: expired
    next: inspect
  inspect:
    action: ext.inspect
    next: credit
  credit:
    action: ext.credit
    next: done
  done: { end: completed }
  expired: { end: { status: expired, compensate: true } }
)";

// Waits for another signal, and its label cannot be undone.
const char* kV3 = R"(
workflow: ret
version: 3
start: label
steps:
  label:
    action: ext.label
    next: await_parcel
  await_parcel:
    wait: { signal: carrier.delivered, timeout: 30d }
    next: done
  done: { end: completed }
)";

// Waits for the carrier's delivery scan instead, and keeps the label's compensation.
const char* kV4 = R"(
workflow: ret
version: 4
start: label
steps:
  label:
    action: ext.label
    compensate: { action: ext.void_label }
    next: await_parcel
  await_parcel:
    wait: { signal: carrier.delivered }
    result: delivery
    next: done
  done: { end: completed }
)";

void deploy(Harness& h, const char* yaml) {
  auto loaded = load_definition(yaml, "v.yaml");
  REQUIRE(loaded.ok());
  h.engine->deploy(loaded.definition);
}

MigrationRequest to_v2() {
  MigrationRequest request;
  request.workflow = "ret";
  request.from = 1;
  request.to = 2;
  request.steps = {{"await_parcel", "await_receipt"}};
  return request;
}

ActionResult migrate(Harness& h, const std::string& id, const MigrationRequest& request) {
  auto future = h.engine->act(migration_action(request, id, "ana", "v2 adds an inspection"));
  h.idle();
  return future.get();
}

void signal(Harness& h, const std::string& id, const std::string& name) {
  SignalRequest request;
  request.instance_id = id;
  request.name = name;
  auto future = h.engine->signal(std::move(request));
  h.idle();
  future.get();
}

std::vector<std::string> steps_entered(Harness& h, const std::string& id) {
  std::vector<std::string> out;
  for (const auto& e : h.history(id))
    if (e.type == EventType::step_entered) out.push_back(e.step);
  return out;
}

// The instance's one migrate audit event.
json migrate_event(Harness& h, const std::string& id) {
  json found;
  int n = 0;
  for (const auto& e : h.history(id)) {
    if (e.type != EventType::operator_action) continue;
    auto data = json::parse(e.data);
    if (data["action"] == "migrate") found = data, ++n;
  }
  CHECK(n == 1);
  return found;
}

}  // namespace

TEST_CASE("Migrations.Move.WaitingInstanceFinishesOnTheNewVersion") {
  Harness h(kV1);
  h.ext->script("label", {ok()});
  auto started = h.clock->now();
  auto id = h.start({{"rma_id", "A"}}).instance_id;
  h.advance(10 * kDay);
  deploy(h, kV2);

  auto result = migrate(h, id, to_v2());
  CHECK(result.status == InstanceStatus::waiting);
  CHECK(result.step == "await_receipt");
  auto row = h.row(id);
  CHECK(row.version == 2);
  CHECK(row.deadline == started + 20 * kDay);  // the wait keeps its start
  CHECK(h.context(id)["instance"]["version"] == 2);
  auto audit = migrate_event(h, id);
  CHECK(audit["actor"] == "ana");
  CHECK(audit["args"] == json({{"from", 1}, {"to", 2}, {"steps", {{"await_parcel", "await_receipt"}}}}));
  CHECK(audit["before"] == json({{"status", "waiting"}, {"step", "await_parcel"}}));
  CHECK(audit["after"] == json({{"status", "waiting"}, {"step", "await_receipt"}}));
  check_contiguous(h.history(id));

  // After a restart the instance runs on version 2, loaded from the database.
  h.open();
  h.ext->script("inspect", {ok()});
  h.ext->script("credit", {ok()});
  signal(h, id, "warehouse.received");
  CHECK(h.row(id).status == InstanceStatus::completed);
  CHECK(steps_entered(h, id) ==
        std::vector<std::string>{"label", "await_parcel", "inspect", "credit", "done"});
  // Drawn over version 2, the path reads as if it had entered version 2's wait.
  auto overlay = overlay_of(h.row(id), h.history(id));
  CHECK(overlay.visited ==
        std::vector<std::string>{"label", "await_receipt", "inspect", "credit", "done"});
}

TEST_CASE("Migrations.Move.ShorterTimeoutAlreadyPassedFiresAtOnce") {
  Harness h(kV1);
  h.ext->script("label", {ok()});
  auto id = h.start({{"rma_id", "A"}}).instance_id;
  h.advance(25 * kDay);  // past version 2's 20 days, within version 1's 30
  deploy(h, kV2);
  h.ext->script("void_label", {ok()});
  migrate(h, id, to_v2());
  auto row = h.row(id);
  CHECK(row.status == InstanceStatus::expired);  // the compensation ran on version 2's record
  CHECK(row.version == 2);
  CHECK(h.ext->calls().back().operation == "void_label");
}

TEST_CASE("Migrations.Refuse.CompletedStepWithoutCompensationInTheNewVersion") {
  Harness h(kV1);
  h.ext->script("label", {ok()});
  auto id = h.start({{"rma_id", "A"}}).instance_id;
  REQUIRE(h.row(id).status == InstanceStatus::waiting);
  deploy(h, kV3);
  MigrationRequest request{"ret", 1, 3, {}, {}};
  // Version 3 has no compensation for label, which version 1 would still undo on expiry.
  auto future = h.engine->act(migration_action(request, id, "ana", "try"));
  h.idle();
  CHECK_THROWS_WITH_AS(future.get(),
                       doctest::Contains("its completed step label may still need compensating, "
                                         "and version 3 has no compensation at step label"),
                       Error);
  CHECK(h.row(id).version == 1);
}

TEST_CASE("Migrations.Refuse.InstanceNotAtAWaitStep") {
  Harness h(kV1);
  h.ext->script("label", {ok()});
  auto id = h.start({{"rma_id", "A"}}).instance_id;
  signal(h, id, "warehouse.received");  // now calling credit, held by the adapter
  REQUIRE(h.row(id).step == "credit");
  deploy(h, kV2);
  auto before = h.history(id).size();
  auto future = h.engine->act(migration_action(to_v2(), id, "ana", "try"));
  h.idle();
  try {
    future.get();
    FAIL("a running instance was migrated");
  } catch (const Error& e) {
    CHECK(e.code() == Errc::refused);
    CHECK(std::string(e.what()) ==
          "instance " + id + " is running at step credit: it is running at task step credit; "
          "only an instance waiting at a wait step can move");
  }
  CHECK(h.history(id).size() == before);
  CHECK(h.row(id).version == 1);
}

TEST_CASE("Migrations.Plan.ListsEveryInstanceWithWhereItLandsOrWhyNot") {
  Harness h(kV1);
  h.ext->script("label", {ok(), ok()});
  auto waiting = h.start({{"rma_id", "A"}}).instance_id;
  auto running = h.start({{"rma_id", "B"}}).instance_id;
  signal(h, running, "warehouse.received");
  deploy(h, kV2);

  auto plan = plan_migration(h.engine->store(), to_v2());
  REQUIRE(plan.items.size() == 2);
  CHECK(plan.movable() == 1);
  CHECK(plan.items[0].instance_id == waiting);
  CHECK(plan.items[0].target == "await_receipt");
  CHECK(plan.items[0].refusal.empty());
  CHECK(plan.items[1].instance_id == running);
  CHECK(plan.items[1].target.empty());
  CHECK(plan.items[1].refusal.find("only an instance waiting at a wait step can move") !=
        std::string::npos);

  auto unmapped = to_v2();
  unmapped.steps.clear();
  auto plan2 = plan_migration(h.engine->store(), unmapped);
  CHECK(plan2.items[0].refusal ==
        "version 2 has no step await_parcel; map it with --map await_parcel=STEP");

  auto bad = to_v2();
  bad.steps = {{"await_parcel", "inspect"}};
  CHECK(plan_migration(h.engine->store(), bad).items[0].refusal ==
        "step inspect of version 2 is a task step; an instance can only move to a wait step");
  bad.steps = {{"nowhere", "await_receipt"}};
  CHECK_THROWS_WITH_AS(plan_migration(h.engine->store(), bad),
                       "--map nowhere=await_receipt: version 1 of ret has no step nowhere", Error);
  bad = to_v2();
  bad.to = 9;
  CHECK_THROWS_WITH_AS(plan_migration(h.engine->store(), bad), "workflow ret has no version 9",
                       Error);
  bad.to = 1;
  CHECK_THROWS_AS(plan_migration(h.engine->store(), bad), Error);
  auto one = to_v2();
  one.instances = {running};
  CHECK(plan_migration(h.engine->store(), one).movable() == 0);
}

TEST_CASE("Migrations.Move.ConsumesASignalTheNewWaitIsFor") {
  // Version 1 waits for the carrier's scan, then the warehouse's; the warehouse's arrives first
  // and is kept. Version 2 waits only for the warehouse's: moved there, it takes the kept one.
  Harness h(R"(
workflow: legs
version: 1
start: await_scan
steps:
  await_scan:
    wait: { signal: carrier.scanned }
    next: await_receipt
  await_receipt:
    wait: { signal: warehouse.received }
    result: receipt
    next: done
  done: { end: completed }
)");
  auto id = h.start(json::object()).instance_id;
  h.signal(id, "warehouse.received", {{"qty", 1}});
  REQUIRE(h.row(id).status == InstanceStatus::waiting);
  REQUIRE(h.row(id).step == "await_scan");
  deploy(h, R"(
workflow: legs
version: 2
start: await_receipt
steps:
  await_receipt:
    wait: { signal: warehouse.received }
    result: receipt
    next: done
  done: { end: completed }
)");
  MigrationRequest request{"legs", 1, 2, {{"await_scan", "await_receipt"}}, {}};
  migrate(h, id, request);
  auto row = h.row(id);
  CHECK(row.version == 2);
  CHECK(row.status == InstanceStatus::completed);
  CHECK(row.context->at("receipt") == json({{"qty", 1}}));
}

TEST_CASE("Migrations.Move.Issue11.ASignalNoWaitOfTheVersionTakesIsRefused") {
  Harness h(kV1);
  h.ext->script("label", {ok()});
  auto id = h.start({{"rma_id", "A"}}).instance_id;
  CHECK_THROWS_WITH_AS(signal(h, id, "carrier.delivered"),
                       doctest::Contains("it waits for: warehouse.received"), Error);
  deploy(h, kV4);
  MigrationRequest request{"ret", 1, 4, {}, {}};
  migrate(h, id, request);
  REQUIRE(h.row(id).status == InstanceStatus::waiting);
  signal(h, id, "carrier.delivered");  // what version 4 waits for
  auto row = h.row(id);
  CHECK(row.version == 4);
  CHECK(row.status == InstanceStatus::completed);
  CHECK_FALSE(row.deadline.has_value());
  CHECK(h.engine->store().due_timers(TimePoint::max(), 10).empty());  // the 30-day timer is gone
}
