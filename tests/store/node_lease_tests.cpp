// Several nodes on one PostgreSQL database, at the store: the shards shared out by leases,
// each node's engine queries holding only its shards' rows, a takeover once a node stops
// renewing, and the fence that refuses the old holder's commits from then on.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <bit>
#include <chrono>
#include <string>
#include <thread>

#include "tests/store/store_rows.hpp"
#include "tests/support/pg_cluster.hpp"

using namespace rmaflow;
using testing::error_from;
using testing::PgCluster;

namespace {

constexpr std::string_view kDigits = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

// An instance id in `shard`.
std::string id_in(int shard, int n = 0) {
  return fmt::format("01J{:022}{}", n, kDigits[static_cast<std::size_t>(shard)]);
}

int first_shard(ShardMask mask) {
  return std::countr_zero(mask);
}

StoreOptions node_options(const std::string& name, Duration lease = Duration(10'000)) {
  return StoreOptions{.engine = true, .node = name, .lease = lease};
}

// Keeps `node`'s leases until it has gained `want`, for at most 20 s (a lease must expire).
ShardMask keep_until_gained(Store& node, ShardMask want) {
  ShardMask gained = 0;
  auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while ((gained & want) != want && std::chrono::steady_clock::now() < give_up) {
    gained |= node.keep_leases().gained;
    if ((gained & want) != want) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return gained;
}

}  // namespace

TEST_CASE("Store.Nodes.Issue18.ShardsAreSharedOutAndEachNodeSeesItsOwn") {
  auto db = PgCluster::shared().create_database();
  auto a = open_store(db, node_options("a"));
  auto b = open_store(db, node_options("b"));
  CHECK(a->held_shards() == 0);  // nothing until the first round
  auto got_a = a->keep_leases();
  auto got_b = b->keep_leases();
  CHECK(std::popcount(got_a.gained) == kShards / 2);  // its share of two live nodes
  CHECK((got_a.gained & got_b.gained) == 0);
  CHECK((got_a.gained | got_b.gained) == kAllShards);
  CHECK(a->held_shards() == got_a.gained);
  CHECK(a->keep_leases().gained == 0);  // renewed, nothing new

  const int sa = first_shard(got_a.gained), sb = first_shard(got_b.gained);
  auto batch = testing::start_batch(id_in(sa));
  auto other = testing::start_batch(id_in(sb));
  batch.instances.push_back(other.instances[0]);
  batch.events.push_back(other.events[0]);
  batch.timers_set = {testing::timer_row(id_in(sa), "wait", 1000),
                      testing::timer_row(id_in(sb), "wait", 1000)};
  a->commit(batch);
  a->add_command(testing::command_row(id_in(sa)));
  a->add_command(testing::command_row(id_in(sb)));

  CHECK(testing::ids_of(a->active_instances()) == std::vector<std::string>{id_in(sa)});
  CHECK(testing::ids_of(b->active_instances()) == std::vector<std::string>{id_in(sb)});
  auto timers = b->due_timers(from_millis(2000), 10);
  REQUIRE(timers.size() == 1);
  CHECK(timers[0].instance_id == id_in(sb));
  auto commands = a->pending_commands(10);
  REQUIRE(commands.size() == 1);
  CHECK(commands[0].instance_id == id_in(sa));
  // Readers see everything.
  CHECK(open_store(db)->list_instances({}).size() == 2);

  auto nodes = a->nodes();
  REQUIRE(nodes.size() == 2);
  CHECK(nodes[0].name == "a");
  CHECK(nodes[0].held == got_a.gained);
  CHECK(nodes[1].name == "b");
}

TEST_CASE("Store.Nodes.Issue18.ATakeoverFencesTheOldHolder") {
  auto db = PgCluster::shared().create_database();
  auto a = open_store(db, node_options("a", Duration(600)));
  auto b = open_store(db, node_options("b", Duration(600)));
  const ShardMask of_a = a->keep_leases().gained;
  b->keep_leases();
  REQUIRE(std::popcount(of_a) == kShards / 2);
  const int sa = first_shard(of_a);
  a->commit(testing::start_batch(id_in(sa, 1)));

  // `a` stops renewing (a long pause); `b` takes its shards once their leases expire.
  CHECK(keep_until_gained(*b, of_a) == of_a);
  CHECK(b->held_shards() == kAllShards);
  CHECK(b->node().takeovers == kShards / 2);

  // Whatever `a` still had in hand is refused, whole, and nothing of it is written.
  auto late = testing::start_batch(id_in(sa, 2));
  CHECK_THROWS_AS(a->commit(late), LeaseLost);
  CHECK(error_from([&] { a->commit(late); }).code() == Errc::conflict);
  CHECK_FALSE(open_store(db)->get_instance(id_in(sa, 2)).has_value());
  // Its next round tells it which shards went, and nothing comes back to it.
  CHECK(a->keep_leases().lost == of_a);
  // The new holder commits for them.
  b->commit(testing::start_batch(id_in(sa, 3)));
  CHECK(open_store(db)->get_instance(id_in(sa, 3)).has_value());
}

TEST_CASE("Store.Nodes.Issue18.AStoppingNodesLeasesAreTakenAtOnce") {
  auto db = PgCluster::shared().create_database();
  auto a = open_store(db, node_options("a", Duration(60'000)));
  auto b = open_store(db, node_options("b", Duration(60'000)));
  const ShardMask of_a = a->keep_leases().gained;
  b->keep_leases();
  a->release_leases();
  CHECK(a->held_shards() == 0);
  CHECK_THROWS_AS(a->commit(testing::start_batch(id_in(0, 4))), LeaseLost);
  // No minute's wait: released leases are free now, and `a` no longer counts as live.
  CHECK(b->keep_leases().gained == of_a);
  CHECK(b->node().takeovers == 0);  // given up, not taken over
}

TEST_CASE("Store.Nodes.Issue18.NodesAndALoneEngineKeepEachOtherOut") {
  auto db = PgCluster::shared().create_database();
  {
    auto node = open_store(db, node_options("a"));
    auto e = error_from([&] { open_store(db, StoreOptions{.engine = true}); });
    CHECK(e.code() == Errc::conflict);
    CHECK(std::string(e.what()).find("as one of several nodes") != std::string::npos);
    auto second = open_store(db, node_options("b"));  // nodes share
  }
  auto alone = open_store(db, StoreOptions{.engine = true});
  auto e = error_from([&] { open_store(db, node_options("a")); });
  CHECK(e.code() == Errc::conflict);
  CHECK(std::string(e.what()).find("alone (without --node)") != std::string::npos);
}

TEST_CASE("Store.Nodes.Issue18.BadNodeOptionsAreRefused") {
  auto db = PgCluster::shared().create_database();
  auto named = [&](const std::string& name) {
    return error_from([&] { open_store(db, node_options(name)); });
  };
  CHECK(named("two words").code() == Errc::invalid_argument);
  CHECK(std::string(named(std::string(65, 'n')).what()).find("1 to 64") != std::string::npos);
  auto short_lease = error_from([&] { open_store(db, node_options("a", Duration(10))); });
  CHECK(short_lease.code() == Errc::invalid_argument);
  auto sqlite = error_from([&] { open_store("/tmp/rmaflow-node.db", node_options("a")); });
  CHECK(sqlite.code() == Errc::invalid_argument);
  CHECK(std::string(sqlite.what()).find("leave --node out") != std::string::npos);
}
