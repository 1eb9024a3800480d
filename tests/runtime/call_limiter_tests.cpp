// The call limiter on its own: slots, spacing, order, and operations that do not hold each
// other up.
#include <doctest/doctest.h>

#include "engine/runtime/call_limiter.hpp"

using namespace rmaflow;
using SteadyClock = std::chrono::steady_clock;

namespace {

CallTicket ticket(const std::string& id, const std::string& operation) {
  return CallTicket{id, "", 1, "erp", operation, TimePoint{}};
}

std::vector<std::string> ticket_ids(const std::vector<CallTicket>& tickets) {
  std::vector<std::string> out;
  for (const auto& t : tickets) out.push_back(t.instance_id);
  return out;
}

}  // namespace

TEST_CASE("Engine.Limits.Issue16.SlotsAndOrder") {
  AdapterLimits erp;
  erp.operations["post"] = CallLimit{2, 0};
  CallLimiter limiter({{"erp", erp}});
  CHECK(limiter.limited("erp", "post"));
  CHECK_FALSE(limiter.limited("erp", "read"));
  CHECK_FALSE(limiter.limited("wms", "post"));
  auto now = SteadyClock::now();
  CHECK(limiter.admit(ticket("a", "post"), now));
  CHECK(limiter.admit(ticket("b", "post"), now));
  CHECK_FALSE(limiter.admit(ticket("c", "post"), now));
  CHECK_FALSE(limiter.admit(ticket("d", "post"), now));
  auto queued = limiter.queued("d");
  REQUIRE(queued.has_value());
  CHECK(queued->position == 2);
  std::optional<SteadyClock::time_point> next;
  CHECK(limiter.due(now, next).empty());
  CHECK_FALSE(next.has_value());  // only an answer frees a slot
  limiter.release("erp", "post");
  CHECK(ticket_ids(limiter.due(now, next)) == std::vector<std::string>{"c"});
  CHECK(limiter.queued("d")->position == 1);
  // A newcomer does not pass the one waiting, even when a slot is free this instant.
  limiter.release("erp", "post");
  CHECK_FALSE(limiter.admit(ticket("e", "post"), now));
  CHECK(ticket_ids(limiter.due(now, next)) == std::vector<std::string>{"d"});
  auto states = limiter.snapshot();
  REQUIRE(states.size() == 1);
  CHECK(states[0].in_flight == 2);
  CHECK(states[0].queued == 1);
  CHECK(states[0].waited == 2);
}

TEST_CASE("Engine.Limits.Issue16.RateSpacesCallsAndOperationsDoNotBlockEachOther") {
  AdapterLimits erp;
  erp.operations["post"] = CallLimit{0, 10};  // one every 100 ms
  CallLimiter limiter({{"erp", erp}});
  auto now = SteadyClock::now();
  CHECK(limiter.admit(ticket("a", "post"), now));
  CHECK_FALSE(limiter.admit(ticket("b", "post"), now));
  CHECK(limiter.admit(ticket("r", "read"), now));  // not limited, not behind "post"
  std::optional<SteadyClock::time_point> next;
  CHECK(limiter.due(now + std::chrono::milliseconds(50), next).empty());
  REQUIRE(next.has_value());
  CHECK(*next == now + std::chrono::milliseconds(100));
  CHECK(ticket_ids(limiter.due(*next, next)) == std::vector<std::string>{"b"});
  // Idle for a while: the next call still goes alone, not with a burst behind it.
  auto later = now + std::chrono::seconds(5);
  CHECK(limiter.admit(ticket("c", "post"), later));
  CHECK_FALSE(limiter.admit(ticket("d", "post"), later));
}
