// Row factories for the store tests: rows with every field set to something distinctive.
#pragma once

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "rmaflow/errors.hpp"
#include "rmaflow/store.hpp"

namespace rmaflow::testing {

// A running instance "id" of workflow "returns" v1, at step "authorize", created at `ms`.
InstanceRow instance_row(const std::string& id, std::int64_t ms = 1'700'000'000'000);
EventRow event_row(const std::string& instance_id, std::int64_t seq);
TimerRow timer_row(const std::string& instance_id, const std::string& name, std::int64_t due_ms);
DefinitionRow definition_row(const std::string& name, int version, const std::string& hash);
// A pending signal `name` for the instance, received at `ms`, keyed "key-<key>".
SignalRow signal_row(const std::string& instance_id, const std::string& name,
                     const std::string& key, std::int64_t ms = 1'700'000'000'000);
// A pending "retry" command for the instance, created at `ms`.
CommandRow command_row(const std::string& instance_id, std::int64_t ms = 1'700'000'000'000);

StoreOptions sync_option(SyncMode sync);
StoreOptions read_only_option();
// A SQLite database at `path` as rmaflow with schema `version` left it, with `rows` (SQL
// written for that version: the row codec follows the newest schema) inserted.
void old_sqlite_database(const std::string& path, int version, const std::string& rows);

// A batch that creates instance `id` with `events` events (seq 1..events).
WriteBatch start_batch(const std::string& id, int events = 1);

// Checks every field of `got` against `want`.
void check_same_instance(const InstanceRow& got, const InstanceRow& want);
// The rows' ids, in order.
std::vector<std::string> ids_of(const std::vector<InstanceRow>& rows);

// Commits `batches` batches shaped like the engine's group commit: each moves 250 instances by
// four events (1000 events), replacing their rows and their "timeout" timer. Instances are
// drawn in turn from a pool of `pool`: a small pool means rows and history pages are updated
// again and again; a pool as large as the run means every batch starts new instances.
// Returns events per second.
double commit_rate(Store& s, int batches, int pool);

// Runs `fn`, which must throw rmaflow::Error, and returns it.
template <class Fn>
Error error_from(Fn fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e;
  }
  FAIL("no rmaflow::Error thrown");
  return Error(Errc::io, "unreachable");
}

}  // namespace rmaflow::testing
