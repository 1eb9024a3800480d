#include "engine/runtime/group_commit.hpp"

#include <boost/asio/post.hpp>

#include "engine/support/fault_points.hpp"
#include "rmaflow/errors.hpp"

namespace rmaflow {

GroupCommit::GroupCommit(boost::asio::io_context& io, Store& store, std::mutex& store_mu,
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
      retry_timer_(io) {}

void GroupCommit::request() {
  if (batch_.empty()) return;
  if (batch_.event_count() >= max_batch_events_) {
    flush();
    return;
  }
  if (requested_) return;
  requested_ = true;
  // Posted behind every handler already queued, so their transitions share this commit.
  boost::asio::post(io_, [this] {
    requested_ = false;
    flush();
  });
}

void GroupCommit::flush() {
  if (kept_.pending()) return;  // the kept batch commits first, when its timer fires
  if (batch_.empty()) return;
  WriteBatch writes = batch_.take_writes();
  auto effects = batch_.take_effects();
  if (!writes.empty() && !commit(writes, effects)) return;
  batch_.give_back(writes, /*keep_writes=*/false);
  for (auto& effect : effects) effect();
  if (after_flush_) after_flush_();
}

bool GroupCommit::commit(WriteBatch& writes, std::vector<std::function<void()>>& effects) {
  fault_point("commit.before");
  std::chrono::nanoseconds took{};
  try {
    took = write(writes);
  } catch (const LeaseLost&) {
    // Another node owns some of these instances now: nothing of the batch may be written, or
    // done, ever. The engine stops.
    batch_.give_back(writes, /*keep_writes=*/false);
    throw;
  } catch (const Error& e) {
    batch_.give_back(writes, /*keep_writes=*/serving_);
    if (!serving_) throw;  // fatal: the caller of run_until_idle() sees it
    health_.commit_failed(e.what());
    arm_retry(kept_.failed({std::move(writes), std::move(effects)}));
    return false;
  } catch (...) {
    batch_.give_back(writes, /*keep_writes=*/false);
    throw;
  }
  ++commits_;
  events_ += writes.events.size();
  fault_point("commit.after");
  observe(writes, took);
  return true;
}

bool GroupCommit::retry_kept() {
  auto& kept = kept_.batch();
  std::chrono::nanoseconds took{};
  try {
    took = write(kept.writes);
  } catch (const LeaseLost&) {
    throw;
  } catch (const Error& e) {
    health_.commit_failed(e.what());
    arm_retry(kept_.failed_again());
    return false;
  }
  ++commits_;
  events_ += kept.writes.events.size();
  health_.commit_ok();
  observe(kept.writes, took);
  for (auto& effect : kept_.committed()) effect();
  return true;
}

std::chrono::nanoseconds GroupCommit::write(const WriteBatch& writes) {
  auto began = std::chrono::steady_clock::now();
  std::lock_guard lock(store_mu_);
  store_.commit(writes);
  return std::chrono::steady_clock::now() - began;
}

void GroupCommit::observe(const WriteBatch& writes, std::chrono::nanoseconds took) {
  if (!observer_) return;
  try {
    observer_(writes, took);
  } catch (...) {
    // What watches the engine must never stop it: the commit stands, the observation is lost.
  }
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
