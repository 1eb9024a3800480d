// The simulated systems as an outside caller sees them: idempotency per key, seeded faults and
// latency, business refusals, and the events they schedule durably and send back.
#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <set>

#include "adapters/sim/sim_adapter.hpp"
#include "adapters/sim/sim_clock.hpp"
#include "tests/adapters/fake_host.hpp"
#include "tests/support/process.hpp"

using namespace rmaflow;
using namespace rmaflow::testing;
using json = nlohmann::json;

namespace {

const TimePoint kStart = *parse_time("2025-06-02T08:00:00Z");
constexpr Duration kDay(86'400'000);

// The systems of one adapters file, in a directory of their own.
struct Sims {
  explicit Sims(const std::string& operations = "{}", const std::string& extra = "") {
    yaml = fmt::format(R"(
adapters:
  erp:
    type: sim
    system: erp
    state: erp.db
    data: erp-data.yaml
  carrier:
    type: sim
    system: carrier
    state: carrier.db
    parcels: {{ default: 2d, RMA-NEVER: never }}
    operations: {}
  wms: {{ type: sim, system: wms, state: wms.db, grades: {{ RMA-D: D }} }}
{})",
                       operations, extra);
    dir.write("erp-data.yaml", R"(
customers: { C-1: { name: Harbor Tools } }
invoices:
  INV-1: { customer_id: C-1, date: 2025-05-20, currency: USD, lines: [ { sku: DOCK-4, qty: 2, unit_price: 159.0 } ] }
)");
    open();
  }
  void open() {
    registry = std::make_unique<AdapterRegistry>(
        AdapterRegistry::from_yaml(yaml, dir.file("adapters.yaml"), dir.path()));
  }
  sim::SimSystem& system(const std::string& name) {
    auto* adapter = dynamic_cast<sim::SimAdapter*>(registry->find(name));
    REQUIRE(adapter != nullptr);
    return *adapter->system();
  }
  // The carrier and the warehouse run their events on `host`.
  void attach(FakeHost& host) {
    system("carrier").attach(host);
    system("wms").attach(host);
  }
  int count(const std::string& db, const std::string& sql) {
    SQLite::Database file(dir.file(db), SQLite::OPEN_READONLY);
    return file.execAndGet(sql).getInt();
  }

  TempDir dir;
  std::string yaml;
  std::unique_ptr<AdapterRegistry> registry;
};

json label_request(const std::string& rma_id) {
  return {{"rma_id", rma_id},
          {"ship_from", {{"postal_code", "97201"}, {"country", "US"}}},
          {"notify", {{"workflow", "standard-return"}, {"business_key", rma_id}}}};
}

}  // namespace

TEST_CASE("Sim.Idempotency.RepeatedKeyReturnsTheFirstResultWithNoSecondEffect") {
  Sims sims;
  auto& carrier = sims.system("carrier");
  auto first = carrier.execute("create_label", "I1:issue_label:1", label_request("RMA-1"));
  auto again = carrier.execute("create_label", "I1:issue_label:1", label_request("RMA-1"));
  REQUIRE(first.outcome.ok());
  REQUIRE(again.outcome.ok());
  CHECK(*again.outcome.result == *first.outcome.result);
  auto other = carrier.execute("create_label", "I2:issue_label:1", label_request("RMA-2"));
  CHECK((*other.outcome.result)["label_id"] != (*first.outcome.result)["label_id"]);
  CHECK(sims.count("carrier.db", "SELECT count(*) FROM documents WHERE type = 'label'") == 2);
  CHECK(sims.count("carrier.db", "SELECT calls FROM effects WHERE key = 'I1:issue_label:1'") == 2);
  CHECK(sims.count("carrier.db", "SELECT effects FROM effects WHERE key = 'I1:issue_label:1'") == 1);
  // Only the first call scheduled the parcel's delivery.
  CHECK(sims.count("carrier.db", "SELECT count(*) FROM jobs WHERE kind = 'deliver'") == 2);
}

