// Applies a WriteBatch inside a transaction the caller holds: the engine's hot path.
//
// The statements are prepared once per connection and reused. A failure leaves the batch
// partly applied within the caller's transaction, which the caller then rolls back.
#pragma once

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <string>

#include "rmaflow/store.hpp"

namespace rmaflow::store {

class BatchWriter {
 public:
  // `db` must outlive the writer and be writable; `path` names it in messages.
  BatchWriter(SQLite::Database& db, std::string path);

  // Throws SQLite::Exception on any failed statement (a duplicate event or signal key, say),
  // and Error(storage) when the batch consumes a signal that is not pending (unknown, or
  // already consumed) or finishes a command that is not pending or without an outcome: the
  // engine and the database disagree, and the batch must not half-apply.
  // Order: instances, events, timer clears, timer sets, signals added, signals consumed,
  // attribute updates, commands done. So a batch that both clears and sets the same timer ends with
  // it set, and a batch may consume a signal it adds. Returns the receipt for the caller of
  // Store::commit.
  CommitReceipt apply(const WriteBatch& batch);

 private:
  std::string path_;
  SQLite::Statement upsert_instance_;
  SQLite::Statement upsert_context_;
  SQLite::Statement insert_event_;
  SQLite::Statement insert_events_;  // kEventsPerInsert rows at once
  SQLite::Statement upsert_timer_;
  SQLite::Statement delete_timer_;
  SQLite::Statement insert_signal_;
  SQLite::Statement consume_signal_;
  SQLite::Statement finish_command_;
  SQLite::Statement clear_attributes_;
  SQLite::Statement insert_attribute_;
  SQLite::Statement upsert_job_;
  SQLite::Statement insert_job_item_;
  SQLite::Statement count_job_item_;
  SQLite::Statement insert_command_;
};

}  // namespace rmaflow::store
