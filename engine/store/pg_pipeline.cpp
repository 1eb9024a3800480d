#include "engine/store/pg_pipeline.hpp"

#include <libpq-fe.h>

#include <exception>

namespace rmaflow::store {

PgPipeline::PgPipeline(PgConnection& connection) : connection_(connection) {
  connection_.ensure_connected();
  if (PQenterPipelineMode(connection_.conn_) != 1) {
    throw PgFailure(one_line(PQerrorMessage(connection_.conn_)), "");
  }
}

PgPipeline::~PgPipeline() {
  if (!active_) return;
  try {
    if (!pending_.empty()) sync_and_read();
  } catch (...) {
    // The failure that unwinds the caller is the one to report; this one follows from it.
  }
  leave();
}

void PgPipeline::send(const PgStatement& statement, const PgParams& params, Check check) {
  auto* conn = connection_.conn_;
  if (!connection_.prepared_.contains(statement.name)) {
    if (PQsendPrepare(conn, statement.name, statement.sql.c_str(), 0, nullptr) != 1) {
      throw PgFailure(one_line(PQerrorMessage(conn)), "");
    }
    connection_.prepared_.emplace(statement.name);
    pending_.push_back({{}, statement.name});
  }
  auto values = params.pointers();
  if (PQsendQueryPrepared(conn, statement.name, static_cast<int>(values.size()), values.data(),
                          nullptr, nullptr, 0) != 1) {
    throw PgFailure(one_line(PQerrorMessage(conn)), "");
  }
  pending_.push_back({std::move(check), ""});
  if (pending_.size() >= kChunk) sync_and_read();
}

void PgPipeline::finish() {
  if (!pending_.empty()) sync_and_read();
  leave();
}

void PgPipeline::leave() {
  active_ = false;
  PQexitPipelineMode(connection_.conn_);
}

void PgPipeline::sync_and_read() {
  auto* conn = connection_.conn_;
  auto pending = std::move(pending_);
  pending_.clear();
  if (PQpipelineSync(conn) != 1) throw PgFailure(one_line(PQerrorMessage(conn)), "");
  std::exception_ptr failure;
  auto fail = [&](std::exception_ptr e) {
    if (!failure) failure = std::move(e);
  };
  // Each statement's results end with a null; the sync's result ends the chunk.
  std::size_t index = 0;
  for (;;) {
    pg_result* raw = PQgetResult(conn);
    if (raw == nullptr) {
      ++index;
      if (index > pending.size() || PQstatus(conn) != CONNECTION_OK) {
        fail(std::make_exception_ptr(PgFailure(one_line(PQerrorMessage(conn)), "")));
        break;
      }
      continue;
    }
    PgResult result(raw);
    auto status = PQresultStatus(raw);
    if (status == PGRES_PIPELINE_SYNC) break;
    if (index >= pending.size()) continue;
    Pending& entry = pending[index];
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
      try {
        if (entry.check) entry.check(result);
      } catch (...) {
        fail(std::current_exception());
      }
      continue;
    }
    if (!entry.prepared.empty()) connection_.prepared_.erase(entry.prepared);
    if (status != PGRES_PIPELINE_ABORTED)
      fail(std::make_exception_ptr(connection_.failure_of(raw)));
  }
  if (failure) std::rethrow_exception(failure);
}

}  // namespace rmaflow::store
