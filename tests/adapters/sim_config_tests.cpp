// Adapters files with mistakes: each is refused with one sentence naming the file, the line
// and column, and what is wrong there.
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <unistd.h>

#include "rmaflow/adapter.hpp"
#include "tests/support/hostile_yaml.hpp"
#include "tests/support/process.hpp"

using namespace rmaflow;
using namespace rmaflow::testing;

namespace {

// The message of the Error(adapter_config) loading `yaml` throws.
std::string refusal(const std::string& yaml, TempDir& dir) {
  try {
    AdapterRegistry::from_yaml(yaml, "adapters.yaml", dir.path());
  } catch (const Error& e) {
    CHECK(e.code() == Errc::adapter_config);
    return e.what();
  }
  FAIL("the adapters file was accepted: ", yaml);
  return "";
}

}  // namespace

TEST_CASE("Sim.Config.MistakesAreNamedWithTheirPlace") {
  TempDir dir;
  struct Case {
    const char* yaml;
    const char* expected;
  };
  const Case cases[] = {
      {"adapters:\n  erp: { type: sim, state: e.db }\n",
       "adapters.yaml:2:8: adapter \"erp\" of type sim needs a \"system\": carrier, erp, marketplace, payments, vendor, wms"},
      {"adapters:\n  erp: { type: sim, system: crm, state: e.db }\n",
       "adapters.yaml:2:29: adapter \"erp\" has unknown system \"crm\" (known: carrier, erp, marketplace, payments, vendor, wms)"},
      {"adapters:\n  erp: { type: sim, system: erp }\n",
       "adapters.yaml:2:8: adapter \"erp\" needs a \"state\""},
      {"adapters:\n  wms: { type: sim, system: wms, state: w.db, parcels: {} }\n",
       "adapters.yaml:2:47: unknown key \"parcels\" in adapter \"wms\""},
      {"adapters:\n  wms: { type: sim, system: wms, state: w.db, latency: 300ms..50ms }\n",
       "adapters.yaml:2:56: latency \"300ms..50ms\" must be a duration (150ms) or a range of two"},
      {"adapters:\n  wms:\n    type: sim\n    system: wms\n    state: w.db\n    operations:\n"
       "      restok: { fail_first: 1 }\n",
       "adapters.yaml:7:7: adapter \"wms\" has no operation \"restok\""},
      {"adapters:\n  wms:\n    type: sim\n    system: wms\n    state: w.db\n    operations:\n"
       "      restock: { fail_rate: 1.5 }\n",
       "adapters.yaml:7:29: fail_rate must be a number from 0 to 1"},
      {"adapters:\n  wms: { type: sim, system: wms, state: w.db, grades: { RMA-1: E } }\n",
       "adapters.yaml:2:64: grade \"E\" is not A, B, C or D"},
      {"adapters:\n  carrier: { type: sim, system: carrier, state: c.db, deliver_to: erp }\n"
       "  erp: { type: sim, system: erp, state: e.db }\n",
       "adapters.yaml:2:67: deliver_to names \"erp\", which is not a sim adapter with system: wms"},
      {"adapters:\n  x: { type: soap }\n", "adapters.yaml:2:14: adapter \"x\" has unknown type \"soap\""},
  };
  for (const auto& c : cases) {
    std::string yaml = c.yaml;
    CAPTURE(yaml);
    auto message = refusal(c.yaml, dir);
    CHECK_MESSAGE(message.rfind(c.expected, 0) == 0, message);
  }
}

TEST_CASE("Sim.Config.ErpDataMistakesNameTheDataFile") {
  TempDir dir;
  dir.write("erp-data.yaml", "invoices:\n  INV-1: { customer_id: C-1, date: last week, currency: USD, lines: [] }\n");
  auto message = refusal("adapters:\n  erp: { type: sim, system: erp, state: e.db, data: erp-data.yaml }\n", dir);
  CHECK_MESSAGE(message.find(dir.path() + "/erp-data.yaml:2:36: invoice INV-1: date must be a date "
                             "such as 2025-05-20") == 0,
                message);
  auto missing = refusal("adapters:\n  erp: { type: sim, system: erp, state: e.db, data: nope.yaml }\n", dir);
  CHECK_MESSAGE(missing.find("adapters.yaml:2:53: cannot read the ERP data file") == 0, missing);
}

