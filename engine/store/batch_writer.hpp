// Applies a WriteBatch inside a transaction the caller holds: the engine's hot path.
//
// The statements are prepared once per connection and reused. A failure leaves the batch
// partly applied within the caller's transaction, which the caller then rolls back.
#pragma once

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include "rmaflow/store.hpp"

namespace rmaflow::store {

class BatchWriter {
 public:
  // `db` must outlive the writer and be writable.
  explicit BatchWriter(SQLite::Database& db);

  // Throws SQLite::Exception on any failed statement (a duplicate event, say).
  // Timer clears are applied before timer sets, so a batch that both clears and sets the same
  // (instance, name) ends with the timer set.
  void apply(const WriteBatch& batch);

 private:
  SQLite::Statement upsert_instance_;
  SQLite::Statement insert_event_;
  SQLite::Statement upsert_timer_;
  SQLite::Statement delete_timer_;
};

}  // namespace rmaflow::store
