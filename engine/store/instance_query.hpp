// The SELECT behind Store::list_instances, built from an InstanceFilter.
#pragma once

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include "engine/store/statement_cache.hpp"
#include "rmaflow/store.hpp"

namespace rmaflow::store {

// A statement selecting the instances that match `filter`, ordered by id, at most
// filter.limit, starting strictly after filter.after_id (keyset pagination: a page ends at
// its last id, and the next page asks for ids after it); a limit too large for SQLite means
// no limit. The statement, one of `statements`, copies the filter's values, so the filter need
// not outlive it.
StatementCache::Use select_instances(StatementCache& statements, const InstanceFilter& filter);

}  // namespace rmaflow::store