// An adapters file and a simulated ERP's data file are bounded as a workflow file is: aliases
// that would expand to millions of nodes are refused before anything walks them (it took 3 GB
// and many seconds before).
TEST_CASE("Sim.Config.AliasesThatExpandPastTheBoundAreRefused") {
  TempDir dir;
  auto adapters = refusal(
      yaml_alias_bomb() + "adapters:\n  x: { type: builtin, operations: { op: { result: *h } } }\n",
      dir);
  CHECK(adapters.rfind("adapters.yaml:", 0) == 0);
  CHECK(adapters.find("holds more than 1000000 nodes once its aliases are expanded, the most an "
                      "adapters file may hold") != std::string::npos);
  dir.write("erp-data.yaml", yaml_alias_bomb() + "customers: *h\n");
  auto data = refusal(
      "adapters:\n  erp: { type: sim, system: erp, state: e.db, data: erp-data.yaml }\n", dir);
  CHECK(data.rfind(dir.path() + "/erp-data.yaml:", 0) == 0);
  CHECK(data.find("the most a data file may hold") != std::string::npos);
}

// A syntax error in an adapters file or a data file beside it is named with its file and place.
TEST_CASE("Sim.Config.YamlThatDoesNotParseIsPlaced") {
  TempDir dir;
  auto adapters = refusal("adapters:\n  x: { type: builtin\n", dir);
  CHECK(adapters.rfind("adapters.yaml:3:1: not valid YAML: ", 0) == 0);
  dir.write("erp-data.yaml", "customers: [C1\n");
  auto data = refusal(
      "adapters:\n  erp: { type: sim, system: erp, state: e.db, data: erp-data.yaml }\n", dir);
  CHECK(data.rfind(dir.path() + "/erp-data.yaml:2:1: not valid YAML: ", 0) == 0);
}

// An adapters file and a data file past their bound are refused by their size, unread: a file
// of gigabytes was read whole into memory before the bound refused it.
TEST_CASE("Sim.Config.FilesPastTheirBoundAreRefusedUnread") {
  TempDir dir;
  auto big = dir.write("big.yaml", "");
  REQUIRE(::truncate(big.c_str(), off_t{8} << 30) == 0);  // sparse
  try {
    AdapterRegistry::from_file(big);
    FAIL("an 8 GiB adapters file was taken");
  } catch (const Error& e) {
    CHECK(e.code() == Errc::adapter_config);
    CHECK(std::string(e.what()) == big +
                                       ":1:1: the file holds 8589934592 bytes, more than the "
                                       "16777216 an adapters file may hold");
  }
  auto data =
      refusal("adapters:\n  erp: { type: sim, system: erp, state: e.db, data: big.yaml }\n", dir);
  CHECK(data == big +
                    ":1:1: the file holds 8589934592 bytes, more than the 16777216 a data "
                    "file may hold");
  try {
    AdapterRegistry::from_file(dir.path());
    FAIL("a directory was taken as an adapters file");
  } catch (const Error& e) {
    CHECK(e.code() == Errc::io);
    CHECK(std::string(e.what()) ==
          "cannot read the adapters file " + dir.path() + ": it is a directory");
  }
}

// Issue 16: limits per adapter and per operation, for any type of adapter.
TEST_CASE("Adapters.Config.Issue16.LimitsAreReadAndTheirMistakesNamed") {
  TempDir dir;
  auto registry = AdapterRegistry::from_yaml(
      "adapters:\n"
      "  erp:\n"
      "    type: builtin\n"
      "    limits: { in_flight: 8, per_second: 20, operations: { post: { in_flight: 2 } } }\n"
      "  wms: { type: builtin }\n",
      "adapters.yaml", dir.path());
  REQUIRE(registry.limits().count("erp") == 1);
  CHECK(registry.limits().count("wms") == 0);
  const auto& erp = registry.limits().at("erp");
  CHECK(erp.adapter.in_flight == 8);
  CHECK(erp.adapter.per_second == 20);
  CHECK(erp.operations.at("post").in_flight == 2);
  CHECK(erp.operations.at("post").per_second == 0);

  auto with = [](const std::string& limits) {
    return "adapters:\n  erp:\n    type: builtin\n    limits: " + limits + "\n";
  };
  CHECK(refusal(with("{ in_flight: 0 }"), dir).find("in_flight") != std::string::npos);
  CHECK(refusal(with("{ per_second: -1 }"), dir).find("per_second") != std::string::npos);
  CHECK(refusal(with("{ burst: 3 }"), dir).find("unknown key \"burst\"") != std::string::npos);
  CHECK(refusal(with("{}"), dir).find("sets no limit") != std::string::npos);
  CHECK(refusal(with("{ operations: { post: {} } }"), dir).find("operation post sets neither") !=
        std::string::npos);
  CHECK(refusal(with("8"), dir).find("limits") != std::string::npos);
  // A limit on an operation the adapter does not have would limit nothing: named.
  auto misspelt = refusal(
      "adapters:\n  wms:\n    type: sim\n    system: wms\n    state: w.db\n"
      "    limits: { operations: { inspectt: { in_flight: 1 } } }\n",
      dir);
  CHECK(misspelt.find("has no operation \"inspectt\"") != std::string::npos);
}