TEST_CASE("Sim.Faults.FirstCallsOfEachKeyFailThenSucceed") {
  Sims sims("{ create_label: { fail_first: 2 } }");
  auto& carrier = sims.system("carrier");
  for (const auto* key : {"K1", "K2"}) {
    for (int call = 1; call <= 2; ++call) {
      auto r = carrier.execute("create_label", key, label_request(key));
      REQUIRE_FALSE(r.outcome.ok());
      CHECK(r.outcome.error.code == "Transient");
      CHECK(r.outcome.error.retryable);
    }
    CHECK(carrier.execute("create_label", key, label_request(key)).outcome.ok());
  }
  // Failed calls reached no label: two labels for two keys.
  CHECK(sims.count("carrier.db", "SELECT count(*) FROM documents WHERE type = 'label'") == 2);
  CHECK(sims.count("carrier.db", "SELECT sum(calls) FROM effects") == 6);
}

TEST_CASE("Sim.Faults.AFractionFailsTheSameWayEveryRun") {
  auto failing = [](const std::string& profile) {
    Sims sims(profile);
    std::set<int> failed;
    for (int i = 0; i < 200; ++i) {
      auto key = fmt::format("K{}", i);
      if (!sims.system("carrier").execute("create_label", key, label_request(key)).outcome.ok())
        failed.insert(i);
    }
    return failed;
  };
  auto a = failing("{ create_label: { fail_rate: 0.25 } }");
  CHECK(a.size() > 30);
  CHECK(a.size() < 70);
  CHECK(failing("{ create_label: { fail_rate: 0.25 } }") == a);  // seeded: repeatable
  CHECK(failing("{ create_label: { fail_rate: 0.25 } }\n    seed: 99") != a);
}

