// db copy: a whole database into a new one through the Store interface, verified.
#include <doctest/doctest.h>

#include <string>

#include "engine/store/db_copy.hpp"
#include "tests/store/store_rows.hpp"
#include "tests/support/pg_cluster.hpp"
#include "tests/support/process.hpp"

using namespace rmaflow;
using rmaflow::testing::TempDir;

namespace {

// A database with a row of every kind: two definitions; a running instance with a wait timer,
// a consumed and a pending signal and search attributes; a failed child of it; an applied and
// a pending command; a finished job with an applied and a refused item.
void fill_every_kind(Store& store) {
  store.put_definition(testing::definition_row("returns", 1, "h1"));
  store.put_definition(testing::definition_row("returns", 2, "h2"));

  WriteBatch batch = testing::start_batch("i-1", 3);
  auto child = testing::instance_row("i-2", 1'700'000'100'000);
  child.status = InstanceStatus::failed;
  child.ended_at = from_millis(1'700'000'200'000);
  child.parent = ParentRef{"i-1", "review", "inspect[L1]"};
  batch.instances.push_back(child);
  batch.events.push_back(testing::event_row("i-2", 1));
  batch.timers_set.push_back(testing::timer_row("i-1", "wait", 1'700'000'900'000));
  auto consumed = testing::signal_row("i-1", "parcel_received", "a");
  consumed.consumed_at = from_millis(1'700'000'000'500);
  batch.signals_added.push_back(consumed);
  batch.signals_added.push_back(testing::signal_row("i-1", "parcel_received", "b"));
  batch.attributes.push_back({"i-1", {{"customer_id", "C-105"}, {"value", 512.5}}});
  store.commit(batch);

  auto applied = testing::command_row("i-1");
  applied.applied_at = from_millis(1'700'000'000'900);
  applied.outcome = "applied";
  store.add_command(applied);
  store.add_command(testing::command_row("i-2", 1'700'000'300'000));

  JobRow job;
  job.id = "job-1";
  job.action = "retry";
  job.filter.workflow = "returns";
  job.actor = "ops";
  job.reason = "carrier back";
  job.state = JobState::finished;
  job.created_at = from_millis(1'700'000'400'000);
  job.updated_at = job.created_at;
  job.ended_at = job.created_at;
  job.cursor = "i-2";
  job.applied = 1;
  job.refused = 1;
  WriteBatch jobs;
  jobs.jobs.push_back(job);
  jobs.job_items.push_back({"job-1", "i-1", true, "running at authorize", job.created_at});
  jobs.job_items.push_back({"job-1", "i-2", false, "it has ended", job.created_at});
  store.commit(jobs);
}

}  // namespace

TEST_CASE("Store.Copy.EveryRowArrivesAndVerifies") {
  TempDir dir;
  auto from = open_store(dir.file("from.db"));
  fill_every_kind(*from);
  auto to = open_store(dir.file("to.db"));

  auto copied = store::copy_database(*from, *to);
  CHECK(copied.definitions == 2);
  CHECK(copied.instances == 2);
  CHECK(copied.events == 4);
  CHECK(copied.timers == 1);
  CHECK(copied.signals == 2);
  CHECK(copied.commands == 2);
  CHECK(copied.jobs == 1);
  CHECK(copied.job_items == 2);
  CHECK(copied.checksum.size() == 64);
  CHECK(store::digest_database(*to) == copied);

  // What the engine reads back works on the copy as on the original.
  auto child = to->get_instance("i-2");
  REQUIRE(child.has_value());
  REQUIRE(child->parent.has_value());
  CHECK(child->parent->branch == "inspect[L1]");
  auto pending = to->oldest_pending_signal("i-1", "parcel_received");
  REQUIRE(pending.has_value());
  CHECK(pending->idempotency_key == "key-b");
  CHECK(to->attributes("i-1") == nlohmann::json{{"customer_id", "C-105"}, {"value", 512.5}});
  auto commands = to->pending_commands(10);
  REQUIRE(commands.size() == 1);
  CHECK(commands[0].instance_id == "i-2");
  CHECK(to->due_timers(TimePoint::max(), 10).size() == 1);
  CHECK(to->job_items("job-1", "", true, 10).size() == 1);

  // A change to any row changes the checksum.
  WriteBatch touch;
  auto moved = *to->get_instance("i-1");
  moved.step = "label";
  touch.instances.push_back(moved);
  to->commit(touch);
  auto after = store::digest_database(*to);
  CHECK(after.instances == copied.instances);
  CHECK(after.checksum != copied.checksum);
}

TEST_CASE("Store.Copy.OnlyIntoAnEmptyDatabase") {
  TempDir dir;
  auto from = open_store(dir.file("from.db"));
  fill_every_kind(*from);
  auto to = open_store(dir.file("to.db"));
  to->commit(testing::start_batch("i-9"));

  auto e = testing::error_from([&] { store::copy_database(*from, *to); });
  CHECK(e.code() == Errc::conflict);
  CHECK(std::string(e.what()).find("the target database is not empty (0 definition(s), 1 "
                                   "instance(s))") == 0);
  CHECK_FALSE(to->get_instance("i-1").has_value());
  CHECK(to->list_definitions().empty());
}

namespace {

// A target that loses the last event of every batch it commits: a copy that must not verify.
class LosingStore : public StoreWrapper {
 public:
  using StoreWrapper::StoreWrapper;
  CommitReceipt commit(const WriteBatch& batch) override {
    auto lossy = batch;
    if (!lossy.events.empty()) lossy.events.pop_back();
    return target().commit(lossy);
  }
};

}  // namespace

TEST_CASE("Store.Copy.ACopyThatDiffersIsReported") {
  TempDir dir;
  auto from = open_store(dir.file("from.db"));
  fill_every_kind(*from);
  LosingStore to(open_store(dir.file("to.db")));

  auto e = testing::error_from([&] { store::copy_database(*from, to); });
  CHECK(e.code() == Errc::storage);
  CHECK(std::string(e.what()) ==
        "the copy does not verify: the source holds 4 events, the target 3");
}

// SQLite to PostgreSQL and back: all three hold the same rows, by counts and checksum, and the
// round trip's SQLite file reads like the original.
TEST_CASE("Store.Copy.Issue18.SqliteToPostgresAndBack") {
  TempDir dir;
  auto original = open_store(dir.file("original.db"));
  fill_every_kind(*original);
  auto postgres = open_store(testing::PgCluster::shared().create_database(),
                             StoreOptions{.engine = true});
  auto there = store::copy_database(*original, *postgres);
  auto back = open_store(dir.file("back.db"));
  auto again = store::copy_database(*postgres, *back);
  CHECK(there == again);
  CHECK(there.instances == 2);
  CHECK(there.events == 4);
  CHECK(back->get_instance("i-2")->parent->branch == "inspect[L1]");
  CHECK(back->oldest_pending_signal("i-1", "parcel_received")->idempotency_key == "key-b");
  CHECK(back->attributes("i-1") == original->attributes("i-1"));
}
