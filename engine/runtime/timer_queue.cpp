#include "engine/runtime/timer_queue.hpp"

namespace rmaflow {

void TimerQueue::push(TimerEntry entry) {
  entry.order = next_order_++;
  ++counts_[static_cast<int>(entry.kind)];
  heap_.push(std::move(entry));
}

std::optional<TimePoint> TimerQueue::earliest() const {
  if (heap_.empty()) return std::nullopt;
  return heap_.top().due;
}

void TimerQueue::pop() {
  --counts_[static_cast<int>(heap_.top().kind)];
  heap_.pop();
}

std::vector<TimerEntry> TimerQueue::pop_due(TimePoint now) {
  std::vector<TimerEntry> due;
  while (!heap_.empty() && heap_.top().due <= now) {
    // priority_queue::top() is const; the entry is moved out just before pop() discards it.
    due.push_back(std::move(const_cast<TimerEntry&>(heap_.top())));
    heap_.pop();
    --counts_[static_cast<int>(due.back().kind)];
  }
  return due;
}

}  // namespace rmaflow
