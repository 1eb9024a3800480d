// The raw SQLite append rate on this machine and disk: the yardstick `rmaflow bench` prints
// next to the engine's own commit rate (docs/performance.md, design section 7).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "rmaflow/store.hpp"

namespace rmaflow {

struct RawAppendOptions {
  std::string directory;  // where the scratch database goes: the engine database's directory
  SyncMode sync = SyncMode::full;
  std::chrono::milliseconds budget{1000};  // per measurement
  std::int64_t max_rows = 1'000'000;       // per measurement, whichever ends it first
  int rows_per_commit = 100;               // for the batched measurement
};

struct RawAppendRates {
  double single_row_commits_per_s = 0;  // one INSERT per transaction
  double batched_rows_per_s = 0;        // rows_per_commit INSERTs per transaction
  // How long each single-row commit took, in milliseconds, sorted: its sync's spread on this
  // disk, the floor under any latency that waits for a commit.
  std::vector<double> single_row_commit_ms;
};

// Appends event-shaped rows to a scratch SQLite file in options.directory, in WAL mode with
// the given synchronous setting, first one row per commit, then in batches, each for at most
// `budget` or `max_rows`. The scratch file (and its -wal and -shm) is removed afterwards, also
// on failure. Throws Error(storage) if the directory cannot hold a database.
RawAppendRates measure_raw_append(const RawAppendOptions& options);

}  // namespace rmaflow
