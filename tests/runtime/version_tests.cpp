// Versions side by side: deploying a new version while instances of the old one wait, the
// pre-deploy report of stranded steps, and the per-version counts.
#include <doctest/doctest.h>

#include "rmaflow/versions.hpp"
#include "tests/runtime/harness.hpp"

using namespace rmaflow;
using namespace rmaflow::testing;
using json = nlohmann::json;

namespace {

const char* kVersion1 = R"(
workflow: ret
version: 1
start: label
steps:
  label:
    action: ext.label
    result: label
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
  expired: { end: expired }
)";

// Renames await_parcel, inserts an inspection, and makes credit a wait (a kind change).
const char* kVersion2 = R"(
workflow: ret
version: 2
start: label
steps:
  label:
    action: ext.label
    result: label
    next: await_receipt
  await_receipt:
    wait: { signal: warehouse.received, timeout: 30d }
    result: receipt
    on_timeout: expired
    next: inspect
  inspect:
    action: ext.inspect
    next: credit
  credit:
    wait: { duration: 1h }
    next: done
  done: { end: completed }
  expired: { end: expired }
)";

std::shared_ptr<const Definition> load(const std::string& yaml) {
  auto loaded = load_definition(yaml, "v.yaml");
  REQUIRE(loaded.ok());
  return loaded.definition;
}

void signal(Harness& h, const std::string& id) {
  SignalRequest request;
  request.instance_id = id;
  request.name = "warehouse.received";
  auto future = h.engine->signal(std::move(request));
  h.idle();
  future.get();
}

std::vector<std::string> entered_steps(Harness& h, const std::string& id) {
  std::vector<std::string> out;
  for (const auto& e : h.history(id))
    if (e.type == EventType::step_entered) out.push_back(e.step);
  return out;
}

}  // namespace

TEST_CASE("Versions.Deploy.WaitingInstancesFinishOnTheirVersion") {
  Harness h(kVersion1);
  h.ext->script("label", {ok(), ok()});
  auto a = h.start({{"rma_id", "A"}}).instance_id;
  auto b = h.start({{"rma_id", "B"}}).instance_id;
  REQUIRE(h.row(a).status == InstanceStatus::waiting);

  CHECK(h.engine->deploy(load(kVersion2)).created);
  h.ext->script("label", {ok()});
  auto c = h.start({{"rma_id", "C"}});
  CHECK(c.version == 2);  // new instances start on the newest version

  // The v1 instances are still pinned to v1 and finish through v1's steps, even after the
  // engine restarts and reloads v1 from the database.
  h.open();
  h.ext->script("credit", {ok(), ok()});
  signal(h, a);
  signal(h, b);
  for (const auto& id : {a, b}) {
    auto row = h.row(id);
    CHECK(row.version == 1);
    CHECK(row.status == InstanceStatus::completed);
    CHECK(entered_steps(h, id) ==
          std::vector<std::string>{"label", "await_parcel", "credit", "done"});
  }
  CHECK(h.row(c.instance_id).step == "await_receipt");
}

TEST_CASE("Versions.Check.ReportsStepsUnfinishedInstancesStandOn") {
  Harness h(kVersion1);
  h.ext->script("label", {ok(), ok()});
  h.start({{"rma_id", "A"}});
  h.start({{"rma_id", "B"}});
  // A third one is still calling the ERP for its credit: it stands on a step that changes kind.
  h.ext->script("label", {ok()});
  auto held = h.start({{"rma_id", "C"}}).instance_id;
  signal(h, held);
  REQUIRE(h.row(held).step == "credit");

  auto check = check_deploy(h.engine->store(), *load(kVersion2));
  CHECK(check.verdict == DeployVerdict::new_version);
  CHECK(check.newest == 1);
  REQUIRE(check.stranded.size() == 2);
  const auto& parcel = check.stranded[0];
  CHECK(parcel.version == 1);
  CHECK(parcel.step == "await_parcel");
  CHECK(parcel.instances == 2);
  CHECK(parcel.waiting == 2);
  CHECK(!parcel.now.has_value());
  CHECK(parcel.renamed_to == "await_receipt");
  CHECK(describe(parcel, 2) ==
        "2 unfinished instances of version 1 stand at step await_parcel, which version 2 does "
        "not have (renamed to await_receipt?)");
  const auto& credit = check.stranded[1];
  CHECK(credit.step == "credit");
  CHECK(credit.instances == 1);
  CHECK(credit.waiting == 0);
  CHECK(credit.now == StepKind::wait);
  CHECK(describe(credit, 2) ==
        "1 unfinished instance of version 1 stands at step credit, which is a task step in "
        "version 1 but a wait step in version 2");
}

TEST_CASE("Versions.Check.UnchangedAndConflict") {
  Harness h(kVersion1);
  auto same = check_deploy(h.engine->store(), *load(kVersion1));
  CHECK(same.verdict == DeployVerdict::unchanged);
  CHECK(same.stranded.empty());

  std::string other = kVersion1;
  other.replace(other.find("timeout: 30d"), 12, "timeout: 20d");
  CHECK(check_deploy(h.engine->store(), *load(other)).verdict == DeployVerdict::conflict);
  CHECK_THROWS_AS(h.engine->deploy(load(other)), Error);
}

TEST_CASE("Versions.List.CountsUnfinishedInstancesPerVersion") {
  Harness h(kVersion1);
  h.ext->script("label", {ok(), ok()});
  auto a = h.start({{"rma_id", "A"}}).instance_id;
  h.start({{"rma_id", "B"}});
  h.ext->script("credit", {ok()});
  signal(h, a);  // finished: not counted
  h.engine->deploy(load(kVersion2));

  auto versions = list_versions(h.engine->store(), "ret");
  REQUIRE(versions.size() == 2);
  CHECK(versions[0].definition.version == 1);
  CHECK(versions[0].unfinished == 1);
  REQUIRE(versions[0].by_step.size() == 1);
  CHECK(versions[0].by_step[0].step == "await_parcel");
  CHECK(versions[0].by_step[0].status == InstanceStatus::waiting);
  CHECK(versions[1].definition.version == 2);
  CHECK(versions[1].unfinished == 0);
  CHECK(list_versions(h.engine->store(), "other").empty());
}
