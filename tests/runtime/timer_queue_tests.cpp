// TimerQueue: the engine's timers in memory, earliest first, and an entry taken out by its key.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "engine/runtime/timer_queue.hpp"

using namespace rmaflow;

namespace {

TimePoint at(long long ms) {
  return TimePoint(Duration(ms));
}

TimerEntry timeout(long long ms, const std::string& instance) {
  return TimerEntry{at(ms), TimerKind::timeout, instance, "", {}};
}

std::vector<std::string> instances(const std::vector<TimerEntry>& entries) {
  std::vector<std::string> out;
  for (const auto& e : entries) out.push_back(e.instance_id);
  return out;
}

}  // namespace

TEST_CASE("Runtime.TimerQueue.ACancelledEntryNeverComesDueAndTheOthersKeepTheirOrder") {
  TimerQueue q;
  auto first = q.push(timeout(30'000, "a"));
  auto second = q.push(timeout(30'000, "b"));  // the same due time: after "a"
  q.push(timeout(10'000, "c"));
  q.push(TimerEntry{at(20'000), TimerKind::retry, "d", "", {}});
  CHECK(q.size() == 4);
  CHECK(q.count(TimerKind::timeout) == 3);

  q.cancel(first);
  CHECK(q.size() == 3);
  CHECK(q.count(TimerKind::timeout) == 2);
  q.cancel(first);  // taken out already: nothing happens
  CHECK(q.size() == 3);
  CHECK(*q.earliest() == at(10'000));

  CHECK(instances(q.pop_due(at(20'000))) == std::vector<std::string>{"c", "d"});
  CHECK(q.count(TimerKind::retry) == 0);
  CHECK(instances(q.pop_due(at(30'000))) == std::vector<std::string>{"b"});
  q.cancel(second);  // came due already: nothing happens
  CHECK(q.size() == 0);
  CHECK(q.count(TimerKind::timeout) == 0);
  CHECK_FALSE(q.earliest().has_value());
}
