#include "engine/runtime/group_commit.hpp"

#include <boost/asio/post.hpp>
#include <cassert>

#include "engine/support/fault_points.hpp"
#include "engine/support/threads.hpp"
#include "rmaflow/errors.hpp"

namespace rmaflow {

GroupCommit::GroupCommit(boost::asio::io_context& io, Store& store, StoreGate& store_mu,
                         std::size_t max_batch_events, EngineHealth& health,
                         std::function<void()> after_flush, std::function<void()> resumed,
                         CommitObserver observer)
    : io_(io),
      store_(store),
      store_mu_(store_mu),
      max_batch_events_(max_batch_events),
      health_(health),
      after_flush_(std::move(after_flush)),
      resumed_(std::move(resumed)),
      observer_(std::move(observer)),
      retry_timer_(io),
      writer_([this] {
        name_this_thread("rmaflow-writer");
        write_handed_over();
      }) {}

GroupCommit::~GroupCommit() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  changed_.notify_all();
  writer_.join();
}

void GroupCommit::request() {
  if (batch_.empty()) return;
  // Inside a completion's effects a full batch waits for their end (it is asked for again
  // after them): completing the next batch there would run its effects before the rest.
  if (batch_.event_count() >= max_batch_events_ && !running_effects_) {
    // Backpressure: one batch is written at a time. This one is handed over as soon as the
    // one being written has committed, before that one's effects run: they owe it nothing,
    // and the writer writes while they run instead of after.
    if (writing_) {
      // Nothing changes the batch from here to its hand-over: its rows are copied while the
      // writer still writes, rather than between one commit and the next.
      auto copied = batch_.copy_rows();
      fault_point("commit.copied");
      await_written();
      complete_written(std::move(copied));
    }
    if (!writing_ && !kept_.pending() && !batch_.empty()) hand_over();
    return;
  }
  if (requested_) return;
  requested_ = true;
  // Posted behind every handler already queued, so their transitions share this commit.
  boost::asio::post(io_, [this] {
    requested_ = false;
    // While a batch is being written this one grows; its completion asks again.
    if (writing_ || kept_.pending() || batch_.empty()) return;
    hand_over();
  });
}

void GroupCommit::flush() {
  finish_writing();
  if (kept_.pending()) return;  // the kept batch commits first, when its timer fires
  if (batch_.empty()) return;
  WriteBatch writes = batch_.take_writes(Batch::Rows::lent);
  auto effects = batch_.take_effects();
  if (!writes.empty() && !commit(writes, effects)) return;
  batch_.give_back(writes, /*keep_writes=*/false);
  run(effects);
}

void GroupCommit::hand_over() {
  hand_over(batch_.take_writes(Batch::Rows::copied));
}

void GroupCommit::hand_over(WriteBatch writes) {
  assert(!writing_);
  auto effects = batch_.take_effects();
  if (writes.empty()) {  // effects only: nothing is being written, so they may run now
    run(effects);
    return;
  }
  fault_point("commit.before");
  // Released by the writer once the batch is committed: what the engine thread reads from
  // the store meanwhile waits for it.
  store_mu_.lock();
  {
    std::lock_guard lock(mu_);
    writing_.emplace();
    writing_->ticket = ++tickets_;
    writing_->writes = std::move(writes);
    writing_->effects = std::move(effects);
  }
  work_.emplace(io_.get_executor());
  changed_.notify_all();
}

void GroupCommit::write_handed_over() {
  std::unique_lock lock(mu_);
  const auto handed_over = [this] { return stopping_ || (writing_ && !writing_->taken); };
  for (;;) {
    // Spent batches are freed after each commit, while the engine thread runs its effects;
    // the writer is woken for them alone only when no batch follows within a moment (waking
    // it at each completion took the engine thread's core in the middle of those effects).
    if (!changed_.wait_for(lock, kSpentWait, handed_over)) {
      free_spent(lock);
      changed_.wait(lock, handed_over);
    }
    if (!writing_ || writing_->taken) {  // stopping, with nothing left to write
      free_spent(lock);
      return;
    }
    BatchWithWriter& batch = *writing_;
    batch.taken = true;
    lock.unlock();
    fault_point("commit.writing");
    std::exception_ptr error;
    CommitDone result;
    try {
      result = timed_commit(batch.writes);  // the store is locked since the hand-over
    } catch (...) {
      error = std::current_exception();
    }
    if (!error) fault_point("commit.written");
    store_mu_.unlock();
    lock.lock();
    batch.done = true;
    batch.error = error;
    batch.result = std::move(result);
    boost::asio::post(io_, [this, ticket = batch.ticket] { completed(ticket); });
    changed_.notify_all();
    free_spent(lock);
  }
}

