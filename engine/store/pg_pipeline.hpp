// PgPipeline: many statements of one transaction sent on a PgConnection without waiting for
// each one's result.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "engine/store/pg_connection.hpp"

namespace rmaflow::store {

// Statements sent without waiting for each one's result (libpq's pipeline mode): the many
// writes of a transaction cost a round trip per kChunk statements instead of one each. Each
// result is checked in order, by PostgreSQL and then by the statement's `check`; the first
// failure is thrown once every result sent so far is read, which leaves the connection usable
// (its transaction aborted, for the caller to roll back).
class PgPipeline {
 public:
  using Check = std::function<void(const PgResult&)>;
  static constexpr std::size_t kChunk = 256;  // results outstanding at most: no deadlock

  explicit PgPipeline(PgConnection& connection);
  ~PgPipeline();  // reads what is outstanding and leaves pipeline mode; never throws
  PgPipeline(const PgPipeline&) = delete;
  PgPipeline& operator=(const PgPipeline&) = delete;

  // Queues `statement` (prepared first if this connection has not yet prepared it).
  void send(const PgStatement& statement, const PgParams& params, Check check = {});
  // Reads every outstanding result and leaves pipeline mode; throws the first failure.
  void finish();

 private:
  struct Pending {
    Check check;
    std::string prepared;  // a statement being prepared: forgotten unless it succeeds
  };
  void sync_and_read();
  void leave();

  PgConnection& connection_;
  std::vector<Pending> pending_;
  bool active_ = true;
};

}  // namespace rmaflow::store
