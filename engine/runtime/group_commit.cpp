#include "engine/runtime/group_commit.hpp"

#include <boost/asio/post.hpp>

#include "engine/runtime/fault_points.hpp"

namespace rmaflow {

GroupCommit::GroupCommit(boost::asio::io_context& io, Store& store, std::mutex& store_mu,
                         std::size_t max_batch_events, std::function<void()> after_flush)
    : io_(io),
      store_(store),
      store_mu_(store_mu),
      max_batch_events_(max_batch_events),
      after_flush_(std::move(after_flush)) {}

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
  if (batch_.empty()) return;
  WriteBatch writes = batch_.take_writes();
  auto effects = batch_.take_effects();
  if (!writes.empty()) {
    fault_point("commit.before");
    {
      std::lock_guard lock(store_mu_);
      store_.commit(writes);  // throws Error(storage): fatal, the caller of run*() sees it
    }
    ++commits_;
    events_ += writes.events.size();
    fault_point("commit.after");
  }
  for (auto& effect : effects) effect();
  if (after_flush_) after_flush_();
}

}  // namespace rmaflow