void GroupCommit::free_spent(std::unique_lock<std::mutex>& lock) {
  if (spent_.empty()) return;
  auto spent = std::move(spent_);
  spent_.clear();
  lock.unlock();
  spent.clear();
  lock.lock();
}

void GroupCommit::completed(std::uint64_t ticket) {
  if (!writing_ || writing_->ticket != ticket) return;  // flush() completed it already
  complete_written(std::nullopt);
  // What came in while it was written commits next, behind the handlers now queued.
  request();
}

void GroupCommit::finish_writing() {
  // A completion's effects may fill the batch and hand it over in turn: wait for that too.
  while (writing_) {
    await_written();
    complete_written(std::nullopt);
  }
}

void GroupCommit::await_written() {
  std::unique_lock lock(mu_);
  changed_.wait(lock, [this] { return writing_->done; });
}

void GroupCommit::complete_written(std::optional<std::vector<InstanceRow>> pass_on) {
  BatchWithWriter written;
  {
    std::lock_guard lock(mu_);
    written = std::move(*writing_);
    writing_.reset();
  }
  work_.reset();
  if (written.error) {
    failed(written.error, written.writes, written.effects);
    return;
  }
  if (pass_on && batch_.has_writes() && !kept_.pending()) {
    hand_over(batch_.take_writes(std::move(*pass_on)));
  }
  committed(written.writes, written.result);
  {
    // Freed by the writer: destroying a batch's rows costs the engine thread a twelfth of
    // its time in a burst.
    std::lock_guard lock(mu_);
    spent_.push_back(std::move(written.writes));
  }
  // Cleared however the effects end: one that throws must not leave backpressure off.
  struct Running {
    bool& flag;
    explicit Running(bool& f) : flag(f) { flag = true; }
    ~Running() { flag = false; }
  } running(running_effects_);
  run(written.effects);
}

bool GroupCommit::commit(WriteBatch& writes, std::vector<std::function<void()>>& effects) {
  fault_point("commit.before");
  CommitDone done;
  try {
    done = write(writes);
  } catch (...) {
    // Kept, the rows are written again as they are now: they hold their own copies.
    batch_.give_back(writes, /*keep_writes=*/serving_);
    failed(std::current_exception(), writes, effects);
    return false;
  }
  committed(writes, done);
  return true;
}

void GroupCommit::failed(std::exception_ptr error, WriteBatch& writes,
                         std::vector<std::function<void()>>& effects) {
  try {
    std::rethrow_exception(error);
  } catch (const LeaseLost&) {
    // Another node owns some of these instances now: nothing of the batch may be written, or
    // done, ever. The engine stops.
    throw;
  } catch (const Error& e) {
    if (!serving_) throw;  // fatal: the caller of run_until_idle() sees it
    health_.commit_failed(e.what());
    arm_retry(kept_.failed({std::move(writes), std::move(effects)}));
  }
}

bool GroupCommit::retry_kept() {
  auto& kept = kept_.batch();
  CommitDone done;
  try {
    done = write(kept.writes);
  } catch (const LeaseLost&) {
    throw;
  } catch (const Error& e) {
    health_.commit_failed(e.what());
    arm_retry(kept_.failed_again());
    return false;
  }
  health_.commit_ok();
  committed(kept.writes, done);
  auto effects = kept_.committed();
  for (auto& effect : effects) effect();
  return true;
}

CommitDone GroupCommit::write(const WriteBatch& writes) {
  std::lock_guard lock(store_mu_);
  return timed_commit(writes);
}

CommitDone GroupCommit::timed_commit(const WriteBatch& writes) {
  auto began = std::chrono::steady_clock::now();
  CommitDone done{store_.commit(writes), {}};
  done.took = std::chrono::steady_clock::now() - began;
  return done;
}

void GroupCommit::committed(const WriteBatch& writes, const CommitDone& done) {
  ++commits_;
  events_ += writes.events.size();
  fault_point("commit.after");
  observe(writes, done);
}

void GroupCommit::observe(const WriteBatch& writes, const CommitDone& done) {
  if (!observer_) return;
  try {
    observer_(writes, done);
  } catch (...) {
    // What watches the engine must never stop it: the commit stands, the observation is lost.
  }
}

void GroupCommit::run(std::vector<std::function<void()>>& effects) {
  for (auto& effect : effects) effect();
  if (after_flush_) after_flush_();
}

void GroupCommit::arm_retry(std::chrono::milliseconds delay) {
  retry_timer_.expires_after(delay);
  retry_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || !kept_.pending()) return;
    if (!retry_kept()) return;
    // What happened meanwhile (outcomes that came in) commits next; what waited goes on.
    flush();
    if (resumed_) resumed_();
  });
}

}  // namespace rmaflow
