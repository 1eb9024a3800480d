// The batch being built and its commit (group commit). Transitions recorded by any handler
// accumulate in one Batch; the first handler to dirty it asks for a flush, which is posted
// behind the handlers already queued, so that everything that happened "at the same time"
// shares one transaction. A flush commits and only then runs the effects that had to wait
// for the commit (adapter calls, answers to callers, in-memory timers).
//
// While the engine serves (serve()), a failed commit is not fatal: the batch is kept with its
// effects and committed again after a delay (commit_retry.hpp) until it succeeds; meanwhile the
// engine takes no new work (holding()).
//
// Thread-safety: the engine thread only. The store lock is shared with Engine::deploy().
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>

#include <boost/asio/io_context.hpp>

#include <boost/asio/steady_timer.hpp>

#include "engine/runtime/batch.hpp"
#include "engine/runtime/commit_retry.hpp"
#include "engine/runtime/engine_health.hpp"
#include "rmaflow/store.hpp"

namespace rmaflow {

class GroupCommit {
 public:
  // What a commit made durable and how long it took (EngineOptions::on_commit).
  using CommitObserver = std::function<void(const WriteBatch&, std::chrono::nanoseconds)>;

  // `after_flush` runs on the engine thread after each flush's effects; `resumed` once a kept
  // batch has committed (what waited on it may go on); `observer` (may be empty) after each
  // successful commit, before its effects.
  GroupCommit(boost::asio::io_context& io, Store& store, std::mutex& store_mu,
              std::size_t max_batch_events, EngineHealth& health,
              std::function<void()> after_flush, std::function<void()> resumed,
              CommitObserver observer = {});

  Batch& batch() { return batch_; }
  // At once when the batch is full; otherwise posted behind the handlers already queued.
  void request();
  // Commits the batch (if it holds anything) and runs its effects. Throws Error(storage) unless
  // serving: the database keeps the last committed state, the effects of this batch never run.
  // While a failed batch is kept, it does nothing: the kept batch commits first.
  void flush();
  // From now on a failed commit is kept and retried rather than thrown.
  void serve() { serving_ = true; }
  // A failed batch waits to be committed again: take no new work.
  bool holding() const { return kept_.pending(); }
  void cancel() { retry_timer_.cancel(); }

  std::uint64_t commits() const { return commits_; }
  std::uint64_t events() const { return events_; }

 private:
  boost::asio::io_context& io_;
  Store& store_;
  std::mutex& store_mu_;
  // Commits `writes`; on failure while serving keeps them with `effects` and arms the retry.
  // False when they are not committed.
  bool commit(WriteBatch& writes, std::vector<std::function<void()>>& effects);
  bool retry_kept();
  // Commits `writes` under the store lock; returns how long it took. Throws Error(storage).
  std::chrono::nanoseconds write(const WriteBatch& writes);
  void observe(const WriteBatch& writes, std::chrono::nanoseconds took);
  void arm_retry(std::chrono::milliseconds delay);

  std::size_t max_batch_events_;
  EngineHealth& health_;
  std::function<void()> after_flush_;
  std::function<void()> resumed_;
  CommitObserver observer_;
  Batch batch_;
  bool requested_ = false;
  bool serving_ = false;
  CommitRetry kept_;
  boost::asio::steady_timer retry_timer_;
  std::atomic<std::uint64_t> commits_{0};
  std::atomic<std::uint64_t> events_{0};
};

}  // namespace rmaflow
