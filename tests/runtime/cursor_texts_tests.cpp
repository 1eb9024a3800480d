// Big instances keep each cursor's and saga entry's text between their commits and encode only
// those that changed (EngineOptions::keep_cursor_texts_least), and hand their visits to the
// commit encoded rather than copied. The file must hold, after every commit, exactly what
// encoding them all afresh writes: a return taken through scans, retries,
// caught and unhandled failures, a branch undoing its steps, an operator's pause and retry, and
// a reopened engine, is stored byte for byte alike with texts kept and without.
#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <limits>
#include <string>
#include <vector>

#include "engine/runtime/instance.hpp"
#include "engine/store/state_codec.hpp"
#include "tests/runtime/harness.hpp"

using namespace rmaflow;
using namespace rmaflow::testing;
using json = nlohmann::json;

namespace {

const char* kGraded = R"(
workflow: graded
version: 1
defaults:
  retry: { max_attempts: 2, interval: 1s }
start: lines
steps:
  lines:
    foreach: ${ .input.lines }
    as: line
    key: ${ .line.id }
    result: lines
    start: received
    steps:
      received:
        wait: { signal: scan, match: "${ .line.id }", timeout: 30d }
        result: scan
        next: restock
      restock:
        action: ext.restock
        with: { line: "${ .line.id }", bin: "${ .scan.bin }" }
        result: restock
        compensate: { action: ext.unstock, with: { line: "${ .line.id }" } }
        next: grade
      grade:
        action: ext.grade
        with: { line: "${ .line.id }", qty: "${ .line.qty }" }
        result: grade
        catch: [ { errors: [Damaged], next: scrap } ]
        next: graded
      scrap: { end: { status: scrapped, compensate: true } }
      graded: { end: { status: restocked, output: "${ {bin: .scan.bin, grade: .grade} }" } }
    next: done
  done: { end: completed }
)";

constexpr int kGradedLines = 12;

// The cursors, saga and visits columns after each step of the return, as the file holds them.
std::vector<std::string> graded_return(std::uint64_t texts_least) {
  Harness h(kGraded);
  h.keep_cursor_texts_least = texts_least;
  h.open();
  json lines = json::array();
  for (int i = 0; i < kGradedLines; ++i) {
    lines.push_back({{"id", fmt::format("L{:02}", i)}, {"qty", i % 2 == 0 ? json(1) : json(1.5)}});
  }
  auto id = h.start({{"lines", lines}}).instance_id;
  h.idle();

  std::vector<std::string> stored;
  auto keep = [&] {
    SQLite::Database file(h.db, SQLite::OPEN_READONLY);
    SQLite::Statement row(file, "SELECT cursors, saga, visits FROM instances WHERE id = ?");
    row.bind(1, id);
    REQUIRE(row.executeStep());
    stored.push_back(row.getColumn(0).getString() + "\n" + row.getColumn(1).getString() + "\n" +
                     row.getColumn(2).getString());
  };
  // Answers the call of line i out.
  auto answer = [&](int i, Outcome outcome) {
    REQUIRE(h.ext->answer_branch(fmt::format("lines[L{:02}]", i), std::move(outcome)));
    h.idle();
    keep();
  };
  auto scan = [&](int i) {
    SignalRequest request;
    request.instance_id = id;
    request.name = "scan";
    request.match = fmt::format("L{:02}", i);
    request.payload = {{"bin", fmt::format("B{}", i % 3)}, {"weight", i * 0.25}};
    request.idempotency_key = fmt::format("scan-{}", i);
    auto taken = h.engine->signal(std::move(request));
    h.idle();
    REQUIRE_FALSE(taken.get().duplicate);
    keep();
  };
  auto restocked = [&](int i) {
    answer(i, Outcome::success({{"restock_id", fmt::format("R-{}", i)}}));
  };
  for (int i = 0; i < kGradedLines; ++i) {
    CAPTURE(i);
    scan(i);
    if (i % 5 == 1) {  // the restock fails once and is tried again a second later
      answer(i, transient());
      h.advance(Duration(1'000));
      keep();
    }
    restocked(i);
    switch (i % 5) {
      case 2:  // damaged, once the next line is restocked too: caught, and the branch undoes
               // its restock, taken out of the saga from among the others
        scan(i + 1);
        restocked(i + 1);
        answer(i, business("Damaged"));
        answer(i, Outcome::success(json::object()));
        answer(++i, Outcome::success({{"grade", "C"}}));
        break;
      case 4:  // broken: unhandled, the branch waits for an operator, who retries it
        answer(i, business("Broken"));
        REQUIRE(h.ext->held() == 0);
        h.act(id, ActionKind::retry, {}, fmt::format("L{:02}", i));
        keep();
        answer(i, Outcome::success({{"grade", "B"}}));
        break;
      default:
        answer(i, Outcome::success({{"grade", i % 2 == 0 ? json("A") : json(1.0)}}));
    }
    REQUIRE(h.ext->held() == 0);
    if (i == kGradedLines / 3) {
      h.act(id, ActionKind::pause);
      keep();
      h.act(id, ActionKind::resume);
      keep();
    }
    if (i == kGradedLines / 2) {  // closed and opened again, as a new process would
      h.close();
      h.open();
    }
  }
  REQUIRE(h.row(id).status == InstanceStatus::completed);
  return stored;
}

}  // namespace

TEST_CASE("Runtime.CursorTexts.StoredAsEncodingEveryCursorAndEntryWrites") {
  const auto kept = graded_return(0);  // every instance keeps its cursors' texts
  const auto fresh = graded_return(std::numeric_limits<std::uint64_t>::max());  // none does
  REQUIRE(kept.size() == fresh.size());
  int changed = 0;  // steps that changed what is stored (a pause changes no cursor)
  for (std::size_t i = 0; i < kept.size(); ++i) {
    CAPTURE(i);
    CHECK(kept[i] == fresh[i]);
    if (i > 0 && kept[i] != kept[i - 1]) ++changed;
  }
  CHECK(changed > 3 * kGradedLines);
}

TEST_CASE("Runtime.CursorTexts.ABigRowCarriesItsVisitsEncodedAndKeepsTheMainLinesCounts") {
  Instance inst;
  inst.row.id = "I-1";
  inst.cursors.push_back(LiveCursor{});  // the main line
  inst.row.visits = {{"lines", 1}, {"received[L01]", 2}, {"check[L01][P2]", 1}, {"done", 3}};
  SagaEntry restocked;
  restocked.step = "restock";
  restocked.branch = "lines[L01]";
  restocked.visit = 2;
  inst.row.saga.done.push_back(restocked);
  const auto visits = inst.row.visits;
  const auto saga = store::encode_saga(inst.row.saga);

  InstanceRow out = inst.encoded_row();
  REQUIRE(out.encoded.has_value());
  CHECK(out.encoded->visits == store::encode_visits(visits));
  CHECK(store::encode_instance(out).visits.get() == store::encode_visits(visits));
  // The main line's counts, which the commit's observers read, and no branch's.
  CHECK(out.visits == std::map<std::string, int>{{"done", 3}, {"lines", 1}});
  // The instance keeps all of them, and its saga, which went encoded too.
  CHECK(inst.row.visits == visits);
  CHECK(out.encoded->saga == saga);
  CHECK(store::encode_saga(inst.row.saga) == saga);
}
