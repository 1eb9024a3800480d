// Applies a WriteBatch on PostgreSQL inside a transaction the caller holds: the engine's hot
// path, through statements prepared once per connection.
#pragma once

#include <functional>

#include "engine/store/pg_connection.hpp"
#include "rmaflow/store.hpp"

namespace rmaflow::store {

class PgPipeline;

// Applies `batch` in BatchWriter's order (batch_writer.hpp) with its checks: throws PgFailure
// on any failed statement (a duplicate event or signal key, say), and Error(storage) when the
// batch consumes a signal that is not pending or finishes a command that is not pending or
// without an outcome. Either leaves the batch partly applied, which the caller rolls back.
// `first` (when given) queues statements ahead of the batch's, in the same transaction.
// Returns the receipt for the caller of Store::commit.
CommitReceipt pg_apply_batch(PgConnection& connection, const WriteBatch& batch,
                             const std::function<void(PgPipeline&)>& first = {});

}  // namespace rmaflow::store
