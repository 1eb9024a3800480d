#include "tests/workflows/returns_world.hpp"

#include <doctest/doctest.h>

#include <filesystem>

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>

#include "rmaflow/definition.hpp"

namespace rmaflow::testing {

namespace {

const char* kErpData = R"(
customers:
  C-100: { name: Harbor Tools, advance_replacement: true }
  C-200: { name: Ridge Electric, credit_hold: true }
  C-300: { name: Quay Supply, advance_replacement: true, credit_review: reverse }
  C-400: { name: Mill Street Office }
  C-500: { name: Pine Outfitters }
invoices:
  INV-1:
    customer_id: C-100
    date: 2025-05-20
    currency: USD
    lines:
      - { sku: DOCK-4, qty: 3, unit_price: 159.00 }
      - { sku: KB-101, qty: 2, unit_price: 49.90 }
      - { sku: CBL-2, qty: 1, unit_price: 12.50 }
  INV-OLD:
    customer_id: C-100
    date: 2025-03-01
    currency: USD
    lines: [ { sku: DOCK-4, qty: 1, unit_price: 159.00 } ]
  INV-2: { customer_id: C-200, date: 2025-05-25, currency: USD, lines: [ { sku: LAP-14, qty: 1, unit_price: 1299.00 } ] }
  INV-3: { customer_id: C-300, date: 2025-05-28, currency: USD, lines: [ { sku: LAP-14, qty: 1, unit_price: 1299.00 } ] }
  INV-4: { customer_id: C-400, date: 2025-05-28, currency: USD, lines: [ { sku: LAP-14, qty: 1, unit_price: 1299.00 } ] }
  INV-5: { customer_id: C-500, date: 2025-05-28, currency: USD, lines: [ { sku: HP-300, qty: 1, unit_price: 129.00 } ] }
)";

std::string flow_map(const std::map<std::string, std::string>& entries, const std::string& fallback) {
  std::string out = "{ default: " + fallback;
  for (const auto& [k, v] : entries) out += fmt::format(", {}: {}", k, v);
  return out + " }";
}

}  // namespace

ReturnsWorld::ReturnsWorld(Scenario scenario)
    : clock(std::make_shared<ManualClock>(*parse_time("2025-06-02T08:00:00Z"))),
      started_at(clock->now()),
      db_(dir.file("returns.db")) {
  dir.write("erp-data.yaml", kErpData);
  adapters_file_ = dir.write("adapters.yaml", fmt::format(R"(
adapters:
  erp:
    type: sim
    system: erp
    state: sim/erp.db
    data: erp-data.yaml
    return_window: 30d
    review_after: 6h
    latency: 50ms..300ms
    seed: 11
    operations: {}
    reviews: {}
  carrier:
    type: sim
    system: carrier
    state: sim/carrier.db
    latency: 100ms..400ms
    seed: 12
    parcels: {}
    operations: {}
  wms:
    type: sim
    system: wms
    state: sim/wms.db
    latency: 20ms..80ms
    grades: {}
    operations: {}
  payments:
    type: sim
    system: payments
    state: sim/payments.db
    latency: 80ms..250ms
    seed: 14
    declined: [C-500]
    operations: {}
  vendor:
    type: sim
    system: vendor
    state: sim/vendor.db
    latency: 100ms..600ms
    seed: 15
    refuse: [RMA-VR]
)",
                                                          scenario.erp_operations,
                                                          scenario.erp_reviews,
                                                          flow_map(scenario.parcels, "3d"),
                                                          scenario.carrier_operations,
                                                          flow_map(scenario.grades, "A"),
                                                          scenario.wms_operations,
                                                          scenario.payments_operations));
  std::filesystem::create_directories(dir.file("sim"));
  open();
  // Loaded once per test process: a definition is immutable, and loading compiles every jq
  // expression of the file (about half a second a workflow with libjq 1.6).
  static std::map<std::string, std::shared_ptr<const Definition>> loaded_once;
  for (const auto* name :
       {"standard-return", "advance-replacement", "returnless-refund", "instant-refund",
        "vendor-return", "return-review"}) {
    auto& definition = loaded_once[name];
    if (!definition) {
      auto loaded = load_definition_file(source_dir() + "/workflows/" + name + ".yaml");
      for (const auto& d : loaded.diagnostics) MESSAGE(format_diagnostic(d));
      REQUIRE(loaded.ok());
      definition = loaded.definition;
    }
    engine->deploy(definition);
  }
}

ReturnsWorld::~ReturnsWorld() { engine.reset(); }

void ReturnsWorld::open() {
  engine.reset();
  adapters = std::make_shared<AdapterRegistry>(AdapterRegistry::from_file(adapters_file_));
  EngineOptions options;
  options.db_path = db_;
  options.clock = clock;
  options.adapters = adapters;
  options.seed = 5;
  engine = Engine::open(std::move(options));
}

void ReturnsWorld::reopen() { open(); }

