// A stand-in for the engine as adapters see it: a manual clock, timers the test fires by
// moving the clock, and signals recorded and answered as the test decides.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "rmaflow/adapter.hpp"

namespace rmaflow::testing {

class FakeHost final : public AdapterHost {
 public:
  explicit FakeHost(TimePoint start) : clock_(start) {}

  const Clock& clock() const override { return clock_; }
  void call_at(TimePoint due, std::function<void()> fn) override {
    timers_.emplace(due, std::move(fn));
  }
  void deliver_signal(SignalRequest request, SignalDone done) override {
    signals.push_back(request);
    if (refuse_with) {
      done(SignalDelivery{std::nullopt, Error(*refuse_with, "refused by the test")});
    } else {
      done(SignalDelivery{SignalResult{"I-1", request.idempotency_key, false}, std::nullopt});
    }
  }

  // Moves the clock to `t`, firing every timer due by then in order.
  void advance_to(TimePoint t) {
    while (!timers_.empty() && timers_.begin()->first <= t) {
      auto node = timers_.extract(timers_.begin());
      clock_.set(node.key());
      node.mapped()();
    }
    clock_.set(t);
  }
  std::size_t timers() const { return timers_.size(); }
  std::optional<TimePoint> next_timer() const {
    if (timers_.empty()) return std::nullopt;
    return timers_.begin()->first;
  }

  std::vector<SignalRequest> signals;
  std::optional<Errc> refuse_with;  // answer signals with this refusal instead of accepting

 private:
  ManualClock clock_;
  std::multimap<TimePoint, std::function<void()>> timers_;
};

}  // namespace rmaflow::testing
