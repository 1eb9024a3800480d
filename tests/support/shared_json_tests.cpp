#include <doctest/doctest.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "rmaflow/shared_json.hpp"

using nlohmann::json;
using rmaflow::SharedJson;

TEST_CASE("Support.SharedJson.CopiesShareTheValueAndItsText") {
  SharedJson a = json{{"input", {{"rma_id", "RMA-1"}}}};
  SharedJson b = a;
  CHECK(a.shares(b));
  CHECK(&a.get() == &b.get());
  const std::string& text = a.text();
  CHECK(text == R"({"input":{"rma_id":"RMA-1"}})");
  CHECK(&b.text() == &text);  // encoded once, for both
}

TEST_CASE("Support.SharedJson.AnEditedCopyNoLongerShares") {
  SharedJson a = json{{"n", 1}};
  SharedJson b = a;
  CHECK(a.text() == R"({"n":1})");
  b.edit()["n"] = 2;
  CHECK_FALSE(a.shares(b));
  CHECK(a.get() == json{{"n", 1}});
  CHECK(a.text() == R"({"n":1})");
  CHECK(b.get() == json{{"n", 2}});
  CHECK(b.text() == R"({"n":2})");
}

TEST_CASE("Support.SharedJson.AValueAloneIsEncodedAgainAfterAnEdit") {
  SharedJson a = json{{"n", 1}};
  CHECK(a.text() == R"({"n":1})");
  const json* before = &a.get();
  a.edit()["m"] = true;
  CHECK(&a.get() == before);  // changed in place: nothing else held it
  CHECK(a.text() == R"({"m":true,"n":1})");
}

TEST_CASE("Support.SharedJson.ADecodedValueKeepsItsTextUntilEdited") {
  const std::string stored = R"({ "b": 1,  "a": [1, 2] })";
  SharedJson a(json::parse(stored), stored);
  SharedJson b = a;
  CHECK(a.text() == stored);
  CHECK(b.text() == stored);
  b.edit()["c"] = 3;
  CHECK(a.text() == stored);
  CHECK(b.text() == R"({"a":[1,2],"b":1,"c":3})");
}

TEST_CASE("Support.SharedJson.AssignedAndMovedFromValues") {
  SharedJson a = json{{"n", 1}};
  SharedJson b = std::move(a);
  CHECK(b.get() == json{{"n", 1}});
  CHECK(a.get() == json{{"n", 1}});  // NOLINT(bugprone-use-after-move): never left empty
  a = json{{"n", 2}};
  CHECK_FALSE(a.shares(b));
  CHECK(b.text() == R"({"n":1})");
  CHECK(a.text() == R"({"n":2})");
  SharedJson empty;
  CHECK(empty.text() == "{}");
}

namespace {

constexpr int kCopies = 2000;

// The engine's pattern: one thread changes its value with `change(own, n)` and hands a copy to
// another, which encodes it and lets it go, while the first goes on changing its own. Returns
// how many of the copies' texts were not `expected(n)`.
int copies_encoded_on_another_thread(SharedJson& own,
                                     const std::function<void(SharedJson&, int)>& change,
                                     const std::function<json(int)>& expected) {
  std::mutex mu;
  std::condition_variable ready;
  std::deque<std::pair<int, SharedJson>> handed;
  int wrong = 0;
  std::thread writer([&] {
    for (int seen = 0; seen < kCopies; ++seen) {
      std::unique_lock lock(mu);
      ready.wait(lock, [&] { return !handed.empty(); });
      auto [n, copy] = std::move(handed.front());
      handed.pop_front();
      lock.unlock();
      if (copy.text() != expected(n).dump()) ++wrong;
    }
  });
  for (int n = 0; n < kCopies; ++n) {
    change(own, n);
    {
      std::lock_guard lock(mu);
      handed.emplace_back(n, own);
    }
    ready.notify_one();
    if (n % 3 == 0) (void)own.text();  // the owner encodes too, now and then
  }
  writer.join();
  return wrong;
}

}  // namespace

TEST_CASE("Support.SharedJson.CopiesEncodedOnAnotherThreadKeepTheirValue") {
  SharedJson own = json{{"n", 0}, {"pad", "x"}};
  const int wrong = copies_encoded_on_another_thread(
      own, [](SharedJson& value, int n) { value.edit()["n"] = n; },
      [](int n) {
        return json{{"n", n}, {"pad", "x"}};
      });
  CHECK(wrong == 0);
  CHECK(own.get()["n"] == kCopies - 1);
}

