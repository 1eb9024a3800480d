// Maintenance of a database file while an engine may be running on it: a full check and an
// online backup. Both read through their own connection; WAL lets them see one consistent
// snapshot without stopping the engine.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace rmaflow::store {

struct CheckReport {
  std::vector<std::string> problems;  // one sentence each; empty: the database is sound
  std::int64_t instances = 0;
  std::int64_t events = 0;
  bool ok() const { return problems.empty(); }
};

// SQLite's integrity check (every page, index and constraint) and rmaflow's own: every status,
// phase and event type is one this schema knows, every JSON column parses, each instance's
// history runs 1..last_seq without a gap, and nothing refers to an instance or a deployed
// version that is not there. At most `max_problems` are reported. Throws Error(not_found) when
// there is no database, Error(storage) when it cannot be opened at all.
CheckReport check_database(const std::string& path, std::size_t max_problems = 100);

// Writes a consistent copy of `path` to `to` (which must not exist) as of one moment, while
// writers go on, and checks the copy. Throws Error(conflict) when `to` exists, Error(storage)
// when the copy fails or does not check.
void backup_database(const std::string& path, const std::string& to);

}  // namespace rmaflow::store
