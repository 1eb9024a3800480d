// A big return whose lines are received one signal at a time: the server keeps the waiting
// instance decoded between signals (EngineOptions::keep_waiting_bytes) and is SIGKILLed by its
// own fault points while it does, right after a commit and while the writer holds a batch.
// After a restart the signals not answered are sent again, with the ones answered: every line
// is received once, restocked once, and the return completes with all of them.
#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <string>

#include "rmaflow/engine.hpp"
#include "tests/api/api_fixture.hpp"

using namespace rmaflow;
using namespace rmaflow::testing;
using json = nlohmann::json;

namespace {

const char* kBigReturn = R"(workflow: big-return
version: 1
business_key: ${ .input.rma_id }
start: lines
steps:
  lines:
    foreach: ${ .input.lines }
    as: line
    key: ${ .line.line_id }
    start: received
    steps:
      received:
        wait: { signal: line_received, match: "${ .line.line_id }", timeout: 30d }
        result: scan
        next: restock
      restock:
        action: wms.restock
        with: { line: "${ .line.line_id }", bin: "${ .scan.bin }" }
        next: ok
      ok: { end: { status: restocked, output: "${ {line_id: .line.line_id, bin: .scan.bin} }" } }
    result: lines
    next: done
  done: { end: completed }
)";

// Lines enough, with text enough, that the waiting instance's row is past the 64 KiB from
// which it is kept decoded (about 120 KB).
constexpr int kLines = 240;

std::string line_id(int i) {
  return fmt::format("L{:03}", i);
}

json big_return() {
  json lines = json::array();
  for (int i = 0; i < kLines; ++i) {
    lines.push_back({{"line_id", line_id(i)},
                     {"sku", fmt::format("SKU-{:05}", i * 7)},
                     {"qty", 1 + i % 3},
                     {"reason", "arrived with the outer carton crushed on one corner"}});
  }
  return {{"rma_id", "RMA-BIG"}, {"lines", lines}};
}

// Sends line i's scan; its status and body (status 0: the server gave no answer).
ApiReply scan(ApiFixture& api, const std::string& id, int i) {
  net::HttpRequest request;
  request.method = "POST";
  request.target = "/v1/instances/" + id + "/signals/line_received";
  request.headers.set("Content-Type", "application/json");
  request.headers.set("Authorization", "Bearer " + api.token("submitter"));
  request.body = json{{"match", line_id(i)},
                      {"payload", {{"bin", fmt::format("B-{}", i % 17)}}},
                      {"idempotency_key", "scan-" + line_id(i)}}
                     .dump();
  auto result = api.client.request(net::HttpEndpoint{"127.0.0.1", api.server->port()}, request,
                                   std::chrono::seconds(30));
  ApiReply reply;
  if (!result.ok()) return reply;
  reply.status = result.response.status;
  reply.body = json::parse(result.response.body, nullptr, false);
  return reply;
}

}  // namespace

TEST_CASE("Api.Crash.SignalsToABigReturnKeptDecoded") {
  for (const char* point : {"commit.after:70", "commit.written:110"}) {
    CAPTURE(point);
    TempDir side;
    auto adapters = side.write(
        "adapters.yaml", fmt::format("adapters:\n  wms: {{ type: builtin, ledger: {}, latency: "
                                     "1ms }}\n",
                                     side.file("effects.db")));
    ApiFixture api({{"big-return.yaml", kBigReturn}}, {"--adapters", adapters});
    api.start({std::string("RMAFLOW_KILL_AT=") + point});
    auto started = api.submit(big_return(), "big-return");
    REQUIRE(started.status == 201);
    const std::string id = started.body.value("id", "");

    // The lines are scanned one after another until the server dies at its fault point.
    int answered = 0;
    while (answered < kLines && scan(api, id, answered).status == 202) ++answered;
    CHECK(api.server->wait() == -SIGKILL);
    REQUIRE(answered > 5);  // it died with signals in and lines still waiting
    REQUIRE(answered < kLines);
    {
      // Its row, as the file holds it, is past the size from which it is kept decoded, and
      // its state past the size from which its cursors' texts are kept between commits.
      SQLite::Database file(api.db, SQLite::OPEN_READONLY);
      SQLite::Statement row(file,
                            "SELECT length(cursors) + length(visits) + length(saga), "
                            "length(context) FROM instances JOIN instance_contexts ON "
                            "instance_id = id WHERE id = ?");
      row.bind(1, id);
      REQUIRE(row.executeStep());
      const std::int64_t state = row.getColumn(0).getInt64();
      CHECK(state + row.getColumn(1).getInt64() >
            static_cast<std::int64_t>(EngineOptions{}.keep_waiting_least));
      CHECK(state > static_cast<std::int64_t>(EngineOptions{}.keep_cursor_texts_least));
    }

    api.start();
    // Those answered, sent again, are duplicates; the rest are received now (the one the
    // server died answering may have been stored before it died).
    for (int i = 0; i < kLines; ++i) {
      CAPTURE(i);
      auto reply = scan(api, id, i);
      if (i < answered) {
        CHECK(reply.status == 200);
        CHECK(reply.body.value("duplicate", false));
      } else {
        CHECK((reply.status == 202 || (i == answered && reply.status == 200)));
      }
      if (i == kLines - 2) {
        // One line still to come: once its line is restocked the return waits, kept decoded,
        // and the metrics show it (polled: the restock is answered on the server's time).
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        std::string metrics;
        do {
          metrics = api.get("/metrics").text;
        } while (metrics.find("\nrmaflow_engine_kept_waiting_bytes 0\n") != std::string::npos &&
                 std::chrono::steady_clock::now() < deadline);
        CHECK(metrics.find("\nrmaflow_engine_kept_waiting_bytes 0\n") == std::string::npos);
        CHECK(metrics.find("\nrmaflow_engine_kept_waiting_bytes ") != std::string::npos);
      }
    }
    auto done = api.await_status(id, "completed");
    REQUIRE(done.value("status", "") == "completed");

    const json& lines = done["context"]["lines"];
    REQUIRE(lines.size() == kLines);
    for (int i = 0; i < kLines; ++i) {
      CAPTURE(i);
      CHECK(lines[i]["key"] == line_id(i));
      CHECK(lines[i]["status"] == "restocked");
      CHECK(lines[i]["output"]["bin"] == fmt::format("B-{}", i % 17));
    }
    // Each line received once and restocked once; the history whole.
    auto events = history(api, id);
    CHECK(events_of(events, "signal_consumed").size() == kLines);
    std::int64_t seq = 1;
    for (const auto& e : events) CHECK(e.value("seq", 0) == seq++);
    SQLite::Database ledger(side.file("effects.db"), SQLite::OPEN_READONLY);
    SQLite::Statement q(ledger, "SELECT count(*), min(effects), max(effects) FROM effects");
    REQUIRE(q.executeStep());
    CHECK(q.getColumn(0).getInt() == kLines);
    CHECK(q.getColumn(1).getInt() == 1);
    CHECK(q.getColumn(2).getInt() == 1);
  }
}
