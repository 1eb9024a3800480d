// Big waiting instances kept decoded between their commits (EngineOptions::keep_waiting_bytes):
// a signal to one is taken without reading its row back, and the instance goes exactly as it
// goes when every signal reads it, operator actions and a reopened engine included.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <atomic>

#include "tests/runtime/harness.hpp"

using namespace rmaflow;
using namespace rmaflow::testing;
using json = nlohmann::json;

namespace {

const char* kScanned = R"(
workflow: scanned
version: 1
start: unnoted
steps:
  unnoted:
    set: { note: null }
    next: lines
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
        next: restocked
      restocked: { end: { status: restocked, output: "${ {bin: .scan.bin, note: .note} }" } }
    next: done
  done: { end: completed }
)";

constexpr int kLines = 40;

// Counts the instance rows the engine reads back.
class CountingStore final : public StoreWrapper {
 public:
  using StoreWrapper::StoreWrapper;
  std::optional<InstanceRow> get_instance(const std::string& id) override {
    ++reads;
    return StoreWrapper::get_instance(id);
  }
  std::atomic<int> reads{0};
};

struct Scanned {
  std::vector<EventType> events;
  json context;
  int reads = 0;  // rows read back while the first 30 lines were scanned
};

// A return of kLines lines, each scanned and restocked in turn; halfway an operator pauses it,
// notes it and resumes it, and the engine is closed and opened again.
Scanned scanned_return(std::uint64_t keep_bytes) {
  Harness h(kScanned);
  h.keep_waiting_bytes = keep_bytes;
  h.keep_waiting_least = 1024;  // the instance is about 9 KB stored
  auto counting = std::make_unique<CountingStore>(open_sqlite_store(h.db));
  auto* store = counting.get();
  h.open(std::move(counting));
  json lines = json::array();
  for (int i = 0; i < kLines; ++i) lines.push_back({{"id", fmt::format("L{:02}", i)}});
  auto id = h.start({{"lines", lines}}).instance_id;
  h.idle();

  Scanned out;
  // Line i's scan, under a key of its own (the harness's engines draw the same ids each open).
  auto send = [&](int i) {
    SignalRequest request;
    request.instance_id = id;
    request.name = "scan";
    request.match = fmt::format("L{:02}", i);
    request.payload = {{"bin", fmt::format("B{}", i % 3)}};
    request.idempotency_key = fmt::format("scan-{}", i);
    auto taken = h.engine->signal(std::move(request));
    h.idle();
    CHECK_FALSE(taken.get().duplicate);
    REQUIRE(h.ext->held() == 1);
  };
  auto scan = [&](int i) {
    const int before = store->reads;
    send(i);
    h.ext->answer(ok());
    h.idle();
    out.reads += store->reads - before;
  };
  for (int i = 0; i < kLines / 2; ++i) scan(i);
  // Kept, it is counted for its row as the file holds it, and not as running.
  const auto stats = h.engine->stats();
  CHECK(stats.kept_waiting_bytes == (keep_bytes >= h.stored_bytes(id) ? h.stored_bytes(id) : 0));
  CHECK(stats.held_bytes == 0);
  CHECK(stats.active_instances == 0);
  // Paused and noted at once: the note comes while the pause's commit, after which the
  // instance would be kept, is still to be made.
  auto action = [&](ActionKind kind, json args) {
    OperatorAction a;
    a.instance_id = id;
    a.kind = kind;
    a.actor = "ops";
    a.reason = "count the pallet";
    a.args = std::move(args);
    return h.engine->act(std::move(a));
  };
  auto paused = action(ActionKind::pause, json::object());
  auto noted = action(ActionKind::patch, {{"patch", {{"note", "pallet counted"}}}});
  h.idle();
  paused.get();
  noted.get();
  CHECK(h.row(id).paused_at.has_value());
  CHECK(h.context(id)["note"] == "pallet counted");
  h.act(id, ActionKind::resume);
  for (int i = kLines / 2; i < 3 * kLines / 4; ++i) scan(i);
  h.close();  // and opened again, as a new process would
  h.open(std::make_unique<CountingStore>(open_sqlite_store(h.db)));
  for (int i = 3 * kLines / 4; i < kLines; ++i) {
    send(i);
    h.ext->answer(ok());
    h.idle();
  }
  REQUIRE(h.row(id).status == InstanceStatus::completed);
  out.events = h.event_types(id);
  out.context = h.context(id);
  return out;
}

}  // namespace

TEST_CASE("Runtime.KeptWaiting.SignalsTakenWithoutReadingTheRowBack") {
  const auto kept = scanned_return(EngineOptions{}.keep_waiting_bytes);
  const auto read = scanned_return(0);

  // Kept: no row read back for any of the 30 scans; not kept: one at least for each.
  CHECK(kept.reads == 0);
  CHECK(read.reads >= 3 * kLines / 4);
  // The same return either way: the same history and the same lines.
  CHECK(kept.events == read.events);
  CHECK(kept.context == read.context);
  const json& lines = kept.context["lines"];
  REQUIRE(lines.size() == kLines);
  for (int i = 0; i < kLines; ++i) {
    CAPTURE(i);
    CHECK(lines[i]["status"] == "restocked");
    CHECK(lines[i]["output"]["bin"] == fmt::format("B{}", i % 3));
    CHECK(lines[i]["output"]["note"] == (i < kLines / 2 ? json() : json("pallet counted")));
  }
}

TEST_CASE("Runtime.KeptWaiting.BoundedByItsBytes") {
  // A budget smaller than the instance keeps none: every scan reads the row back.
  const auto small = scanned_return(4096);
  CHECK(small.reads >= 3 * kLines / 4);
}
