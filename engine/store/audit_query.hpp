// The SELECT behind Store::audit_trail, built from an AuditFilter.
#pragma once

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include "engine/store/statement_cache.hpp"
#include "rmaflow/store.hpp"

namespace rmaflow::store {

// A statement selecting the operator_action events that match `filter`, newest first (at,
// instance_id, seq, all descending), at most filter.limit, strictly older than its cursor.
// It reads them through the events_operator_actions index (schema version 4), so the trail
// costs the actions it returns, not the size of every history. The statement copies the
// filter's values; it is one of `statements`.
StatementCache::Use select_audit_trail(StatementCache& statements, const AuditFilter& filter);

}  // namespace rmaflow::store
