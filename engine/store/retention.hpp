// Retention: finished instances that ended before a cutoff leave the database, archived to
// another rmaflow database file (where show, history and db check work as on the first) or
// deleted. Safe while an engine serves the file: it works in small write transactions of its
// own, takes only finished instances (and no child whose parent is unfinished: the parent may
// still undo it), and a kill at any point loses nothing (see prune_database).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "rmaflow/time.hpp"

namespace rmaflow::store {

struct PruneOptions {
  std::string db;
  TimePoint ended_before;    // instances that ended strictly before this go
  std::string archive;       // an rmaflow database file to move them to; empty: delete them
  std::string export_audit;  // a JSON Lines file their operator actions are appended to; empty:
                             // those stay in the database (`rmaflow audit` still lists them)
  bool dry_run = false;      // count and list, change nothing
  std::size_t batch = 500;   // instances per transaction
  TimePoint now;             // recorded as when they went
};

struct PruneReport {
  std::int64_t instances = 0;          // pruned (or, in a dry run, that would be)
  std::int64_t events = 0;             // removed from the database (in a dry run: that would be)
  std::int64_t audit_records = 0;      // operator actions kept in the database or exported
  std::vector<std::string> first_ids;  // a dry run: the oldest ones, up to 20
};

// Prunes what `options` says, oldest end first. Each batch is copied to the archive and
// committed there before it is deleted here (in one transaction that also records each in
// pruned_instances), so a kill in between leaves it in both and the next run finishes it.
// Throws Error(invalid_argument) when the archive is the database itself, Error(storage) when
// either file cannot be used, Error(io) when the audit file cannot be written.
PruneReport prune_database(const PruneOptions& options);

}  // namespace rmaflow::store
