// The shipped standard-return and instant-refund workflows on the simulated ERP, carrier,
// warehouse and payment provider, run by the real binary in virtual time and SIGKILLed at the
// interesting points, restarted on the same files each time. Afterwards every RMA ends as an
// uninterrupted run ends it, and no system has done anything twice: one label per RMA, at
// most one restock per line and one credit memo per RMA, at most one hold, refund and capture
// per RMA and one claw-back per line, one vendor RMA and vendor credit per line returned to
// the vendor, every effect applied once per idempotency key.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "tests/cli/cli_checks.hpp"
#include "tests/support/process.hpp"

using namespace rmaflow::testing;
using json = nlohmann::json;

namespace {

// The demo's systems, with each label's first request failing (deterministic, so that every
// run retries) and quick latencies.
const char* kAdapters = R"(
adapters:
  erp: { type: sim, system: erp, state: state/erp.db, data: erp-data.yaml, review_after: 4h,
         latency: 50ms..200ms, seed: 1 }
  carrier:
    type: sim
    system: carrier
    state: state/carrier.db
    latency: 100ms..400ms
    seed: 2
    operations: { create_label: { fail_first: 1 } }
    parcels: { default: 3d, RMA-1004: never, RMA-1016: never, RMA-1012: 6d, RMA-1013: 9d,
               RMA-4002: never, RMA-4003: lost }
  wms:
    type: sim
    system: wms
    state: state/wms.db
    latency: 20ms..100ms
    grades: { default: A, RMA-1003: C, RMA-1005: B, RMA-1009: D, RMA-1017: D, RMA-1019: B,
              "RMA-4001/L2": { grade: A, condition: not_as_described } }
  payments: { type: sim, system: payments, state: state/payments.db, latency: 50ms..300ms,
              seed: 4, declined: [C-103] }
  vendor: { type: sim, system: vendor, state: state/vendor.db, latency: 50ms..300ms, seed: 5 }
)";

// How the day's standard returns and instant refunds end (examples/returns-day.json).
std::string expected_status(const std::string& rma) {
  static const std::map<std::string, std::string> kNotCompleted = {
      {"RMA-1004", "12"}, {"RMA-1016", "12"}, {"RMA-4002", "12"},  // expired (4002: hold captured)
      {"RMA-1006", "3"},  {"RMA-1023", "3"},                       // suspended
      {"RMA-1010", "11"}, {"RMA-1011", "11"}, {"RMA-1024", "11"},  // rejected
      {"RMA-4004", "11"}                                           // rejected: card declined
  };
  auto it = kNotCompleted.find(rma);
  return it == kNotCompleted.end() ? "10" : it->second;
}

struct ReturnsRun {
  TempDir dir;
  std::string db = dir.file("returns.db");
  std::string adapters;
  std::string inputs;
  std::vector<std::string> rmas;

  ReturnsRun() {
    std::filesystem::copy_file(source_dir() + "/examples/sim/erp-data.yaml", dir.file("erp-data.yaml"));
    adapters = dir.write("adapters.yaml", kAdapters);
    std::ifstream day(source_dir() + "/examples/returns-day.json");
    json standard = json::array();
    for (auto& entry : json::parse(day)) {
      if (entry["workflow"] != "standard-return" && entry["workflow"] != "instant-refund") continue;
      rmas.push_back(entry["input"]["rma_id"]);
      standard.push_back(entry);
    }
    inputs = dir.write("rmas.json", standard.dump());
  }

  ProcessResult run(const std::string& kill_at) {
    std::vector<std::string> env;
    if (!kill_at.empty()) env.push_back("RMAFLOW_KILL_AT=" + kill_at);
    return run_process({rmaflow_binary(), "run", "--db", db, "--workflows", source_dir() + "/workflows",
                        "--adapters", adapters, "--clock", "virtual", "--start", "2025-06-02T08:00:00Z",
                        inputs},
                       env);
  }

