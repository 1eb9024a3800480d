// Nodes sharing one PostgreSQL database: shard leases, their renewal and takeover, and the
// fence every node's commit passes (rmaflow/store.hpp, docs/postgresql.md).
//
// A lease row names its holder by session (one run of one node), not by node name: a node
// that restarts is a new session and must take its shards again, loading their instances
// afresh. Lease times are the server's, so nodes' clocks need not agree.
//
// Renewal and commits lock lease rows in modes that do not conflict (an UPDATE of
// `expires_at` takes FOR NO KEY UPDATE; the fence takes FOR KEY SHARE), while a takeover
// locks FOR UPDATE, which conflicts with the fence: a takeover and a commit of the old holder
// are therefore ordered, and the later one sees the earlier. The commit that comes second
// finds the lease gone and fails whole; the takeover that comes second loads what the commit
// wrote.
#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <random>

#include "engine/store/pg_pipeline.hpp"
#include "engine/store/pg_rows.hpp"
#include "engine/store/pg_store.hpp"

namespace rmaflow::store {

namespace {

// Milliseconds since the epoch by the server's clock.
constexpr const char* kServerNow = "(extract(epoch FROM clock_timestamp()) * 1000)::bigint";

const PgStatement kFence{"rmaflow_fence",
                         "SELECT count(*) FROM (SELECT shard FROM shard_leases WHERE owner = $1 "
                         "FOR KEY SHARE) AS held"};

ShardMask shards_in(const PgResult& r, int column) {
  ShardMask mask = 0;
  for (int i = 0; i < r.rows(); ++i) {
    auto shard = PgColumns{r, i}.integer(column);
    if (shard >= 0 && shard < kShards) mask |= ShardMask{1} << shard;
  }
  return mask;
}

std::string new_session(const std::string& name) {
  std::random_device random;
  std::uint64_t bits = (std::uint64_t{random()} << 32) ^ random();
  return fmt::format("{}#{:016x}", name, bits);
}

// Names show in logs, metrics and /healthz: short, and plain.
void check_node_name(const std::string& name) {
  bool plain = !name.empty() && name.size() <= 64;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.';
    plain = plain && ok;
  }
  if (!plain) {
    throw Error(Errc::invalid_argument,
                "a node's name is 1 to 64 letters, digits, '-', '_' or '.'");
  }
}

}  // namespace

void PgStore::register_node() {
  check_node_name(options_.node);
  if (options_.lease < Duration(500) || options_.lease > Duration(10 * 60 * 1000)) {
    throw Error(Errc::invalid_argument, "a node's lease lasts from 500ms to 10 minutes");
  }
  session_ = new_session(options_.node);
  held_ = 0;
  pg_guard(connection_, "join the nodes of", [&] {
    auto r = connection_.exec(
        fmt::format("INSERT INTO nodes (session, name, started_at, heartbeat_at, held, takeovers)"
                    " VALUES ($1, $2, {0}, {0}, 0, 0) RETURNING started_at",
                    kServerNow),
        PgParams().add(session_).add(options_.node));
    started_at_ = from_millis(r.int64(0, 0));
  });
}