// The engine keeps a context's revision, not a copy, to know a later row carries it unchanged.
TEST_CASE("Support.SharedJson.ARevisionNamesTheValueAsItIs") {
  SharedJson a = json{{"n", 1}};
  const auto first = a.revision();
  CHECK(first != 0);
  SharedJson b = a;
  CHECK(b.revision() == first);  // a copy: the same value
  CHECK(a.text() == R"({"n":1})");
  CHECK(a.revision() == first);  // encoding is not a change

  b.edit()["n"] = 2;  // shared: b is copied, then changed
  CHECK(a.revision() == first);
  CHECK(b.revision() != first);
  const auto second = b.revision();
  const json* before = &b.get();
  b.edit()["n"] = 3;  // alone: changed in place, and a new revision all the same
  CHECK(&b.get() == before);
  CHECK(b.revision() != second);
  CHECK(b.revision() != first);

  SharedJson equal = json{{"n", 1}};  // an equal value made apart is another value
  CHECK(equal.revision() != first);
  a = json{{"n", 1}};
  CHECK(a.revision() != first);
}

namespace {

// A member of some size, as a start's input is, with text that needs escaping.
json large_member(int n) {
  json lines = json::array();
  for (int i = 0; i < 8; ++i) {
    lines.push_back({{"line_id", "L" + std::to_string(i)},
                     {"sku", "SKU-" + std::to_string(n)},
                     {"note", "caf\u00e9 \"quoted\" \\ \n"}});
  }
  return lines;
}

}  // namespace

// set() keeps the text of the members it leaves alone; the text must stay what dump() gives
// whatever is set, edited, shared or assigned in between.
TEST_CASE("Support.SharedJson.SetKeepsTheTextOfTheOtherMembersAndEncodesAsDump") {
  SharedJson a = json{{"input", large_member(0)}, {"instance", {{"id", "i-1"}}}};
  CHECK(a.text() == a.get().dump());
  const std::string before = a.text();

  a.set("step1", {{"ok", true}});  // alone: changed in place
  CHECK(a.text() == a.get().dump());
  CHECK(a.text() != before);

  SharedJson held = a;  // a batch's copy, encoded and held
  CHECK(held.text() == held.get().dump());
  a.set("input", large_member(1));  // the large member itself changes: its text too
  CHECK(a.text() == a.get().dump());
  CHECK(a.get()["input"] == large_member(1));
  CHECK(held.get()["input"] == large_member(0));
  CHECK(held.text() == held.get().dump());

  a.set("h\u00e9 \"k\"", large_member(2));  // a key that needs escaping
  CHECK(a.text() == a.get().dump());
  a.edit()["input"] = large_member(3);  // edit() drops every kept member
  CHECK(a.text() == a.get().dump());
  CHECK(json::parse(a.text())["input"] == large_member(3));
  a.set("input", large_member(4));
  CHECK(json::parse(a.text())["input"] == large_member(4));

  SharedJson scalar = json(7);  // set() on a value that is not an object makes one
  scalar.set("n", 1);
  CHECK(scalar.text() == R"({"n":1})");

  const std::string stored = R"({"input": {"rma_id": "RMA-9"}})";
  SharedJson decoded(json::parse(stored), stored);
  decoded.set("step1", large_member(5));
  CHECK(decoded.text() == decoded.get().dump());
}

// The engine's pattern with set(): a step's result set beside a large input, which changes
// now and then too.
TEST_CASE("Support.SharedJson.CopiesOfSetValuesEncodedOnAnotherThreadKeepTheirValue") {
  SharedJson own = json{{"input", large_member(0)}, {"n", 0}};
  const int wrong = copies_encoded_on_another_thread(
      own,
      [](SharedJson& value, int n) {
        if (n % 100 == 0) value.set("input", large_member(n / 100));
        value.set("n", n);
      },
      [](int n) {
        return json{{"input", large_member(n / 100)}, {"n", n}};
      });
  CHECK(wrong == 0);
  CHECK(own.text() == own.get().dump());
}

// A value dump() refuses has no text, however often it is asked for, and the members encoded
// before the refusal do not leave part of one behind.
TEST_CASE("Support.SharedJson.AValueThatCannotBeEncodedIsRefusedEachTime") {
  SharedJson a = json{{"a", large_member(0)}, {"b", std::string("\xff")}, {"c", 1}};
  CHECK_THROWS_AS((void)a.text(), json::type_error);
  CHECK_THROWS_AS((void)a.text(), json::type_error);
  a.set("b", "fine");
  CHECK(a.text() == a.get().dump());
  CHECK(json::parse(a.text())["b"] == "fine");
}
