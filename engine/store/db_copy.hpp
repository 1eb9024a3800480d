// Moving a database between stores (a SQLite file to PostgreSQL, and back) while nothing serves
// it: every row read through one Store and written through the other, then both read back
// and compared by counts and a checksum, so that a copy is trusted only once it is verified.
//
// Everything goes through the Store interface, so the copy works between any two backends and
// stays right as they change. The keys a store assigns itself (a signal's seq, a command's id)
// are assigned again by the target, in the same order; the checksum leaves them out and keeps
// the order.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "rmaflow/store.hpp"

namespace rmaflow::store {

// What a database holds, counted, and a SHA-256 over all of it in a form no backend shapes.
struct DatabaseDigest {
  std::int64_t definitions = 0;
  std::int64_t instances = 0;
  std::int64_t events = 0;
  std::int64_t timers = 0;
  std::int64_t signals = 0;
  std::int64_t commands = 0;
  std::int64_t jobs = 0;
  std::int64_t job_items = 0;
  std::string checksum;  // lower-case hex

  bool operator==(const DatabaseDigest&) const = default;
};

// Reads every row of `store`: definitions by name and version, instances by id with their
// histories, timers, signals and search attributes, commands by id, jobs by id with their
// items.
DatabaseDigest digest_database(Store& store);

// Called after each batch of instances copied, with how many so far and how many in all.
using CopyProgress = std::function<void(std::int64_t copied, std::int64_t total)>;

// Copies everything `from` holds into `to`, which must hold nothing (Error(conflict) naming
// what it holds otherwise), then digests both. Returns the digest of `from`; throws
// Error(storage) naming the first count or the checksum that differs. Both stores should be
// opened as engine stores (StoreOptions::engine), so that nothing serves either meanwhile.
DatabaseDigest copy_database(Store& from, Store& to, const CopyProgress& progress = {});

}  // namespace rmaflow::store