LeaseRound PgStore::keep_leases() {
  if (!is_node()) return {};
  if (fenced_) return LeaseRound{.gained = 0, .lost = held_.load()};
  return pg_guard(connection_, "keep the leases on", [&] {
    LeaseRound round;
    const auto ttl = static_cast<std::int64_t>(options_.lease.count());
    const ShardMask held = held_.load();
    auto renewed = connection_.exec(
        fmt::format("UPDATE shard_leases SET expires_at = {} + $2 WHERE owner = $1 "
                    "RETURNING shard",
                    kServerNow),
        PgParams().add(session_).add(ttl));
    round.lost = held & ~shards_in(renewed, 0);
    if (round.lost != 0) {
      fenced_ = true;
      return round;
    }
    // The other live nodes, and the fewest shards one of them holds.
    auto live = connection_.exec(
        fmt::format("SELECT held FROM nodes WHERE heartbeat_at > {} - $2 AND session <> $1",
                    kServerNow),
        PgParams().add(session_).add(ttl));
    const int nodes = live.rows() + 1;
    const int share = (kShards + nodes - 1) / nodes;
    int fewest = kShards;
    for (int i = 0; i < live.rows(); ++i) {
      fewest = std::min(fewest, std::popcount(static_cast<ShardMask>(live.int64(i, 0))));
    }
    auto claim = [&](std::int64_t expired_for, std::optional<int> limit) {
      PgParams params;
      params.add(session_).add(options_.node).add(ttl).add(expired_for);
      if (limit) {
        params.add(*limit);
      } else {
        params.add_null();
      }
      auto taken = connection_.exec(
          fmt::format("UPDATE shard_leases AS l SET owner = $1, node = $2, token = l.token + 1, "
                      "expires_at = {0} + $3 FROM (SELECT shard, owner FROM shard_leases "
                      "WHERE owner <> $1 AND expires_at < {0} - $4 AND ($4 = 0 OR owner <> '') "
                      "ORDER BY shard LIMIT $5 "
                      "FOR UPDATE SKIP LOCKED) AS free WHERE l.shard = free.shard "
                      "RETURNING l.shard, free.owner",
                      kServerNow),
          params);
      for (int i = 0; i < taken.rows(); ++i) {
        if (!taken.text(i, 1).empty()) ++takeovers_;
      }
      round.gained |= shards_in(taken, 0);
    };
    // Up to its share of the live nodes; and any lease a node has let expire for longer than a
    // lease lasts, which no node at its share took (a free one waits for a node with room).
    if (int want = share - std::popcount(held); want > 0) claim(0, want);
    claim(ttl, std::nullopt);
    held_ = held | round.gained;
    // A node short of its share gets the highest of this node's surplus, one round at a time.
    const int mine = std::popcount(held_.load());
    if (mine > share && fewest < share) {
      ShardMask mask = held_.load();
      for (int s = kShards - 1, extra = mine - share; s >= 0 && extra > 0; --s) {
        if (holds(mask, s)) {
          round.surplus |= ShardMask{1} << s;
          --extra;
        }
      }
    }
    connection_.exec(
        fmt::format("INSERT INTO nodes (session, name, started_at, heartbeat_at, held, takeovers)"
                    " VALUES ($1, $2, $3, {0}, $4, $5) ON CONFLICT (session) DO UPDATE SET "
                    "heartbeat_at = excluded.heartbeat_at, held = excluded.held, "
                    "takeovers = excluded.takeovers",
                    kServerNow),
        PgParams()
            .add(session_)
            .add(options_.node)
            .add(started_at_)
            .add(static_cast<std::int64_t>(held_.load()))
            .add(takeovers_.load()));
    // Nodes gone for an hour are forgotten.
    connection_.exec(
        fmt::format("DELETE FROM nodes WHERE heartbeat_at < {} - 3600000", kServerNow));
    return round;
  });
}

void PgStore::release_leases(ShardMask shards) {
  if (!is_node() || fenced_) return;
  const bool all = shards == kAllShards;
  pg_guard(connection_, "give the leases up on", [&] {
    PgTransaction tx(connection_);
    connection_.exec(
        "UPDATE shard_leases SET owner = '', node = '', expires_at = 0 "
        "WHERE owner = $1 AND (($2::bigint >> shard) & 1) = 1",
        PgParams().add(session_).add(static_cast<std::int64_t>(shards)));
    if (all) {
      connection_.exec("DELETE FROM nodes WHERE session = $1", PgParams().add(session_));
    } else {
      connection_.exec(
          "UPDATE nodes SET held = $2 WHERE session = $1",
          PgParams().add(session_).add(static_cast<std::int64_t>(held_.load() & ~shards)));
    }
    tx.commit();
  });
  held_ = held_.load() & ~shards;
  if (all) fenced_ = true;  // a stopping node commits nothing more
}

std::vector<NodeRow> PgStore::nodes() {
  return pg_guard(connection_, "read the nodes of", [&] {
    auto r = connection_.exec(
        fmt::format("SELECT name, session, started_at, heartbeat_at, held, takeovers FROM nodes "
                    "WHERE heartbeat_at > {} - 60000 ORDER BY name, session",
                    kServerNow));
    return pg_read_all(r, [](const PgColumns& row) {
      return NodeRow{row.text(0),
                     row.text(1),
                     from_millis(row.int64(2)),
                     from_millis(row.int64(3)),
                     static_cast<ShardMask>(row.int64(4)),
                     row.int64(5)};
    });
  });
}

NodeRow PgStore::node() const {
  if (!is_node()) return {};
  return NodeRow{options_.node, session_, started_at_, {}, held_.load(), takeovers_.load()};
}

void PgStore::send_fence(PgPipeline& pipeline) const {
  const auto expected = std::popcount(held_.load());
  pipeline.send(kFence, PgParams().add(session_), [this, expected](const PgResult& r) {
    if (r.int64(0, 0) == expected) return;
    throw LeaseLost(
        fmt::format("node {} no longer holds all its leases on {}: another node took "
                    "its instances over, so it commits nothing more for them",
                    options_.node, connection_.display()));
  });
}

std::string PgStore::held_filter(const char* id_column) const {
  if (!is_node()) return "";
  return fmt::format(" AND (({}::bigint >> rmaflow_shard({})) & 1) = 1",
                     static_cast<std::int64_t>(held_.load()), id_column);
}

}  // namespace rmaflow::store