  // How each instance ended, by business key: the RMAs, and the children their call steps
  // started (`children` true).
  std::map<std::string, std::string> statuses(bool children = false) {
    SQLite::Database d(db, SQLite::OPEN_READONLY);
    SQLite::Statement q(d, children ? "SELECT business_key, status FROM instances WHERE parent_id <> ''"
                                    : "SELECT business_key, status FROM instances WHERE parent_id = ''");
    std::map<std::string, std::string> out;
    while (q.executeStep()) out[q.getColumn(0).getString()] = q.getColumn(1).getString();
    return out;
  }

  // Documents of `type` per RMA (and line, for the line's own) that are in force (not voided
  // or reversed).
  std::map<std::string, int> live(const std::string& system, const std::string& type) {
    SQLite::Database d(dir.file("state/" + system + ".db"), SQLite::OPEN_READONLY);
    SQLite::Statement q(d, "SELECT rma_id || coalesce('/' || json_extract(body, '$.line_id'), ''), "
                           "count(*) FROM documents WHERE type = ? AND status "
                           "NOT IN ('voided', 'reversed') GROUP BY 1");
    q.bind(1, type);
    std::map<std::string, int> out;
    while (q.executeStep()) out[q.getColumn(0).getString()] = q.getColumn(1).getInt();
    return out;
  }

  int count(const std::string& system, const std::string& sql) {
    SQLite::Database d(dir.file("state/" + system + ".db"), SQLite::OPEN_READONLY);
    return d.execAndGet(sql).getInt();
  }
};

