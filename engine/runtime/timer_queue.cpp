#include "engine/runtime/timer_queue.hpp"

namespace rmaflow {

TimerKey TimerQueue::push(TimerEntry entry) {
  entry.order = next_order_++;
  ++counts_[static_cast<int>(entry.kind)];
  TimerKey key{entry.due, entry.order};
  entries_.insert(std::move(entry));
  changed();
  return key;
}

void TimerQueue::cancel(const TimerKey& key) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return;
  --counts_[static_cast<int>(it->kind)];
  entries_.erase(it);
  changed();
}

std::optional<TimePoint> TimerQueue::earliest() const {
  if (entries_.empty()) return std::nullopt;
  return entries_.begin()->due;
}

void TimerQueue::pop() {
  --counts_[static_cast<int>(entries_.begin()->kind)];
  entries_.erase(entries_.begin());
  changed();
}

std::vector<TimerEntry> TimerQueue::pop_due(TimePoint now) {
  std::vector<TimerEntry> due;
  while (!entries_.empty() && entries_.begin()->due <= now) {
    due.push_back(std::move(entries_.extract(entries_.begin()).value()));
    --counts_[static_cast<int>(due.back().kind)];
  }
  changed();
  return due;
}

}  // namespace rmaflow
