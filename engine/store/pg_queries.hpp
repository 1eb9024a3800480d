// The SELECTs behind the PostgreSQL store's filtered reads, built from their filters with every
// value a parameter.
#pragma once

#include <string>

#include "engine/store/pg_connection.hpp"
#include "rmaflow/store.hpp"

namespace rmaflow::store {

struct PgQuery {
  std::string sql;
  PgParams params;
};

// A LIMIT's parameter: NULL (no limit) for a limit past int64.
void pg_add_limit(PgParams& params, std::size_t limit);

// The instances `filter` matches, as Store::list_instances returns them: by id, at most
// filter.limit, strictly after filter.after_id.
PgQuery pg_select_instances(const InstanceFilter& filter);

// The operator_action events `filter` matches, newest first (at, instance_id, seq, all
// descending), at most filter.limit (and 100,000), strictly older than its cursor; read
// through the events_operator_actions index.
PgQuery pg_select_audit_trail(const AuditFilter& filter);

}  // namespace rmaflow::store
