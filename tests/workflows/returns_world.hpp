// A test world for the shipped workflows: the real engine on a real database with a manual
// clock, the three shipped workflows deployed from workflows/, and the simulated ERP, carrier
// and warehouse (type sim) configured from an adapters file written for the test, each with
// its own SQLite file. Tests run an RMA through virtual weeks and then read what the engine
// recorded and what each simulated system recorded.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "rmaflow/engine.hpp"
#include "tests/support/process.hpp"

namespace rmaflow::testing {

inline constexpr Duration kDay(86'400'000);

// What happens in the world, per RMA, and how the systems misbehave.
struct Scenario {
  std::map<std::string, std::string> parcels;  // RMA -> transit ("5d"), "never" or "lost"; default 3d
  std::map<std::string, std::string> grades;   // RMA or RMA/line -> A..D (or {grade, ...}); default A
  std::string erp_operations = "{}";           // YAML flow mapping of call profiles
  std::string erp_reviews = "{}";              // how the risk desk decides, per RMA or RMA/subject
  std::string carrier_operations = "{}";
  std::string wms_operations = "{}";
  std::string payments_operations = "{}";
};

// The vendor approves every vendor RMA but RMA-VR's (refused) a day after it is opened, and
// credits 80% of a unit's cost 21 days after it arrives (4 days' transit).
// Customers of the ERP data the world is seeded with:
//   C-100 in good standing, entitled to advance replacements
//   C-200 on credit hold (credit memos are refused)
//   C-300 entitled to advance replacements, which credit review reverses
//   C-400 not entitled to advance replacements
//   C-500 whose card the payment provider declines holds on
// Invoices (dated before the world's start, 2025-06-02T08:00Z; return window 30 days):
//   INV-1 (C-100, 2025-05-20): 3 DOCK-4 at 159.00, 2 KB-101 at 49.90, 1 CBL-2 at 12.50
//   INV-OLD (C-100, 2025-03-01): 1 DOCK-4 at 159.00 - its window is closed
//   INV-2 (C-200, 2025-05-25), INV-3 (C-300, 2025-05-28), INV-4 (C-400, 2025-05-28):
//     1 LAP-14 at 1299.00 each
//   INV-5 (C-500, 2025-05-28): 1 HP-300 at 129.00
class ReturnsWorld {
 public:
  explicit ReturnsWorld(Scenario scenario = {});
  ~ReturnsWorld();

  // A valid RMA for `customer` on `invoice`, returning `lines` (default: 1 DOCK-4 on INV-1,
  // reason defective, refund); `patch` is merged over it (JSON merge patch).
  nlohmann::json rma(const std::string& rma_id, nlohmann::json patch = nlohmann::json::object()) const;

  // Starts `workflow` for `input` and runs in virtual time until nothing is due within `horizon`.
  std::string start(const std::string& workflow, const nlohmann::json& input);
  void run(Duration horizon = Duration(120LL * 86'400'000));

  InstanceRow row(const std::string& id);
  // The steps the instance's main line entered, in order (`branch` empty), or those one
  // branch entered ("lines[L2]").
  std::vector<std::string> steps(const std::string& id, const std::string& branch = "");
  // How each line ended: the fan-out step's collected result {key: {status, output}}.
  std::map<std::string, nlohmann::json> lines(const std::string& id, const std::string& result = "lines");
  std::vector<EventRow> history(const std::string& id);
  nlohmann::json context(const std::string& id);

  // The documents a simulated system recorded for an RMA: {status, body} by type, oldest first.
  std::vector<nlohmann::json> docs(const std::string& system, const std::string& type,
                                   const std::string& rma_id);
  // Effects the system applied for an operation of an RMA (one per idempotency key), and
  // every call it received for them.
  int effects(const std::string& system, const std::string& operation, const std::string& rma_id);
  int calls(const std::string& system, const std::string& operation, const std::string& rma_id);
  // The signal jobs a system ran, with their outcome.
  std::vector<std::string> job_outcomes(const std::string& system, const std::string& kind);

  // Runs `sql` on a system's database (a finance clerk releasing a credit hold).
  void exec(const std::string& system, const std::string& sql);

  // An operator retries the instance (or one of its branches, by path) and the world runs on.
  void retry(const std::string& id, const std::string& reason, const std::string& branch = "");

  // Closes and reopens the engine on the same files, as after a restart.
  void reopen();

  TempDir dir;
  std::shared_ptr<ManualClock> clock;
  std::shared_ptr<AdapterRegistry> adapters;
  std::unique_ptr<Engine> engine;
  TimePoint started_at;

 private:
  void open();
  std::string db_;
  std::string adapters_file_;
};

}  // namespace rmaflow::testing
