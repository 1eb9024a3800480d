// The shipped standard-return, instant-refund, warranty-repair and marketplace-case workflows
// (with their return-review, vendor-return and vendor-repair children) on the simulated ERP,
// carrier, warehouse, payment provider, vendor and marketplace, run by the real binary in
// virtual time and SIGKILLed at the interesting points, restarted on the same files each time.
// Afterwards every RMA ends as an uninterrupted run ends it, and no system has done anything
// twice: one label per parcel (an RMA's, or a line's), at most one restock per line and one
// credit memo per RMA, at most one hold, refund and capture per RMA and one claw-back per line,
// one vendor RMA and vendor credit per line returned to the vendor, one review case per
// subject, one repair and one charge per line, one marketplace refund per case, every effect
// applied once per idempotency key.
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
const char* kReturnsAdapters = R"(
adapters:
  erp: { type: sim, system: erp, state: state/erp.db, data: erp-data.yaml, review_after: 4h,
         latency: 50ms..200ms, seed: 1,
         reviews: { default: approve, RMA-1031: { decision: partial, refund_ratio: 0.8 },
                    RMA-1032: deny, RMA-1033/L1: deny } }
  carrier:
    type: sim
    system: carrier
    state: state/carrier.db
    latency: 100ms..400ms
    seed: 2
    operations: { create_label: { fail_first: 1 } }
    parcels: { default: 3d, RMA-1004: never, RMA-1016: never, RMA-1012: 6d, RMA-1013: 9d,
               RMA-4002: never, RMA-4003: lost, RMA-1030/L2: never, RMA-1030/L3: lost }
  wms:
    type: sim
    system: wms
    state: state/wms.db
    latency: 20ms..100ms
    grades: { default: A, RMA-1003: C, RMA-1005: B, RMA-1009: D, RMA-1017: D, RMA-1019: B,
              "RMA-4001/L2": { grade: A, condition: not_as_described },
              "RMA-1033/L1": { grade: A, serial: SN-SWAPPED-2 } }
  payments: { type: sim, system: payments, state: state/payments.db, latency: 50ms..300ms,
              seed: 4, declined: [C-103] }
  vendor: { type: sim, system: vendor, state: state/vendor.db, latency: 50ms..300ms, seed: 5,
            unrepairable: [RMA-6003] }
  marketplace: { type: sim, system: marketplace, state: state/marketplace.db, latency: 50ms..300ms,
                 seed: 6, cases: { MKT-5001: { offer: accept }, MKT-5002: { offer: decline },
                                   MKT-5003: { ruling: buyer } } }
)";

