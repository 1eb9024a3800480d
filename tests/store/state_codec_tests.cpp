// The instance state codec: every field of a cursor and of the saga survives being written and
// read back, and a damaged document is reported with the instance, the column and what is wrong.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <chrono>
#include <functional>
#include <utility>
#include <vector>

#include "engine/store/state_codec.hpp"
#include "rmaflow/errors.hpp"

namespace rmaflow::testing {
namespace {

using nlohmann::json;

Cursor every_field() {
  Cursor c;
  c.branch = "inspect[L-7]/parts[\"bolt\"]";
  c.index = 7;
  c.step = "grade";
  c.phase = Phase::waiting;
  c.attempt = 3;
  c.deadline = from_millis(1'700'000'123'456);
  c.input = {{"sku", "SKU-9"}, {"qty", 2}, {"notes", "scuffed\n\"left\" side"}};
  c.scope = {{"line", {{"line_id", "L-7"}, {"unit_price", 12.5}}}, {"branch", {{"index", 7}}}};
  Incident incident;
  incident.step = "grade";
  incident.error = Failure{"timeout", "no answer in 30s", true, FailureOrigin::engine};
  incident.attempts = 3;
  incident.opened_at = from_millis(1'700'000'000'000);
  incident.compensating = true;
  incident.team = "returns-ops";
  incident.due_at = from_millis(1'700'003'600'000);
  c.incident = incident;
  c.compensation = CompensationRun{"cancelled", "operator cancel", "restock"};
  c.match = "L-7";
  c.child = "01JCHILD";
  c.label = "refurbished";
  c.output = json::array({1, "two", nullptr});
  c.pivot = true;
  return c;
}

std::string corrupt_cursors(const std::string& text) {
  try {
    store::decode_cursors(text, "01JBROKEN");
  } catch (const Error& e) {
    CHECK(e.code() == Errc::storage);
    return e.what();
  }
  FAIL("decoded: " << text);
  return {};
}

}  // namespace

TEST_CASE("Store.StateCodec.CursorsKeepEveryField") {
  std::vector<Cursor> cursors{Cursor{}, every_field()};
  cursors[0].step = "lines";
  cursors[0].phase = Phase::joining;

  const std::string text = store::encode_cursors(cursors);
  auto back = store::decode_cursors(text, "01JROUND");

  REQUIRE(back.size() == 2);
  CHECK(store::encode_cursors(back) == text);
  const Cursor& c = back[1];
  CHECK(c.branch == "inspect[L-7]/parts[\"bolt\"]");
  CHECK(c.index == 7);
  CHECK(c.phase == Phase::waiting);
  CHECK(c.attempt == 3);
  CHECK(c.deadline == from_millis(1'700'000'123'456));
  CHECK(c.input == every_field().input);
  CHECK(c.scope == every_field().scope);
  REQUIRE(c.incident.has_value());
  CHECK(c.incident->error.origin == FailureOrigin::engine);
  CHECK(c.incident->team == "returns-ops");
  CHECK(c.incident->due_at == from_millis(1'700'003'600'000));
  REQUIRE(c.compensation.has_value());
  CHECK(c.compensation->from_step == "restock");
  CHECK(c.match == "L-7");
  CHECK(c.child == "01JCHILD");
  CHECK(c.label == "refurbished");
  CHECK(c.output == json::array({1, "two", nullptr}));
  CHECK(c.pivot);
  CHECK(back[0].branch.empty());
  CHECK_FALSE(back[0].deadline.has_value());
  CHECK(back[0].input.is_null());
}

// A cursor's kept text is what encoding it afresh writes, after each change to any one of its
// fields, JSON values whose change nlohmann's == does not see (1 to 1.0, 0.0 to -0.0) among
// them; and a cursor unchanged is not encoded again.
TEST_CASE("Store.StateCodec.AKeptCursorTextIsWhatEncodingWrites") {
  using Change = std::pair<const char*, std::function<void(Cursor&)>>;
  const std::vector<Change> changes{
      {"branch", [](Cursor& c) { c.branch = "inspect[L-8]"; }},
      {"index", [](Cursor& c) { c.index = 8; }},
      {"step", [](Cursor& c) { c.step = "restock"; }},
      {"phase", [](Cursor& c) { c.phase = Phase::backoff; }},
      {"attempt", [](Cursor& c) { c.attempt = 4; }},
      {"deadline", [](Cursor& c) { *c.deadline += std::chrono::milliseconds(1); }},
      {"deadline gone", [](Cursor& c) { c.deadline.reset(); }},
      {"input member", [](Cursor& c) { c.input["qty"] = 3; }},
      {"input 3 to 3.0", [](Cursor& c) { c.input["qty"] = 3.0; }},
      {"input member added", [](Cursor& c) { c.input["bin"] = "B-2"; }},
      {"input member renamed", [](Cursor& c) { c.input.erase("bin"), c.input["bon"] = "B-2"; }},
      {"input member added last", [](Cursor& c) { c.input["zz"] = 1; }},
      {"input member removed", [](Cursor& c) { c.input.erase("zz"); }},
      {"scope deep", [](Cursor& c) { c.scope.edit()["line"]["unit_price"] = 12.75; }},
      {"scope 0.0", [](Cursor& c) { c.scope.edit()["line"]["unit_price"] = 0.0; }},
      {"scope -0.0", [](Cursor& c) { c.scope.edit()["line"]["unit_price"] = -0.0; }},
      {"scope to an array",
       [](Cursor& c) {
         c.scope.edit()["line"] = json::array({1, 2});
       }},
      {"scope array element", [](Cursor& c) { c.scope.edit()["line"][1] = 3; }},
      {"scope array longer", [](Cursor& c) { c.scope.edit()["line"].push_back(nullptr); }},
      {"scope null to false", [](Cursor& c) { c.scope.edit()["line"][2] = false; }},
      {"scope member set",
       [](Cursor& c) {
         c.scope.set("scan", {{"bin", "B-1"}});
       }},
      {"scope member set to 1", [](Cursor& c) { c.scope.set("scan", 1); }},
      {"scope member set to 1.0", [](Cursor& c) { c.scope.set("scan", 1.0); }},
      {"scope replaced",
       [](Cursor& c) {
         c.scope = json{{"line", "L-9"}};
       }},
      {"incident step", [](Cursor& c) { c.incident->step = "restock"; }},
      {"incident code", [](Cursor& c) { c.incident->error.code = "Transient"; }},
      {"incident message", [](Cursor& c) { c.incident->error.message = "down"; }},
      {"incident retryable", [](Cursor& c) { c.incident->error.retryable = false; }},
      {"incident origin", [](Cursor& c) { c.incident->error.origin = FailureOrigin::adapter; }},
      {"incident attempts", [](Cursor& c) { c.incident->attempts = 5; }},
      {"incident opened", [](Cursor& c) { c.incident->opened_at += std::chrono::seconds(1); }},
      {"incident compensating", [](Cursor& c) { c.incident->compensating = false; }},
      {"incident team", [](Cursor& c) { c.incident->team = "finance"; }},
      {"incident due", [](Cursor& c) { c.incident->due_at.reset(); }},
      {"incident gone", [](Cursor& c) { c.incident.reset(); }},
      {"compensation then", [](Cursor& c) { c.compensation->then = "failed"; }},
      {"compensation reason", [](Cursor& c) { c.compensation->reason = "timeout"; }},
      {"compensation from", [](Cursor& c) { c.compensation->from_step = "grade"; }},
      {"compensation gone", [](Cursor& c) { c.compensation.reset(); }},
      {"match", [](Cursor& c) { c.match = "L-8"; }},
      {"match 1", [](Cursor& c) { c.match = 1; }},
      {"match 1.0", [](Cursor& c) { c.match = 1.0; }},
      {"child", [](Cursor& c) { c.child = "01JOTHER"; }},
      {"label", [](Cursor& c) { c.label = "scrapped"; }},
      {"output", [](Cursor& c) { c.output[1] = "three"; }},
      {"output string to number", [](Cursor& c) { c.output[1] = 3; }},
      {"pivot", [](Cursor& c) { c.pivot = false; }},
  };
  Cursor c = every_field();
  store::KeptCursorText kept;
  auto written = [&] {
    std::string out;
    store::append_cursor(out, c, kept);
    return out;
  };
  auto fresh = [&] {
    std::string out = store::encode_cursors({c});
    return out.substr(1, out.size() - 2);  // without the list's brackets
  };
  CHECK(written() == fresh());
  for (const auto& [name, change] : changes) {
    CAPTURE(name);
    const std::string before = kept.text;
    change(c);
    CHECK(written() == fresh());
    CHECK(kept.text != before);
    // Unchanged since: the text is what was kept, not encoded again (a marker in its place
    // comes out).
    const std::string text = kept.text;
    kept.text = "kept";
    CHECK(written() == "kept");
    kept.text = text;
  }
}

// A saga's kept entries' texts make what encoding it afresh writes, as entries are added,
// changed field by field, taken out from the middle or all at once, and the pivot passed.
TEST_CASE("Store.StateCodec.AKeptSagaTextIsWhatEncodingWrites") {
  auto entry = [](int i) {
    return SagaEntry{fmt::format("restock{}", i),
                     fmt::format("lines[L{}]", i),
                     1,
                     json{{"restock_id", fmt::format("R-{}", i)}, {"qty", 2}},
                     "",
                     "",
                     false};
  };
  using Change = std::pair<const char*, std::function<void(Saga&)>>;
  const std::vector<Change> changes{
      {"first entry", [&](Saga& s) { s.done.push_back(entry(0)); }},
      {"more entries",
       [&](Saga& s) {
         for (int i = 1; i < 6; ++i) s.done.push_back(entry(i));
       }},
      {"step", [](Saga& s) { s.done[2].step = "label"; }},
      {"branch", [](Saga& s) { s.done[2].branch = ""; }},
      {"visit", [](Saga& s) { s.done[2].visit = 2; }},
      {"input member", [](Saga& s) { s.done[2].input["qty"] = 3; }},
      {"input 3 to 3.0", [](Saga& s) { s.done[2].input["qty"] = 3.0; }},
      {"input member removed", [](Saga& s) { s.done[2].input.erase("restock_id"); }},
      {"input to null", [](Saga& s) { s.done[3].input = nullptr; }},
      {"render error", [](Saga& s) { s.done[3].render_error = "no .restock"; }},
      {"child", [](Saga& s) { s.done[4].child = "01JCHILD"; }},
      {"outcome unknown", [](Saga& s) { s.done[4].outcome_unknown = true; }},
      {"one taken from the middle", [](Saga& s) { s.done.erase(s.done.begin() + 1); }},
      {"the last taken", [](Saga& s) { s.done.pop_back(); }},
      {"pivot passed",
       [](Saga& s) {
         s.done.clear();
         s.pivot = true;
       }},
      {"one after the pivot", [&](Saga& s) { s.done.push_back(entry(9)); }},
  };
  Saga saga;
  store::KeptSagaText kept;
  CHECK(store::encode_saga(saga, kept) == store::encode_saga(saga));
  for (const auto& [name, change] : changes) {
    CAPTURE(name);
    change(saga);
    CHECK(store::encode_saga(saga, kept) == store::encode_saga(saga));
    REQUIRE(kept.entries.size() == saga.done.size());
    if (saga.done.empty()) continue;
    // An entry unchanged since is not encoded again: a marker in its kept place comes out.
    kept.entries.back().text = R"({"kept":true})";
    CHECK(store::encode_saga(saga, kept).find(R"({"kept":true})") != std::string::npos);
    kept.entries.back().text.clear();  // none kept: encoded afresh next time
  }
}

TEST_CASE("Store.StateCodec.SagaKeepsEveryEntry") {
  Saga saga;
  saga.pivot = true;
  saga.done.push_back(SagaEntry{"issue_label", "", 1, json{{"label", "LBL-1"}}, "", "", false});
  saga.done.push_back(SagaEntry{"restock", "inspect[L-7]", 2, nullptr, "no .bin", "01JC", true});

  const std::string text = store::encode_saga(saga);
  Saga back = store::decode_saga(text, "01JROUND");

  CHECK(store::encode_saga(back) == text);
  CHECK(back.pivot);
  REQUIRE(back.done.size() == 2);
  CHECK(back.done[0].input == json{{"label", "LBL-1"}});
  CHECK(back.done[1].branch == "inspect[L-7]");
  CHECK(back.done[1].visit == 2);
  CHECK(back.done[1].render_error == "no .bin");
  CHECK(back.done[1].outcome_unknown);
}

TEST_CASE("Store.StateCodec.DamagedCursorsNameWhatIsWrong") {
  const std::string prefix = "instance 01JBROKEN has a corrupt cursors column: ";
  CHECK(corrupt_cursors("[{\"step\":") == prefix + "it is not valid JSON");
  CHECK(corrupt_cursors("{}") == prefix + "it is object, not array");
  CHECK(corrupt_cursors("[7]") == prefix + "a cursor is not an object");
  CHECK(corrupt_cursors(R"([{"step":4}])") == prefix + "\"step\" is not a string");
  CHECK(corrupt_cursors(R"([{"step":"a","phase":9}])") == prefix + "unknown phase");
  CHECK(corrupt_cursors(R"([{"step":"a","phase":"3"}])") == prefix + "\"phase\" is not an integer");
  CHECK(corrupt_cursors(R"([{"step":"a","deadline":1.5}])") ==
        prefix + "\"deadline\" is not an integer");
  CHECK(corrupt_cursors(R"([{"step":"a","pivot":1}])") ==
        prefix + "\"pivot\" is not true or false");
  CHECK(corrupt_cursors(R"([{"step":"a","compensation":[]}])") ==
        prefix + "\"compensation\" is not an object");
  CHECK(corrupt_cursors(R"([{"step":"a","compensation":{"then":false}}])") ==
        prefix + "\"then\" is not a string");
  CHECK(corrupt_cursors(R"([{"step":"a","incident":"x"}])") ==
        prefix + "\"incident\" is not an object");
  // Nulls are the fields' defaults, and members this version does not know are passed over.
  auto read = store::decode_cursors(R"([{"step":"a","attempt":null,"later":{"x":1}}])", "01J");
  REQUIRE(read.size() == 1);
  CHECK(read[0].attempt == 0);
}

}  // namespace rmaflow::testing
