// Big instances keep each cursor's text between their commits and encode only the cursors that
// changed (EngineOptions::keep_cursor_texts_least). The file must hold, after every commit,
// exactly what encoding every cursor afresh writes: a return taken through scans, retries,
// caught and unhandled failures, a branch undoing its steps, an operator's pause and retry, and
// a reopened engine, is stored byte for byte alike with texts kept and without.
#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <limits>
#include <string>
#include <vector>

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

// The cursors column after each step of the return, as the file holds it.
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
    SQLite::Statement row(file, "SELECT cursors FROM instances WHERE id = ?");
    row.bind(1, id);
    REQUIRE(row.executeStep());
    stored.push_back(row.getColumn(0).getString());
  };
  auto answer = [&](Outcome outcome) {
    REQUIRE(h.ext->held() == 1);
    h.ext->answer(std::move(outcome));
    h.idle();
    keep();
  };
  for (int i = 0; i < kGradedLines; ++i) {
    CAPTURE(i);
    const std::string line = fmt::format("L{:02}", i);
    SignalRequest scan;
    scan.instance_id = id;
    scan.name = "scan";
    scan.match = line;
    scan.payload = {{"bin", fmt::format("B{}", i % 3)}, {"weight", i * 0.25}};
    scan.idempotency_key = "scan-" + line;
    auto taken = h.engine->signal(std::move(scan));
    h.idle();
    REQUIRE_FALSE(taken.get().duplicate);
    keep();
    if (i % 4 == 1) {  // the restock fails once and is tried again a second later
      answer(transient());
      h.advance(Duration(1'000));
      keep();
    }
    answer(Outcome::success({{"restock_id", "R-" + line}}));
    switch (i % 4) {
      case 2:  // damaged: caught, and the branch undoes its restock before it ends
        answer(business("Damaged"));
        answer(Outcome::success(json::object()));
        break;
      case 3:  // broken: unhandled, the branch waits for an operator, who retries it
        answer(business("Broken"));
        REQUIRE(h.ext->held() == 0);
        h.act(id, ActionKind::retry, {}, line);
        keep();
        answer(Outcome::success({{"grade", "B"}}));
        break;
      default:
        answer(Outcome::success({{"grade", i % 2 == 0 ? json("A") : json(1.0)}}));
    }
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

TEST_CASE("Runtime.CursorTexts.StoredAsEncodingEveryCursorWrites") {
  const auto kept = graded_return(0);  // every instance keeps its cursors' texts
  const auto fresh = graded_return(std::numeric_limits<std::uint64_t>::max());  // none does
  REQUIRE(kept.size() == fresh.size());
  int changed = 0;  // steps that changed what is stored (a pause changes no cursor)
  for (std::size_t i = 0; i < kept.size(); ++i) {
    CAPTURE(i);
    CHECK(kept[i] == fresh[i]);
    if (i > 0 && kept[i] != kept[i - 1]) ++changed;
  }
  CHECK(changed > 4 * kGradedLines);
}
