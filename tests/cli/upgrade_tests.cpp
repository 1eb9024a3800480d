// A database written by an older rmaflow (schema 3: one position per instance) is opened by
// this binary, migrated, and its unfinished RMAs end exactly as the older binary ended them.
#include <doctest/doctest.h>

#include <fstream>
#include <map>
#include <sstream>

#include <SQLiteCpp/SQLiteCpp.h>
#include <nlohmann/json.hpp>

#include "tests/support/process.hpp"

using namespace rmaflow::testing;
using json = nlohmann::json;

namespace {

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE_MESSAGE(in, "cannot read ", path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void restore(const std::string& dump, const std::string& db_path) {
  SQLite::Database db(db_path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
  db.exec(read(dump));
}

}  // namespace

TEST_CASE("Upgrade.Issue13.Schema3DatabaseOpensAndItsReturnsFinish") {
  const std::string fixture = source_dir() + "/tests/runtime/fixtures/schema3-day";
  TempDir dir;
  // The older deployment's systems, and those the newer shipped workflows call too (a payment
  // provider, a vendor, a marketplace): this binary deploys every workflow in workflows/ and
  // refuses one whose actions its adapters cannot run.
  dir.write("adapters.yaml", read(fixture + "/adapters.yaml") + R"(
  payments: { type: sim, system: payments, state: state/payments.db }
  vendor: { type: sim, system: vendor, state: state/vendor.db }
  marketplace: { type: sim, system: marketplace, state: state/marketplace.db }
)");
  dir.write("erp-data.yaml", read(fixture + "/erp-data.yaml"));
  dir.write("state/.keep", "");
  restore(fixture + "/returns.sql", dir.file("returns.db"));
  for (const char* system : {"erp", "carrier", "wms"}) {
    restore(fixture + "/state/" + system + ".sql", dir.file(std::string("state/") + system + ".db"));
  }

  auto result = run_process({rmaflow_binary(), "run", "--db", dir.file("returns.db"),
                             "--workflows", source_dir() + "/workflows", "--adapters",
                             dir.file("adapters.yaml"), "--clock", "virtual", "--start",
                             "2025-06-02T12:00:02Z", "--until", "60d"});
  INFO("stdout:\n", result.out, "\nstderr:\n", result.err);
  REQUIRE(result.exit_code == 0);

  auto expected = json::parse(read(fixture + "/expected.json"));
  std::map<std::string, std::string> ended;
  SQLite::Database db(dir.file("returns.db"), SQLite::OPEN_READONLY);
  CHECK(db.execAndGet("SELECT max(version) FROM schema_version").getInt() >= 4);
  SQLite::Statement rows(db, "SELECT business_key, status FROM instances");
  static const std::map<int, std::string> kStatus = {
      {3, "suspended"}, {10, "completed"}, {11, "rejected"}, {12, "expired"},
      {13, "cancelled"}, {14, "failed"},  {15, "compensated"}};
  while (rows.executeStep()) {
    auto it = kStatus.find(rows.getColumn(1).getInt());
    ended[rows.getColumn(0).getString()] = it == kStatus.end() ? "unfinished" : it->second;
  }
  CHECK(ended.size() == expected.size());
  for (const auto& [key, status] : expected.items()) {
    CHECK_MESSAGE(ended[key] == status.get<std::string>(), key, " ended ", ended[key],
                  ", the older rmaflow ended it ", status.get<std::string>());
  }
}
