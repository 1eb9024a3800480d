// Issue 16: search attributes. A workflow's `attributes` are evaluated when an instance
// starts, again after a set step and a context patch, and indexed: lists filter on them by
// equality and by ranges of numbers and of times (as text).
#include <doctest/doctest.h>

#include <algorithm>

#include "tests/runtime/harness.hpp"

using namespace rmaflow;
using namespace rmaflow::testing;
using json = nlohmann::json;

namespace {

const char* kAttributeFlow = R"(
workflow: searched
version: 1
attributes:
  customer_id: ${ .input.customer_id }
  channel: ${ .input.channel }
  value: ${ [.input.lines[] | .price * .qty] | add }
  returned_at: ${ .input.requested_at }
  grade: ${ .grade }
  lines: ${ .input.lines }
start: authorize
steps:
  authorize: { action: ext.authorize, result: authorization, next: grade }
  grade: { set: { grade: "${ .authorization.grade }" }, next: receipt }
  receipt:
    wait: { signal: scan, timeout: 7d }
    next: done
  done: { end: completed }
)";

json input(const std::string& customer, const std::string& channel, double price, int qty,
           const std::string& at) {
  return {{"customer_id", customer},
          {"channel", channel},
          {"requested_at", at},
          {"lines", json::array({{{"price", price}, {"qty", qty}}})}};
}

std::vector<std::string> matching(Harness& h, std::vector<std::string> conditions) {
  auto store = open_sqlite_store(h.db, StoreOptions{SyncMode::full, true});
  InstanceFilter filter;
  filter.limit = 1000;
  for (const auto& c : conditions) filter.attributes.push_back(parse_attribute_condition(c));
  std::vector<std::string> ids;
  for (const auto& row : store->list_instances(filter)) ids.push_back(row.id);
  return ids;
}

}  // namespace

TEST_CASE("Attributes.Issue16.ListsFilterByEqualityAndRanges") {
  Harness h(kAttributeFlow);
  h.ext->script("authorize", {ok({{"grade", "A"}}), ok({{"grade", "B"}}), ok({{"grade", "A"}}),
                              ok({{"grade", "C"}})});
  auto a = h.start(input("C-1", "web", 100, 2, "2026-05-01T10:00:00Z")).instance_id;     // 200
  auto b = h.start(input("C-2", "store", 450, 1, "2026-05-20T10:00:00Z")).instance_id;   // 450
  auto c = h.start(input("C-1", "store", 12.5, 4, "2026-06-02T10:00:00Z")).instance_id;  // 50
  auto d = h.start(input("C-3", "web", 900, 1, "2026-06-15T10:00:00Z")).instance_id;     // 900
  using V = std::vector<std::string>;
  CHECK(matching(h, {"customer_id=C-1"}) == V{a, c});
  CHECK(matching(h, {"customer_id=C-1", "channel=store"}) == V{c});
  CHECK(matching(h, {"value>=200"}) == V{a, b, d});
  CHECK(matching(h, {"value>200", "value<900"}) == V{b});
  CHECK(matching(h, {"value<=50"}) == V{c});
  CHECK(matching(h, {"returned_at>=2026-05-15", "returned_at<2026-06-10"}) == V{b, c});
  // Set by the set step, from what the ERP answered.
  CHECK(matching(h, {"grade=A"}) == V{a, c});
  // A number compares with numbers only: text that looks like one is not 200.
  CHECK(matching(h, {"customer_id>=0"}).empty());
  // An array is not indexed.
  CHECK(matching(h, {"lines=[]"}).empty());
  CHECK(matching(h, {"customer_id=C-9"}).empty());
}

TEST_CASE("Attributes.Issue16.APatchReindexesAndAReopenKeepsThem") {
  Harness h(kAttributeFlow);
  h.ext->script("authorize", {ok({{"grade", "B"}})});
  auto id = h.start(input("C-1", "web", 10, 1, "2026-05-01T10:00:00Z")).instance_id;
  REQUIRE(matching(h, {"grade=B"}) == std::vector<std::string>{id});
  h.close();
  h.open();
  h.act(id, ActionKind::patch, {{"patch", {{"grade", "A"}}}});
  CHECK(matching(h, {"grade=B"}).empty());
  CHECK(matching(h, {"grade=A"}) == std::vector<std::string>{id});
  CHECK(matching(h, {"customer_id=C-1"}) == std::vector<std::string>{id});
}

TEST_CASE("Attributes.Issue16.ConditionsThatDoNotParseAreRefusedWithAReason") {
  for (const char* bad : {"", "=5", "value", "Value=5", "value>="}) {
    INFO(bad);
    try {
      parse_attribute_condition(bad);
      FAIL("accepted");
    } catch (const Error& e) {
      CHECK(e.code() == Errc::invalid_argument);
    }
  }
  auto range = parse_attribute_condition("value>=12.5");
  CHECK(range.name == "value");
  CHECK(range.op == ">=");
  CHECK(range.value == 12.5);
  auto text = parse_attribute_condition("order_id=\"500\"");
  CHECK(text.value == "500");
  auto word = parse_attribute_condition("channel=web");
  CHECK(word.op == "=");
  CHECK(word.value == "web");
  // Past int64 a number is compared as a double, never wrapped to a negative integer.
  auto huge = parse_attribute_condition("value<18446744073709551615");
  CHECK(huge.value.is_number_float());
  CHECK(huge.value.get<double>() > 1.8e19);
  CHECK(parse_attribute_condition("value<9223372036854775807").value.get<std::int64_t>() ==
        INT64_MAX);
}
