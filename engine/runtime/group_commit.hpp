// The batch being built and its commit (group commit). Transitions recorded by any handler
// accumulate in one Batch; the first handler to dirty it asks for a flush, which is posted
// behind the handlers already queued, so that everything that happened "at the same time"
// shares one transaction. A flush commits and only then runs the effects that had to wait
// for the commit (adapter calls, answers to callers, in-memory timers).
//
// Thread-safety: the engine thread only. The store lock is shared with Engine::deploy().
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>

#include <boost/asio/io_context.hpp>

#include "engine/runtime/batch.hpp"
#include "rmaflow/store.hpp"

namespace rmaflow {

class GroupCommit {
 public:
  // `after_flush` runs on the engine thread after each flush's effects.
  GroupCommit(boost::asio::io_context& io, Store& store, std::mutex& store_mu,
              std::size_t max_batch_events, std::function<void()> after_flush);

  Batch& batch() { return batch_; }
  // At once when the batch is full; otherwise posted behind the handlers already queued.
  void request();
  // Commits the batch (if it holds anything) and runs its effects. Throws Error(storage): the
  // database keeps the last committed state, the effects of this batch never run.
  void flush();

  std::uint64_t commits() const { return commits_; }
  std::uint64_t events() const { return events_; }

 private:
  boost::asio::io_context& io_;
  Store& store_;
  std::mutex& store_mu_;
  std::size_t max_batch_events_;
  std::function<void()> after_flush_;
  Batch batch_;
  bool requested_ = false;
  std::atomic<std::uint64_t> commits_{0};
  std::atomic<std::uint64_t> events_{0};
};

}  // namespace rmaflow