void ReturnsWorld::retry(const std::string& id, const std::string& reason,
                         const std::string& branch) {
  OperatorAction retry;
  retry.instance_id = id;
  retry.branch = branch;
  retry.kind = ActionKind::retry;
  retry.actor = "ops";
  retry.reason = reason;
  auto acted = engine->act(retry);
  run();
  acted.get();
}

nlohmann::json ReturnsWorld::rma(const std::string& rma_id, nlohmann::json patch) const {
  nlohmann::json input = {
      {"rma_id", rma_id},
      {"channel", "web"},
      {"customer_id", "C-100"},
      {"invoice_id", "INV-1"},
      {"resolution", "refund"},
      {"ship_from", {{"name", "Harbor Tools"}, {"postal_code", "97201"}, {"country", "US"}}},
      {"lines",
       {{{"sku", "DOCK-4"}, {"qty", 1}, {"unit_price", 159.0}, {"currency", "USD"},
         {"reason_code", "defective"}}}}};
  input.merge_patch(patch);
  return input;
}

std::string ReturnsWorld::start(const std::string& workflow, const nlohmann::json& input) {
  StartRequest request;
  request.workflow = workflow;
  request.input = input;
  auto future = engine->start(std::move(request));
  engine->run_until_idle();
  auto id = future.get().instance_id;
  run();
  return id;
}

void ReturnsWorld::run(Duration horizon) { engine->run_virtual(clock->now() + horizon); }

InstanceRow ReturnsWorld::row(const std::string& id) {
  auto row = engine->store().get_instance(id);
  REQUIRE(row.has_value());
  return *row;
}

std::vector<EventRow> ReturnsWorld::history(const std::string& id) {
  return engine->store().history(id);
}

std::vector<std::string> ReturnsWorld::steps(const std::string& id, const std::string& branch) {
  std::vector<std::string> out;
  for (const auto& e : history(id))
    if (e.type == EventType::step_entered && e.branch == branch) out.push_back(e.step);
  return out;
}

std::map<std::string, nlohmann::json> ReturnsWorld::lines(const std::string& id,
                                                          const std::string& result) {
  std::map<std::string, nlohmann::json> out;
  for (const auto& line : context(id).value(result, nlohmann::json::array()))
    out[line.value("key", "")] = {{"status", line["status"]}, {"output", line["output"]}};
  return out;
}

nlohmann::json ReturnsWorld::context(const std::string& id) {
  return row(id).context;
}

std::vector<nlohmann::json> ReturnsWorld::docs(const std::string& system, const std::string& type,
                                               const std::string& rma_id) {
  SQLite::Database db(dir.file("sim/" + system + ".db"), SQLite::OPEN_READONLY);
  SQLite::Statement q(db, "SELECT id, status, body FROM documents WHERE type = ? AND rma_id = ? "
                          "ORDER BY created_at, id");
  q.bind(1, type);
  q.bind(2, rma_id);
  std::vector<nlohmann::json> out;
  while (q.executeStep()) {
    out.push_back({{"id", q.getColumn(0).getString()},
                   {"status", q.getColumn(1).getString()},
                   {"body", nlohmann::json::parse(q.getColumn(2).getString())}});
  }
  return out;
}

namespace {

int count_effects(const std::string& file, const std::string& operation, const std::string& rma_id,
                  const char* column) {
  SQLite::Database db(file, SQLite::OPEN_READONLY);
  // Compensations and closing steps name the RMA through their own ids; match on either.
  SQLite::Statement q(db, fmt::format("SELECT coalesce(sum({}), 0) FROM effects WHERE operation = ? "
                                      "AND (json_extract(input, '$.rma_id') = ? OR ? = '')",
                                      column));
  q.bind(1, operation);
  q.bind(2, rma_id);
  q.bind(3, rma_id);
  q.executeStep();
  return q.getColumn(0).getInt();
}

}  // namespace

int ReturnsWorld::effects(const std::string& system, const std::string& operation,
                          const std::string& rma_id) {
  return count_effects(dir.file("sim/" + system + ".db"), operation, rma_id, "effects");
}

int ReturnsWorld::calls(const std::string& system, const std::string& operation,
                        const std::string& rma_id) {
  return count_effects(dir.file("sim/" + system + ".db"), operation, rma_id, "calls");
}

std::vector<std::string> ReturnsWorld::job_outcomes(const std::string& system,
                                                    const std::string& kind) {
  SQLite::Database db(dir.file("sim/" + system + ".db"), SQLite::OPEN_READONLY);
  SQLite::Statement q(db, "SELECT coalesce(outcome, 'pending') FROM jobs WHERE kind = ? ORDER BY id");
  q.bind(1, kind);
  std::vector<std::string> out;
  while (q.executeStep()) out.push_back(q.getColumn(0).getString());
  return out;
}

void ReturnsWorld::exec(const std::string& system, const std::string& sql) {
  SQLite::Database db(dir.file("sim/" + system + ".db"), SQLite::OPEN_READWRITE);
  db.exec(sql);
}

}  // namespace rmaflow::testing