// Returns how many calls a system answered from its ledger (a repeat of a key that had its
// effect), other than the label retries every run makes.
int kill_and_recover(const std::vector<std::string>& kills) {
  ReturnsRun r;
  kill_then_finish([&](const std::string& kill_at) { return r.run(kill_at); }, kills);

  auto statuses = r.statuses();
  REQUIRE(statuses.size() == r.rmas.size());
  for (const auto& rma : r.rmas) CHECK_MESSAGE(statuses[rma] == expected_status(rma), rma);
  // RMA-1003's line graded C went back to the vendor, in a child of its own, credited.
  CHECK(r.statuses(/*children=*/true) == std::map<std::string, std::string>{{"RMA-1003/L1", "10"}});

  // Nothing twice: one label for every RMA that got one, at most one restock per line and one
  // credit per RMA.
  auto labels = r.count("carrier", "SELECT count(*) FROM documents WHERE type = 'label'");
  // Not for the four rejected RMAs, nor for RMA-1023, whose address the carrier refuses.
  CHECK(labels == static_cast<int>(r.rmas.size()) - 5);
  CHECK(r.count("carrier", "SELECT count(*) FROM (SELECT rma_id FROM documents WHERE type = "
                           "'label' GROUP BY rma_id HAVING count(*) > 1)") == 0);
  for (const auto& [rma, n] : r.live("wms", "restock")) CHECK_MESSAGE(n == 1, rma);
  for (const auto& [rma, n] : r.live("erp", "credit_memo")) CHECK_MESSAGE(n == 1, rma);
  CHECK(r.live("erp", "credit_memo").size() == 17);  // the completed refunds and store credits
  CHECK(r.live("wms", "restock").size() == 20);      // lines graded A (RMA-1026 has three)
  // Money moved once: one hold and one refund per instant refund that got past the card, one
  // capture (RMA-4002, never dropped off), one claw-back (RMA-4001's second line), one claim
  // (RMA-4003, lost in transit).
  for (const auto* type : {"hold", "refund", "capture"}) {
    CAPTURE(type);
    for (const auto& [rma, n] : r.live("payments", type)) CHECK_MESSAGE(n == 1, rma);
  }
  CHECK(r.live("payments", "refund").size() == 4);
  CHECK(r.live("payments", "capture") == std::map<std::string, int>{{"RMA-4002", 1}});
  // A reversal's status is "reversed" (the money went back): counted, not "live".
  CHECK(r.count("payments", "SELECT count(*) FROM documents WHERE type = 'reversal'") == 1);
  CHECK(r.count("payments", "SELECT count(*) FROM documents WHERE type = 'reversal' AND "
                            "rma_id = 'RMA-4001' AND json_extract(body, '$.amount') = 99.8") == 1);
  CHECK(r.count("carrier", "SELECT count(*) FROM documents WHERE type = 'claim'") == 1);
  // One vendor RMA, one shipment to the vendor and one vendor credit booked for that line.
  CHECK(r.live("vendor", "vendor_rma") == std::map<std::string, int>{{"RMA-1003/L1", 1}});
  CHECK(r.live("wms", "vendor_shipment") == std::map<std::string, int>{{"RMA-1003/L1", 1}});
  CHECK(r.live("erp", "vendor_credit") == std::map<std::string, int>{{"RMA-1003/L1", 1}});
  CHECK(r.count("payments", "SELECT count(*) FROM documents WHERE type = 'hold' AND status = "
                            "'released'") == 3);
  for (const auto* system : {"erp", "carrier", "wms", "payments", "vendor"}) {
    CAPTURE(system);
    CHECK(r.count(system, "SELECT count(*) FROM effects WHERE effects > 1") == 0);
  }
  // Every label was retried once (its first request fails), and the repeat made no second.
  CHECK(r.count("carrier", "SELECT count(*) FROM effects WHERE operation = 'create_label' "
                           "AND calls < 2") == 0);
  // Each receipt reached its instance; none is left to send.
  CHECK(r.count("wms", "SELECT count(*) FROM jobs WHERE kind = 'signal' AND outcome IS NULL") == 0);
  // The auditor's listing, made from the histories the killed runs committed, names each
  // credit memo, restock and refund the systems hold, once, by the systems' own references.
  auto audit = run_process({rmaflow_binary(), "audit", "--db", r.db, "--format", "json"});
  REQUIRE(audit.exit_code == 0);
  std::map<std::string, std::multiset<std::string>> listed;
  for (const auto& line : json::parse(audit.out)) {
    if (line["type"] == "posting" && !line["reversal"].get<bool>()) {
      listed[line["kind"].get<std::string>()].insert(line["details"].value("reference", ""));
    }
  }
  for (auto [system, kind] : {std::pair{"erp", "credit_memo"}, std::pair{"wms", "restock"},
                              std::pair{"payments", "refund"}}) {
    CAPTURE(std::string(kind));
    SQLite::Database d(r.dir.file(std::string("state/") + system + ".db"), SQLite::OPEN_READONLY);
    SQLite::Statement q(d, "SELECT id FROM documents WHERE type = ?");
    q.bind(1, kind);
    std::multiset<std::string> held;
    while (q.executeStep()) held.insert(q.getColumn(0).getString());
    CHECK(!held.empty());
    CHECK(listed[kind] == held);
  }

  int replayed = 0;
  for (const auto* system : {"erp", "carrier", "wms", "payments", "vendor"}) {
    replayed += r.count(system, "SELECT count(*) FROM effects WHERE effects = 1 AND calls > 1 "
                                "AND operation <> 'create_label'");
  }
  return replayed;
}

}  // namespace

TEST_CASE("Recovery.Sigkill.ReturnsPack.BetweenCommits") {
  kill_and_recover({"commit.after:3", "commit.after:30"});
}
TEST_CASE("Recovery.Sigkill.ReturnsPack.AfterTheSystemsActedBeforeTheEngineRecorded") {
  // invoke.after: the call went out (and a system may have applied it); the outcome is lost.
  // Each kill left a call whose effect a system had applied: the restart repeated it.
  CHECK(kill_and_recover({"invoke.after:30", "invoke.after:25", "invoke.after:25"}) >= 2);
}
TEST_CASE("Recovery.Sigkill.ReturnsPack.BatchLostAndRetriesPending") {
  kill_and_recover({"retry.armed:4", "commit.before:10", "commit.before:25"});
}