// How the day's RMAs end (examples/returns-day.json), by business key.
std::string expected_status(const std::string& rma) {
  static const std::map<std::string, std::string> kNotCompleted = {
      {"RMA-1004", "12"}, {"RMA-1016", "12"}, {"RMA-4002", "12"},  // expired (4002: hold captured)
      {"RMA-1006", "3"},  {"RMA-1023", "3"},                       // suspended
      {"RMA-1010", "11"}, {"RMA-1011", "11"}, {"RMA-1024", "11"},  // rejected
      {"RMA-1032", "11"},                                          // denied by the risk desk
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
    adapters = dir.write("adapters.yaml", kReturnsAdapters);
    std::ifstream day(source_dir() + "/examples/returns-day.json");
    json standard = json::array();
    for (auto& entry : json::parse(day)) {
      static const std::set<std::string> kWorkflows = {"standard-return", "instant-refund",
                                                       "warranty-repair", "marketplace-case"};
      if (!kWorkflows.contains(entry["workflow"].get<std::string>())) continue;
      // The business key: a marketplace case is known by its case id.
      rmas.push_back(entry["input"].value("case_id", entry["input"]["rma_id"].get<std::string>()));
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
int kill_and_recover_returns(const std::vector<std::string>& kills) {
  ReturnsRun r;
  kill_then_finish([&](const std::string& kill_at) { return r.run(kill_at); }, kills);

  auto statuses = r.statuses();
  REQUIRE(statuses.size() == r.rmas.size());
  for (const auto& rma : r.rmas) CHECK_MESSAGE(statuses[rma] == expected_status(rma), rma);
  // The children: RMA-1003's line graded C went back to the vendor, credited; the flagged
  // returns were reviewed (RMA-1033's first line on its own; RMA-1032's review was undone
  // with the denied return, 15); each warranty line went to the repair vendor.
  CHECK(r.statuses(/*children=*/true) == std::map<std::string, std::string>{{"RMA-1003/L1", "10"},
                                                                            {"RMA-1031/rma", "10"},
                                                                            {"RMA-1032/rma", "15"},
                                                                            {"RMA-1033/L1", "10"},
                                                                            {"RMA-6001/L1", "10"},
                                                                            {"RMA-6002/L1", "10"},
                                                                            {"RMA-6003/L1", "10"}});

  // Nothing twice: one label per parcel (an RMA's; with parcels per line, a line's; a unit
  // shipped back to its customer, its own), at most one restock per line and one credit per RMA.
  auto labels = r.count("carrier", "SELECT count(*) FROM documents WHERE type = 'label'");
  // Not for the five rejected RMAs, nor for RMA-1023, whose address the carrier refuses;
  // three for RMA-1030 (a parcel per line); none for the marketplace cases (the marketplace's).
  CHECK(labels == static_cast<int>(r.rmas.size()) - 6 + 2 - 3);
  CHECK(r.count("carrier",
                "SELECT count(*) FROM (SELECT rma_id FROM documents WHERE type = "
                "'label' GROUP BY rma_id, json_extract(body, '$.line_id'), "
                "json_extract(body, '$.direction') HAVING count(*) > 1)") == 0);
  for (const auto& [rma, n] : r.live("wms", "restock")) CHECK_MESSAGE(n == 1, rma);
  for (const auto& [rma, n] : r.live("erp", "credit_memo")) CHECK_MESSAGE(n == 1, rma);
  CHECK(r.live("erp", "credit_memo").size() == 20);  // the completed refunds and store credits
  // Lines graded A: RMA-1026 has three, the marketplace's returned case two.
  CHECK(r.live("wms", "restock").size() == 25);
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
  // Two parcels lost: RMA-4003's and RMA-1030's third line's, each claimed once.
  CHECK(r.count("carrier", "SELECT count(*) FROM documents WHERE type = 'claim'") == 2);
  CHECK(r.count("carrier",
                "SELECT count(*) FROM documents WHERE type = 'claim' AND rma_id = 'RMA-1030'") ==
        1);
  // The risk desk's cases: one per subject reviewed, each decided once.
  CHECK(
      r.count("erp",
              "SELECT count(*) FROM documents WHERE type = 'review_case' AND status = 'decided'") ==
      3);
  CHECK(r.count("erp",
                "SELECT count(*) FROM (SELECT rma_id FROM documents WHERE type = 'review_case' "
                "GROUP BY rma_id, json_extract(body, '$.subject') HAVING count(*) > 1)") == 0);
  // Quarantined: the line whose serial did not match, and the line clawed back.
  CHECK(r.live("wms", "quarantine") ==
        std::map<std::string, int>{{"RMA-1033/L1", 1}, {"RMA-4001/L2", 1}});
  // Repairs: one repair order per warranty line, one charge for the out-of-warranty repair,
  // one replacement for the unit that could not be repaired.
  CHECK(r.count("vendor", "SELECT count(*) FROM documents WHERE type = 'repair_order'") == 3);
  CHECK(r.live("erp", "charge") == std::map<std::string, int>{{"RMA-6002/L1", 1}});
  CHECK(r.count("erp",
                "SELECT count(*) FROM documents WHERE type = 'replacement_order' AND rma_id = "
                "'RMA-6003'") == 1);
  // The marketplace: each case refunded at most once.
  CHECK(r.count("marketplace",
                "SELECT count(*) FROM (SELECT rma_id FROM documents WHERE type = "
                "'buyer_refund' GROUP BY rma_id HAVING count(*) > 1)") == 0);
  CHECK(r.count("marketplace",
                "SELECT count(*) FROM documents WHERE type = 'buyer_refund' AND "
                "rma_id = 'MKT-5002'") == 1);  // refunded by us once the goods were back
  // One vendor RMA, one shipment to the vendor and one vendor credit booked for that line.
  CHECK(r.live("vendor", "vendor_rma") == std::map<std::string, int>{{"RMA-1003/L1", 1}});
  // One shipment to the vendor per line: RMA-1003's for its credit, the warranty lines' for repair.
  CHECK(r.live("wms", "vendor_shipment") ==
        std::map<std::string, int>{
            {"RMA-1003/L1", 1}, {"RMA-6001/L1", 1}, {"RMA-6002/L1", 1}, {"RMA-6003/L1", 1}});
  CHECK(r.live("erp", "vendor_credit") == std::map<std::string, int>{{"RMA-1003/L1", 1}});
  CHECK(r.count("payments", "SELECT count(*) FROM documents WHERE type = 'hold' AND status = "
                            "'released'") == 3);
  for (const auto* system : {"erp", "carrier", "wms", "payments", "vendor", "marketplace"}) {
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
      // A marketplace case's refund is the marketplace's document, not the payment provider's.
      auto kind = line["kind"].get<std::string>();
      if (line.value("workflow", "") == "marketplace-case" && kind == "refund")
        kind = "buyer_refund";
      listed[kind].insert(line["details"].value("reference", ""));
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
  // The refund the seller paid on the returned marketplace case, by the marketplace's number.
  REQUIRE(listed["buyer_refund"].size() == 1);
  CHECK(r.count("marketplace",
                "SELECT count(*) FROM documents WHERE type = 'buyer_refund' AND id = '" +
                    *listed["buyer_refund"].begin() + "'") == 1);

  int replayed = 0;
  for (const auto* system : {"erp", "carrier", "wms", "payments", "vendor", "marketplace"}) {
    replayed += r.count(system, "SELECT count(*) FROM effects WHERE effects = 1 AND calls > 1 "
                                "AND operation <> 'create_label'");
  }
  return replayed;
}

}  // namespace

TEST_CASE("Recovery.Sigkill.ReturnsPack.BetweenCommits") {
  kill_and_recover_returns({"commit.after:3", "commit.after:30"});
}
TEST_CASE("Recovery.Sigkill.ReturnsPack.AfterTheSystemsActedBeforeTheEngineRecorded") {
  // invoke.after: the call went out (and a system may have applied it); the outcome is lost.
  // Each kill left a call whose effect a system had applied: the restart repeated it.
  CHECK(kill_and_recover_returns({"invoke.after:30", "invoke.after:25", "invoke.after:25"}) >= 2);
}
TEST_CASE("Recovery.Sigkill.ReturnsPack.BatchLostAndRetriesPending") {
  kill_and_recover_returns({"retry.armed:4", "commit.before:10", "commit.before:25"});
}