TEST_CASE("Sim.Faults.TheSameRmaMeetsTheSameFaultsUnderNewInstanceIds") {
  Invocation call;
  call.instance_id = "01JX0000000000000000000001";
  call.idempotency_key = call.instance_id + ":issue_label:1";
  call.business_key = "RMA-1005";
  CHECK(sim::draw_identity(call) == "RMA-1005:issue_label:1");
  call.business_key.clear();  // started without one: the key itself
  CHECK(sim::draw_identity(call) == call.idempotency_key);
  call.business_key = "RMA-1005";
  call.idempotency_key = "K1";  // a key that does not start with the id is left alone
  CHECK(sim::draw_identity(call) == "K1");

  // Two runs of the same 200 RMAs, each giving every instance a new id: the same labels fail.
  auto failing = [](const std::string& run) {
    Sims sims("{ create_label: { fail_rate: 0.25 } }");
    FakeHost host(kStart);
    auto* carrier = sims.registry->find("carrier");
    std::set<int> failed;
    for (int i = 0; i < 200; ++i) {
      Invocation c;
      c.instance_id = fmt::format("{}-instance-{}", run, i);
      c.business_key = fmt::format("RMA-{}", i);
      c.operation = "create_label";
      c.idempotency_key = c.instance_id + ":issue_label:1";
      c.input = label_request(c.business_key);
      c.deadline = kStart + kDay;
      std::optional<Outcome> answer;
      carrier->invoke(c, host, [&](Outcome o) { answer = std::move(o); });
      host.advance_to(host.clock().now() + Duration(60'000));
      REQUIRE(answer.has_value());
      if (!answer->ok()) failed.insert(i);
    }
    return failed;
  };
  auto first = failing("first");
  CHECK(first.size() > 30);
  CHECK(first.size() < 70);
  CHECK(failing("second") == first);
}

TEST_CASE("Sim.Faults.ALateAnswerStillAppliesTheEffectOnce") {
  Sims sims("{ create_label: { timeout_first: 1 } }");
  auto& carrier = sims.system("carrier");
  auto late = carrier.execute("create_label", "K1", label_request("RMA-1"));
  CHECK(late.late);
  REQUIRE(late.outcome.ok());  // processed; the caller just never hears it in time
  auto retry = carrier.execute("create_label", "K1", label_request("RMA-1"));
  CHECK_FALSE(retry.late);
  CHECK(*retry.outcome.result == *late.outcome.result);
  CHECK(sims.count("carrier.db", "SELECT count(*) FROM documents WHERE type = 'label'") == 1);
}

TEST_CASE("Sim.Latency.DrawnWithinTheConfiguredRange") {
  Sims sims("{ create_label: { latency: 50ms..300ms } }");
  std::set<Duration::rep> seen;
  for (int i = 0; i < 50; ++i) {
    auto key = fmt::format("K{}", i);
    auto r = sims.system("carrier").execute("create_label", key, label_request(key));
    CHECK(r.latency >= Duration(50));
    CHECK(r.latency <= Duration(300));
    seen.insert(r.latency.count());
  }
  CHECK(seen.size() > 10);
}

TEST_CASE("Sim.Refusals.AreNamedNotRetryableAndChangeNothing") {
  Sims sims;
  auto& erp = sims.system("erp");
  FakeHost host(kStart);  // the ERP's return window runs on the host's clock
  erp.attach(host);
  json request = {{"rma_id", "RMA-1"},
                  {"customer_id", "C-1"},
                  {"invoice_id", "INV-1"},
                  {"lines", {{{"sku", "DOCK-4"}, {"qty", 3}, {"reason_code", "defective"}}}}};
  auto r = erp.execute("authorize_return", "K1", request);
  REQUIRE_FALSE(r.outcome.ok());
  CHECK(r.outcome.error.code == "NotEligible");
  CHECK_FALSE(r.outcome.error.retryable);
  CHECK(r.outcome.error.message.find("2 still returnable") != std::string::npos);
  CHECK(sims.count("erp.db", "SELECT count(*) FROM documents WHERE type = 'authorization'") == 0);
  // The same key asked again once the request is right: a refusal was no effect.
  request["lines"][0]["qty"] = 2;
  auto ok = erp.execute("authorize_return", "K1", request);
  REQUIRE(ok.outcome.ok());
  CHECK((*ok.outcome.result)["lines"][0]["unit_price"] == 159.0);  // the invoiced price
  auto bad = erp.execute("authorize_return", "K2", json{{"rma_id", "RMA-2"}});
  CHECK(bad.outcome.error.code == "BadRequest");
  CHECK(bad.outcome.error.message.find("\"customer_id\"") != std::string::npos);
  CHECK(erp.execute("no_such_thing", "K3", json::object()).outcome.error.code == "UnknownOperation");
}

TEST_CASE("Sim.Events.ParcelDeliveryIsDurableAndTheReceiptIsSignalled") {
  Sims sims;
  {
    FakeHost host(kStart);
    sims.attach(host);
    auto label = sims.system("carrier").execute("create_label", "K1", label_request("RMA-1"));
    REQUIRE(label.outcome.ok());
    CHECK(host.next_timer() == kStart + 2 * kDay);
    // The process dies here: the delivery is only in the carrier's file.
  }
  sims.open();
  FakeHost host(kStart + kDay);
  sims.attach(host);
  REQUIRE(host.next_timer() == kStart + 2 * kDay);  // re-armed from the carrier's database
  host.advance_to(kStart + 2 * kDay);
  REQUIRE(host.signals.size() == 1);
  const auto& s = host.signals[0];
  CHECK(s.workflow == "standard-return");
  CHECK(s.business_key == "RMA-1");
  CHECK(s.name == "warehouse.received");
  CHECK(s.payload["rma_id"] == "RMA-1");
  CHECK(s.idempotency_key == "receipt:" + s.payload["tracking_number"].get<std::string>());
  CHECK(sims.count("wms.db", "SELECT count(*) FROM jobs WHERE outcome = 'done'") == 1);
  CHECK(sims.count("carrier.db", "SELECT count(*) FROM documents WHERE status = 'delivered'") == 1);
  CHECK(host.timers() == 0);
}

TEST_CASE("Sim.Events.ASignalTheEngineDidNotCommitIsSentAgain") {
  Sims sims;
  FakeHost host(kStart);
  host.refuse_with = Errc::storage;  // the engine stopped before committing it
  sims.attach(host);
  sims.system("carrier").execute("create_label", "K1", label_request("RMA-1"));
  host.advance_to(kStart + 2 * kDay);
  CHECK(host.signals.size() == 1);
  CHECK(sims.count("wms.db", "SELECT count(*) FROM jobs WHERE outcome IS NULL") == 1);
  // Attached to the next engine, the warehouse delivers it again; this time it is taken.
  host.refuse_with.reset();
  sims.system("wms").attach(host);
  host.advance_to(kStart + 2 * kDay);
  CHECK(host.signals.size() == 2);
  CHECK(host.signals[1].idempotency_key == host.signals[0].idempotency_key);
  CHECK(sims.count("wms.db", "SELECT count(*) FROM jobs WHERE outcome = 'done'") == 1);
}

TEST_CASE("Sim.Events.ARefusedSignalIsDroppedWithTheReason") {
  Sims sims;
  FakeHost host(kStart);
  host.refuse_with = Errc::not_found;
  sims.attach(host);
  sims.system("carrier").execute("create_label", "K1", label_request("RMA-1"));
  host.advance_to(kStart + 2 * kDay);
  CHECK(sims.count("wms.db", "SELECT count(*) FROM jobs WHERE outcome LIKE 'dropped: %'") == 1);
}

TEST_CASE("Sim.Events.VoidingTheLabelCancelsTheDelivery") {
  Sims sims;
  FakeHost host(kStart);
  sims.attach(host);
  auto label = sims.system("carrier").execute("create_label", "K1", label_request("RMA-1"));
  auto voided = sims.system("carrier").execute("void_label", "K2",
                                               {{"label_id", (*label.outcome.result)["label_id"]}});
  REQUIRE(voided.outcome.ok());
  host.advance_to(kStart + 10 * kDay);
  CHECK(host.signals.empty());
  CHECK(sims.count("wms.db", "SELECT count(*) FROM documents WHERE type = 'receipt'") == 0);
  // A parcel that never ships is not scheduled at all.
  sims.system("carrier").execute("create_label", "K3", label_request("RMA-NEVER"));
  CHECK(sims.count("carrier.db", "SELECT count(*) FROM jobs WHERE outcome IS NULL") == 0);
}

TEST_CASE("Sim.Events.AnOutboundParcelReachesTheCustomerNotTheWarehouse") {
  // A unit going back to its customer (a repair declined): delivered to ship_to, never
  // received into the warehouse, even for an RMA whose inbound parcels never ship.
  Sims sims;
  FakeHost host(kStart);
  sims.attach(host);
  auto request = label_request("RMA-NEVER");
  request["direction"] = "outbound";
  request["ship_to"] = {{"postal_code", "97201"}, {"country", "US"}};
  auto label = sims.system("carrier").execute("create_label", "K1", request);
  REQUIRE(label.outcome.ok());
  host.advance_to(kStart + 10 * kDay);
  CHECK(host.signals.empty());
  CHECK(sims.count("carrier.db", "SELECT count(*) FROM documents WHERE status = 'delivered'") == 1);
  CHECK(sims.count("wms.db", "SELECT count(*) FROM documents WHERE type = 'receipt'") == 0);
}

// Nodes of one database on one machine share the systems' files (SimSystem::share_jobs):
// each node arms the jobs the others scheduled, so a parcel whose label a node issued before
// it died still arrives, and a job that two nodes fire runs once.
TEST_CASE("Sim.Events.Issue18.NodesSharingTheFilesRunEachJobOnce") {
  Sims sims;
  // A second process on the same files: the other node.
  AdapterRegistry other =
      AdapterRegistry::from_yaml(sims.yaml, sims.dir.file("adapters.yaml"), sims.dir.path());
  auto system_of = [](AdapterRegistry& registry, const char* name) -> sim::SimSystem& {
    return *dynamic_cast<sim::SimAdapter&>(*registry.find(name)).system();
  };
  const Duration every(3'600'000);
  CHECK(sim::share_sim_jobs(*sims.registry, every) == 3);
  CHECK(sim::share_sim_jobs(other, every) == 3);
  FakeHost first(kStart), second(kStart);
  sims.attach(first);
  for (const char* name : {"carrier", "wms"}) system_of(other, name).attach(second);

  // The first node issues two labels; the second has armed nothing yet.
  REQUIRE(
      sims.system("carrier").execute("create_label", "K1", label_request("RMA-1")).outcome.ok());
  REQUIRE(
      sims.system("carrier").execute("create_label", "K2", label_request("RMA-2")).outcome.ok());
  // Both nodes run, hour by hour, past the parcels' day: the second has armed them too, and
  // each delivery runs once, whichever node fires it first.
  for (auto t = kStart; t <= kStart + 2 * kDay; t += every) {
    first.advance_to(t);
    second.advance_to(t);
  }
  CHECK(sims.count("carrier.db", "SELECT count(*) FROM documents WHERE status = 'delivered'") == 2);
  CHECK(sims.count("wms.db", "SELECT count(*) FROM documents WHERE type = 'receipt'") == 2);
  std::set<std::string> keys;
  for (const auto* host : {&first, &second})
    for (const auto& signal : host->signals) keys.insert(signal.idempotency_key);
  CHECK(keys.size() == 2);

  // A label issued by the first node, which then dies: the second delivers its parcel.
  REQUIRE(
      sims.system("carrier").execute("create_label", "K3", label_request("RMA-3")).outcome.ok());
  for (const char* name : {"carrier", "wms"}) sims.system(name).detach();
  auto received = second.signals.size();
  second.advance_to(kStart + 5 * kDay);
  REQUIRE(second.signals.size() == received + 1);
  CHECK(second.signals.back().business_key == "RMA-3");
  CHECK(sims.count("wms.db", "SELECT count(*) FROM documents WHERE type = 'receipt'") == 3);
  CHECK(sims.count("carrier.db", "SELECT count(*) FROM jobs WHERE outcome IS NULL") == 0);
  CHECK(sims.count("wms.db", "SELECT count(*) FROM jobs WHERE outcome IS NULL") == 0);
}

TEST_CASE("Sim.Adapter.LatencyFollowsTheEnginesClock") {
  Sims sims("{ create_label: { latency: 2h } }");
  FakeHost host(kStart);
  sims.system("carrier").attach(host);
  Invocation call;
  call.operation = "create_label";
  call.idempotency_key = "K1";
  call.input = label_request("RMA-1");
  call.deadline = kStart + Duration(30'000);
  std::optional<Outcome> answer;
  sims.registry->find("carrier")->invoke(call, host, [&](Outcome o) { answer = std::move(o); });
  CHECK_FALSE(answer.has_value());
  host.advance_to(kStart + Duration(7'200'000));
  REQUIRE(answer.has_value());
  CHECK(answer->ok());
}

TEST_CASE("Sim.Payments.Issue14.MoneyNeverMovesBeyondWhatItDrawsOn") {
  Sims sims("{}", "  payments: { type: sim, system: payments, state: payments.db, hold_valid: 10d, "
                  "declined: [C-BAD] }\n");
  auto& pay = sims.system("payments");
  FakeHost host(kStart);
  pay.attach(host);
  auto ok = [](const sim::SimSystem::Response& r) {
    REQUIRE_MESSAGE(r.outcome.ok(), r.outcome.error.code, ": ", r.outcome.error.message);
    return *r.outcome.result;
  };
  json hold_request = {{"rma_id", "RMA-1"}, {"customer_id", "C-1"}, {"amount", 100.004}};
  auto hold = ok(pay.execute("place_hold", "H1", hold_request));
  CHECK(hold["amount"] == 100.0);  // booked in cents
  CHECK(pay.execute("place_hold", "H2", json{{"rma_id", "RMA-2"}, {"customer_id", "C-BAD"},
                                              {"amount", 5}})
            .outcome.error.code == "CardDeclined");
  CHECK(pay.execute("place_hold", "H3", json{{"rma_id", "RMA-3"}, {"customer_id", "C-1"},
                                              {"amount", -5}})
            .outcome.error.code == "BadRequest");

  auto hold_id = hold["hold_id"].get<std::string>();
  CHECK(pay.execute("capture_hold", "C1", json{{"hold_id", hold_id}, {"amount", 100.5}})
            .outcome.error.code == "ExceedsHold");
  auto capture = ok(pay.execute("capture_hold", "C2", json{{"hold_id", hold_id}}));
  CHECK(capture["amount"] == 100.0);
  CHECK(pay.execute("capture_hold", "C3", json{{"hold_id", hold_id}}).outcome.error.code ==
        "AlreadyCaptured");
  CHECK(pay.execute("release_hold", "R1", json{{"hold_id", hold_id}}).outcome.error.code ==
        "AlreadyCaptured");

  // A hold not captured within hold_valid lapses.
  auto late = ok(pay.execute("place_hold", "H4", json{{"rma_id", "RMA-4"}, {"customer_id", "C-1"},
                                                       {"amount", 20}}));
  host.advance_to(kStart + 11 * kDay);
  CHECK(pay.execute("capture_hold", "C4", json{{"hold_id", late["hold_id"]}}).outcome.error.code ==
        "HoldExpired");

  // Reversals take back at most what is left of their refund.
  auto refund = ok(pay.execute("refund", "F1", json{{"rma_id", "RMA-1"}, {"customer_id", "C-1"},
                                                     {"amount", 60}}));
  auto refund_id = refund["refund_id"].get<std::string>();
  auto first = ok(pay.execute("reverse_refund", "V1", json{{"refund_id", refund_id}, {"amount", 45}}));
  CHECK(pay.execute("reverse_refund", "V2", json{{"refund_id", refund_id}, {"amount", 15.01}})
            .outcome.error.code == "ExceedsRefund");
  // The same key again is the first reversal, not a second one.
  CHECK(ok(pay.execute("reverse_refund", "V1", json{{"refund_id", refund_id}, {"amount", 45}})) == first);
  auto rest = ok(pay.execute("reverse_refund", "V3", json{{"refund_id", refund_id}}));
  CHECK(rest["amount"] == 15.0);
  CHECK(sims.count("payments.db", "SELECT count(*) FROM documents WHERE type = 'reversal'") == 2);
}

TEST_CASE("Sim.Wms.Issue13.LinesAreGradedAndDisposedOfOnTheirOwn") {
  Sims sims;
  sims.yaml = R"(
adapters:
  wms:
    type: sim
    system: wms
    state: lines.db
    seed: 7
    grades: { RMA-5/L2: { grade: B, condition: not_as_described, serial: SN-X } }
    grade_mix: { A: 1, B: 1, C: 1, D: 1 }
)";
  sims.open();
  auto& wms = sims.system("wms");
  FakeHost host(kStart);
  wms.attach(host);
  json line = {{"rma_id", "RMA-5"}, {"line_id", "L1"}, {"sku", "DOCK-4"}, {"qty", 1}};
  CHECK(wms.execute("inspect_line", "I0", line).outcome.error.code == "NotReceived");
  CHECK(wms.execute("restock_line", "S0", line).outcome.error.code == "NotInspected");
  REQUIRE(wms.execute("receive", "R1", json{{"rma_id", "RMA-5"}, {"tracking_number", "1Z5"}})
              .outcome.ok());

  // The configured line is found as configured; the other is drawn from the seed, the same
  // grade whatever key or call asks.
  auto l2 = *wms.execute("inspect_line", "I2", json{{"rma_id", "RMA-5"}, {"line_id", "L2"}}).outcome.result;
  CHECK(l2["grade"] == "B");
  CHECK(l2["condition"] == "not_as_described");
  CHECK(l2["serial"] == "SN-X");
  auto l1 = *wms.execute("inspect_line", "I1", line).outcome.result;
  auto again = *wms.execute("inspect_line", "I1b", line).outcome.result;
  CHECK(l1["grade"] == again["grade"]);
  CHECK(std::set<std::string>{"A", "B", "C", "D"}.contains(l1["grade"].get<std::string>()));

  // One disposition per line in force; another line is free; an undo frees the line.
  auto restock = wms.execute("restock_line", "S1", line);
  REQUIRE(restock.outcome.ok());
  CHECK((*restock.outcome.result)["line_id"] == "L1");
  CHECK(wms.execute("scrap_line", "S2", line).outcome.error.code == "AlreadyDisposed");
  CHECK(wms.execute("scrap_line", "S3", json{{"rma_id", "RMA-5"}, {"line_id", "L2"}}).outcome.ok());
  REQUIRE(wms.execute("reverse_restock", "U1",
                      json{{"restock_id", (*restock.outcome.result)["restock_id"]}})
              .outcome.ok());
  CHECK(wms.execute("scrap_line", "S4", line).outcome.ok());
}
