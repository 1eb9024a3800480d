// The batch being built and its commit (group commit). Transitions recorded by any handler
// accumulate in one Batch; the first handler to dirty it asks for a commit, which is posted
// behind the handlers already queued, so that everything that happened "at the same time"
// shares one transaction. Only once a batch is committed do the effects that had to wait for
// it run (adapter calls, answers to callers, in-memory timers).
//
// The commit is pipelined: a writer thread writes and syncs one batch while the engine thread
// builds the next, which is handed over when the first has committed and its effects have
// run (and the handlers they queued: what they bring back at once joins it), or, once it is
// full, as soon as the first has committed, before those effects run. Batches commit one at a
// time, in order, and their effects run in that order. The rows handed over are copies, since the
// engine goes on changing its instances; a full batch's rows are copied while the engine thread
// waits for the batch before it, so that the copying is off the path between two commits. The store
// stays locked (StoreGate) from the hand-over until the commit, so that the engine thread reads
// nothing from the store meanwhile that the batch being written would change. flush() commits
// synchronously, for stopping and for giving instances up.
//
// While the engine serves (serve()), a failed commit is not fatal: the batch is kept with its
// effects and committed again after a delay (commit_retry.hpp) until it succeeds; meanwhile the
// engine takes no new work (holding()).
//
// Thread-safety: the engine thread only, apart from the writer thread it owns.
#pragma once

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include "engine/runtime/batch.hpp"
#include "engine/runtime/commit_retry.hpp"
#include "engine/runtime/engine_health.hpp"
#include "engine/runtime/store_gate.hpp"
#include "rmaflow/store.hpp"

namespace rmaflow {

// A batch's commit, as its observer is told of it.
struct CommitDone {
  CommitReceipt receipt;            // what the store told of it
  std::chrono::nanoseconds took{};  // how long the store took
};

// A batch with the writer thread. `ticket`, `writes` and `effects` are set by the engine
// thread before the hand-over; the writer sets the rest under mu_.
struct BatchWithWriter {
  std::uint64_t ticket = 0;
  WriteBatch writes;
  std::vector<std::function<void()>> effects;
  bool taken = false;  // the writer has it
  bool done = false;
  std::exception_ptr error;
  CommitDone result;  // when done without an error
};

class GroupCommit {
 public:
  // What a commit made durable, what the store told of it and how long it took.
  using CommitObserver = std::function<void(const WriteBatch&, const CommitDone&)>;

  // `after_flush` runs on the engine thread after each flush's effects; `resumed` once a kept
  // batch has committed (what waited on it may go on); `observer` (may be empty) after each
  // successful commit, before its effects.
  GroupCommit(boost::asio::io_context& io, Store& store, StoreGate& store_mu,
              std::size_t max_batch_events, EngineHealth& health, std::function<void()> after_flush,
              std::function<void()> resumed, CommitObserver observer = {});

  // Lets a batch being written commit, then stops the writer thread; what waited on that
  // batch does not run.
  ~GroupCommit();
  GroupCommit(const GroupCommit&) = delete;
  GroupCommit& operator=(const GroupCommit&) = delete;

  Batch& batch() { return batch_; }
  // When the batch is full: handed to the writer at once (once the batch being written has
  // committed). Otherwise posted behind the handlers already queued, and handed over when no
  // batch is being written.
  void request();
  // Commits now, on this thread: the batch being written (its effects run), then the batch.
  // Throws Error(storage) unless serving: the database keeps the last committed state, the
  // effects of the failed batch never run. While a failed batch is kept, it commits nothing:
  // the kept batch commits first.
  void flush();
  // From now on a failed commit is kept and retried rather than thrown.
  void serve() { serving_ = true; }
  // A failed batch waits to be committed again: take no new work.
  bool holding() const { return kept_.pending(); }
  // A batch is with the writer: its completion will be posted to the engine thread.
  bool writing() const { return writing_.has_value(); }
  void cancel() { retry_timer_.cancel(); }

  std::uint64_t commits() const { return commits_; }
  std::uint64_t events() const { return events_; }

 private:
  // Takes the batch (copied rows) and gives it to the writer. Nothing may be being written.
  void hand_over();
  // The same with the batch's writes taken already.
  void hand_over(WriteBatch writes);
  // The writer thread: writes each batch handed over, releases the store, posts completed();
  // frees the spent batches.
  void write_handed_over();
  // Frees the spent batches, `lock` (on mu_) released meanwhile.
  void free_spent(std::unique_lock<std::mutex>& lock);
  // How long the writer waits for a next batch before it frees the spent ones on their own.
  static constexpr std::chrono::milliseconds kSpentWait{5};
  // Posted by the writer: completes batch `ticket` unless flush() already has, then asks for
  // the next.
  void completed(std::uint64_t ticket);
  // Waits for the batch being written, if any, and completes it on this thread; then for any
  // its effects handed over.
  void finish_writing();
  // Waits until the writer is done with the batch being written (one must be).
  void await_written();
  // Counts, observes and runs the effects of the written batch, or keeps it when it failed.
  // With `pass_on` (its rows, copied while waiting), the batch gathered meanwhile goes to the
  // writer before those effects run.
  void complete_written(std::optional<std::vector<InstanceRow>> pass_on);
  // Commits `writes`; on failure while serving keeps them with `effects` and arms the retry.
  // False when they are not committed.
  bool commit(WriteBatch& writes, std::vector<std::function<void()>>& effects);
  // A failed commit's error: rethrown when fatal (LeaseLost, anything but a storage Error, or
  // not serving); otherwise the batch is kept to be retried.
  void failed(std::exception_ptr error, WriteBatch& writes,
              std::vector<std::function<void()>>& effects);
  bool retry_kept();
  // Commits `writes` under the store lock. Throws Error(storage).
  CommitDone write(const WriteBatch& writes);
  // Commits `writes`, the store already locked, timed.
  CommitDone timed_commit(const WriteBatch& writes);
  void committed(const WriteBatch& writes, const CommitDone& done);
  void observe(const WriteBatch& writes, const CommitDone& done);
  void arm_retry(std::chrono::milliseconds delay);
  void run(std::vector<std::function<void()>>& effects);

  boost::asio::io_context& io_;
  Store& store_;
  StoreGate& store_mu_;
  std::size_t max_batch_events_;
  EngineHealth& health_;
  std::function<void()> after_flush_;
  std::function<void()> resumed_;
  CommitObserver observer_;
  Batch batch_;
  bool requested_ = false;
  bool running_effects_ = false;  // a completed batch's effects are running
  bool serving_ = false;
  CommitRetry kept_;
  boost::asio::steady_timer retry_timer_;
  std::atomic<std::uint64_t> commits_{0};
  std::atomic<std::uint64_t> events_{0};

  std::mutex mu_;  // writing_'s writer-side fields, spent_ and stopping_
  std::condition_variable changed_;
  std::optional<BatchWithWriter> writing_;
  std::vector<WriteBatch> spent_;  // committed batches, for the writer to free
  std::uint64_t tickets_ = 0;
  // Keeps run() and run_one() waiting for the completion of the batch being written.
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  bool stopping_ = false;
  std::thread writer_;
};

}  // namespace rmaflow
