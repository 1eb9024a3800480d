#include <doctest/doctest.h>

#include <condition_variable>
#include <deque>
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

// The engine's pattern: one thread changes its value and hands copies to another, which
// encodes them and lets them go, while the first goes on changing its own.
TEST_CASE("Support.SharedJson.CopiesEncodedOnAnotherThreadKeepTheirValue") {
  constexpr int kCopies = 2000;
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
      if (json::parse(copy.text()) != json{{"n", n}, {"pad", "x"}}) ++wrong;
    }
  });
  SharedJson own = json{{"n", 0}, {"pad", "x"}};
  for (int n = 0; n < kCopies; ++n) {
    own.edit()["n"] = n;
    {
      std::lock_guard lock(mu);
      handed.emplace_back(n, own);
    }
    ready.notify_one();
    if (n % 3 == 0) (void)own.text();  // the owner encodes too, now and then
  }
  writer.join();
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
