// `rmaflow run`, `list`, `show` and `history`, run as a user runs them: exit codes, the summary,
// text and JSON views, and every bad input answered with one sentence naming the culprit while
// the database keeps what it held.
#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <sys/resource.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "rmaflow/definition.hpp"
#include "rmaflow/store.hpp"
#include "tests/cli/cli_checks.hpp"
#include "tests/support/pg_cluster.hpp"
#include "tests/support/process.hpp"
#include "tests/support/server_process.hpp"

using namespace rmaflow::testing;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

// One workflow, three fates chosen by the input: completed (builtin.noop), rejected (a
// NotEligible failure caught), suspended (a failure nothing catches).
const char* kReturns = R"(workflow: returns
version: 1
business_key: ${ .input.rma_id }
start: route
steps:
  route:
    switch:
      - if: .input.kind == "reject"
        next: check
      - if: .input.kind == "broken"
        next: break_it
    default: accept
  accept:
    action: builtin.noop
    with: { rma: "${ .input.rma_id }" }
    result: accepted
    next: done
  check:
    action: builtin.fail
    with: { code: NotEligible, times: 1 }
    catch:
      - errors: [NotEligible]
        next: rejected
    next: done
  break_it:
    action: builtin.fail
    with: { code: Broken, message: the part is broken }
    next: done
  done: { end: completed }
  rejected: { end: rejected }
)";

const char* kExchanges = R"(workflow: exchanges
version: 1
business_key: ${ .input.rma_id }
start: ship
steps:
  ship:
    action: builtin.noop
    next: done
  done: { end: completed }
)";

const char* kInputs = R"([
  {"rma_id": "RMA-1", "kind": "ok"},
  {"rma_id": "RMA-2", "kind": "reject"},
  {"rma_id": "RMA-3", "kind": "broken"}
])";

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Everything a database holds, as text, to compare before and after a refused command.
std::string db_contents(const std::string& path) {
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  std::string out;
  for (const char* table : {"definitions", "instances", "events", "timers"}) {
    SQLite::Statement s(db, fmt::format("SELECT * FROM {} ORDER BY 1, 2", table));
    out += fmt::format("[{}]\n", table);
    while (s.executeStep()) {
      for (int i = 0; i < s.getColumnCount(); ++i) out += s.getColumn(i).getString() + "|";
      out += "\n";
    }
  }
  return out;
}

// A scratch directory with the returns workflow, an inputs file and a database path.
struct Scratch {
  TempDir dir;
  std::string db = dir.file("rma.db");
  std::string workflows = dir.path() + "/workflows";
  std::string inputs;

  Scratch() {
    dir.write("workflows/returns.yaml", kReturns);
    inputs = dir.write("inputs.json", kInputs);
  }

  static ProcessResult rmaflow(std::vector<std::string> args) {
    args.insert(args.begin(), rmaflow_binary());
    return run_process(args);
  }

  ProcessResult run(std::vector<std::string> extra) const {
    std::vector<std::string> args = {"run", "--db", db, "--workflows", workflows};
    args.insert(args.end(), extra.begin(), extra.end());
    return rmaflow(args);
  }

  // Runs the three inputs; returns the instance id of each business key.
  std::map<std::string, std::string> seed() const {
    auto r = run({"--format", "json", inputs});
    INFO("stderr:\n", r.err);
    REQUIRE(r.exit_code == 0);
    std::map<std::string, std::string> ids;
    for (const auto& row : json::parse(r.out)) ids[row["business_key"]] = row["id"];
    REQUIRE(ids.size() == 3);
    return ids;
  }

  json list_json(std::vector<std::string> extra = {}) const {
    std::vector<std::string> args = {"list", "--db", db, "--format", "json"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = rmaflow(args);
    INFO("stderr:\n", r.err);
    REQUIRE(r.exit_code == 0);
    return json::parse(r.out)["items"];
  }
};

}  // namespace

// ---- run: the happy path ------------------------------------------------------------------

TEST_CASE("Cli.Run.SummaryListsEveryInstance") {
  Scratch s;
  auto r = s.run({s.inputs});
  INFO("stdout:\n", r.out, "\nstderr:\n", r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.err.empty());
  auto lines = lines_of(r.out);
  REQUIRE(lines.size() == 6);  // header, three rows, blank, totals
  CHECK(lines[0].rfind("ID", 0) == 0);
  CHECK(contains(lines[0], "STATUS"));
  std::map<std::string, std::string> row_of;
  for (int i = 1; i <= 3; ++i) row_of[lines[i].substr(lines[i].find("RMA-"), 5)] = lines[i];
  CHECK(contains(row_of["RMA-1"], "returns@1"));
  CHECK(contains(row_of["RMA-1"], " completed "));
  CHECK(contains(row_of["RMA-2"], " rejected "));
  CHECK(contains(row_of["RMA-3"], " suspended "));
  CHECK(contains(row_of["RMA-3"], "Broken: the part is broken"));
  for (const auto& line : lines)
    CHECK_MESSAGE(line == line.substr(0, line.find_last_not_of(' ') + 1), "trailing spaces in \"",
                  line, "\"");
  CHECK(lines[4].empty());
  CHECK(lines[5] == "3 instance(s): 3 started, 0 resumed; 1 completed, 1 rejected, 1 suspended");
}

TEST_CASE("Cli.Run.JsonSummary") {
  Scratch s;
  auto r = s.run({"--format", "json", s.inputs});
  INFO("stdout:\n", r.out, "\nstderr:\n", r.err);
  CHECK(r.exit_code == 0);
  auto rows = json::parse(r.out);
  REQUIRE(rows.is_array());
  REQUIRE(rows.size() == 3);
  std::map<std::string, json> by_key;
  for (const auto& row : rows) by_key[row["business_key"]] = row;
  CHECK(by_key["RMA-1"]["status"] == "completed");
  CHECK(by_key["RMA-2"]["status"] == "rejected");
  CHECK(by_key["RMA-3"]["status"] == "suspended");
  CHECK(by_key["RMA-3"]["incident"]["error"]["code"] == "Broken");
  CHECK(by_key["RMA-1"]["workflow"] == "returns");
  CHECK(by_key["RMA-1"]["version"] == 1);
}

// A workflow file whose text the database holds as deployed was checked when it was deployed:
// `run` does not compile its jq programs again at start (each compiles when it first runs). A
// text the database does not hold is checked in full. Shown with a text whose jq does not
// compile, stored as if a build whose jq took it had deployed it.
TEST_CASE("Cli.Run.DeployedTextIsNotCheckedAgain") {
  std::string text = kReturns;
  const std::string good = R"(rma: "${ .input.rma_id }")";
  REQUIRE(text.find(good) != std::string::npos);
  text.replace(text.find(good), good.size(), R"(rma: "${ .input.rma_id | nosuch }")");
  auto loaded =
      rmaflow::load_definition(text, "returns.yaml", ".", rmaflow::Compilation::on_first_use);
  REQUIRE(loaded.ok());

  Scratch s;
  s.seed();
  {
    SQLite::Database db(s.db, SQLite::OPEN_READWRITE);
    SQLite::Statement q(
        db, "UPDATE definitions SET source = ?, content_hash = ? WHERE name = 'returns'");
    q.bind(1, text);
    q.bind(2, loaded.definition->content_hash);
    REQUIRE(q.exec() == 1);
  }
  s.dir.write("workflows/returns.yaml", text);
  auto more = s.dir.write("more.json", R"({"rma_id": "RMA-9", "kind": "ok"})");
  auto r = s.run({"--format", "json", more});
  INFO("stdout:\n", r.out, "\nstderr:\n", r.err);
  REQUIRE(r.exit_code == 0);
  auto rows = json::parse(r.out);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0]["status"] == "suspended");
  CHECK(contains(rows[0]["incident"]["error"]["message"].get<std::string>(),
                 "jq expression \".input.rma_id | nosuch\" does not compile"));

  Scratch fresh;
  fresh.dir.write("workflows/returns.yaml", text);
  auto refused = fresh.run({fresh.inputs});
  CHECK(refused.exit_code != 0);
  CHECK(contains(refused.err, "error[jq-compile]"));
  CHECK(contains(refused.err, "nothing was run"));
  CHECK_FALSE(fs::exists(fresh.db));
}

TEST_CASE("Cli.Run.SameInputsAndKeyStartNothingNew") {
  Scratch s;
  auto ids = s.seed();
  auto r = s.run({s.inputs});
  INFO("stdout:\n", r.out, "\nstderr:\n", r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.err.empty());
  CHECK(contains(r.out, s.inputs + "[1]: already started as instance " + ids["RMA-1"]));
  CHECK(contains(r.out, s.inputs + "[2]: already started as instance " + ids["RMA-2"]));
  CHECK(contains(r.out, s.inputs + "[3]: already started as instance " + ids["RMA-3"]));
  CHECK(
      contains(r.out, "3 instance(s): 0 started, 0 resumed; 1 completed, 1 rejected, 1 suspended"));
  CHECK(s.list_json().size() == 3);
}

TEST_CASE("Cli.Run.SameKeyOtherInputRefused") {
  Scratch s;
  auto ids = s.seed();
  auto before = db_contents(s.db);
  auto other = s.dir.write("other.json", R"({"rma_id": "RMA-1", "kind": "reject"})");
  auto r = s.run({other});
  check_failure(r, 1, {other, "RMA-1", ids["RMA-1"]});
  CHECK(db_contents(s.db) == before);
}

TEST_CASE("Cli.Run.NoInputsResumesAndReports") {
  Scratch s;
  s.seed();
  auto r = s.run({});
  INFO("stdout:\n", r.out, "\nstderr:\n", r.err);
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, "0 started"));
}

// ---- run: bad input ------------------------------------------------------------------------

TEST_CASE("Cli.Run.MissingInputFile") {
  Scratch s;
  s.seed();
  auto before = db_contents(s.db);
  auto missing = s.dir.file("missing.json");
  check_failure(s.run({missing}), 1, {missing});
  CHECK(db_contents(s.db) == before);
}

TEST_CASE("Cli.Run.InputFileIsADirectory") {
  Scratch s;
  check_failure(s.run({s.workflows}), 1, {s.workflows, "directory"});
  CHECK_FALSE(fs::exists(s.db));
}

TEST_CASE("Cli.Run.InputNotJson") {
  Scratch s;
  s.seed();
  auto before = db_contents(s.db);
  auto bad = s.dir.write("bad.json", "{\"rma_id\": \"RMA-9\",");
  check_failure(s.run({bad}), 1, {bad, "not valid JSON"});
  auto empty = s.dir.write("empty.json", "\n");
  check_failure(s.run({empty}), 1, {empty + " is empty"});
  // A key given twice: which one counts would depend on the reader, so the file is refused,
  // as the API refuses such a body.
  auto twice = s.dir.write("twice.json", R"([{"rma_id": "RMA-9", "kind": "ok", "kind": "fail"}])");
  check_failure(s.run({twice}), 1, {twice, "gives the key \"kind\" twice in one object"});
  // Past 64 MiB a file is refused before it is read (a sparse file: nothing is written).
  auto huge = s.dir.file("huge.json");
  std::ofstream(huge).put('{');
  std::filesystem::resize_file(huge, (std::size_t{64} << 20) + 1);
  check_failure(s.run({huge}), 1,
                {huge + " holds 67108865 bytes, more than the 67108864 an input file may hold"});
  CHECK(db_contents(s.db) == before);
}

TEST_CASE("Cli.Run.InputNotAnObject") {
  Scratch s;
  s.seed();
  auto before = db_contents(s.db);
  auto text = s.dir.write("string.json", "\"RMA-9\"");
  check_failure(s.run({text}), 1, {text, "string"});
  auto number = s.dir.write("number.json", "42");
  check_failure(s.run({number}), 1, {number, "number"});
  auto array = s.dir.write("array.json", R"([{"rma_id": "RMA-9", "kind": "ok"}, 7])");
  check_failure(s.run({array}), 1, {array, "element 2", "number"});
  // A bad file anywhere in the list starts nothing, not even the good files before it.
  check_failure(s.run({s.inputs, number}), 1, {number});
  CHECK(db_contents(s.db) == before);
}

// The engine walks inputs recursively (jq conversion, hashing): 50,000 levels of nesting used
// to overflow the stack and crash the binary.
TEST_CASE("Cli.Run.InputNestedTooDeep") {
  Scratch s;
  s.seed();
  auto before = db_contents(s.db);
  std::string nested = "{\"rma_id\": \"RMA-9\", \"kind\": \"ok\", \"lines\": ";
  for (int i = 0; i < 50000; ++i) nested += "{\"a\": ";
  nested += "1";
  nested += std::string(50001, '}');
  auto deep = s.dir.write("deep.json", nested);
  check_failure(s.run({deep}), 1, {deep, "levels deep"});
  std::string arrays = std::string(50000, '[') + std::string(50000, ']');
  auto deep_arrays = s.dir.write("deep-arrays.json", arrays);
  check_failure(s.run({deep_arrays}), 1, {deep_arrays});
  CHECK(db_contents(s.db) == before);
  // Nesting an input really has is fine.
  auto fine = s.dir.write("fine.json", R"({"rma_id": "RMA-9", "lines": [{"sku": {"id": [1]}}]})");
  auto r = s.run({fine});
  CHECK(r.exit_code == 0);
}

TEST_CASE("Cli.Run.WorkflowsDirMissing") {
  Scratch s;
  auto missing = s.dir.file("nowhere");
  check_failure(Scratch::rmaflow({"run", "--db", s.db, "--workflows", missing, s.inputs}), 1,
                {missing});
  CHECK_FALSE(fs::exists(s.db));
}

TEST_CASE("Cli.Run.WorkflowsIsAFile") {
  Scratch s;
  auto file = s.workflows + "/returns.yaml";
  check_failure(Scratch::rmaflow({"run", "--db", s.db, "--workflows", file, s.inputs}), 1,
                {file, "directory"});
  CHECK_FALSE(fs::exists(s.db));
}

TEST_CASE("Cli.Run.TwoFilesOneVersion") {
  Scratch s;
  std::string copy = kReturns;
  copy.replace(copy.find("the part is broken"), 18, "the part is cracked");
  auto second = s.dir.write("workflows/returns-copy.yaml", copy);
  check_failure(s.run({s.inputs}), 1,
                {s.workflows + "/returns.yaml", second, "returns", "version 1"});
  CHECK_FALSE(fs::exists(s.db));
}

TEST_CASE("Cli.Run.WorkflowsDirEmpty") {
  Scratch s;
  fs::create_directories(s.dir.file("empty"));
  check_failure(
      Scratch::rmaflow({"run", "--db", s.db, "--workflows", s.dir.file("empty"), s.inputs}), 1,
      {s.dir.file("empty")});
  CHECK_FALSE(fs::exists(s.db));
}

TEST_CASE("Cli.Run.WorkflowYamlSyntaxError") {
  Scratch s;
  s.seed();
  auto before = db_contents(s.db);
  auto broken = s.dir.write("broken/returns.yaml",
                            "workflow: returns\nversion: 2\nstart: a\nsteps:\n  a:\n"
                            "    action: builtin.noop\n    with: { id: ${ .input.id } }\n"
                            "    next: b\n  b: { end: completed }\n");
  auto r = Scratch::rmaflow({"run", "--db", s.db, "--workflows", s.dir.file("broken"), s.inputs});
  check_failure(r, 1, {s.dir.file("broken"), "nothing was run"}, 1);
  CHECK(lines_of(r.err)[0].rfind(broken + ":7:18: error[yaml-syntax]: ", 0) == 0);
  CHECK(r.out.empty());
  CHECK(db_contents(s.db) == before);
}

TEST_CASE("Cli.Run.UnknownWorkflow") {
  Scratch s;
  s.seed();
  auto before = db_contents(s.db);
  check_failure(s.run({"--workflow", "exchange", s.inputs}), 1, {"exchange", s.workflows});
  // Named but with nothing to start, it is still a mistake worth saying.
  check_failure(s.run({"--workflow", "exchange"}), 1, {"exchange", s.workflows});
  CHECK(db_contents(s.db) == before);
}

TEST_CASE("Cli.Run.SeveralWorkflowsNeedWorkflowOption") {
  Scratch s;
  s.dir.write("workflows/exchanges.yaml", kExchanges);
  check_failure(s.run({s.inputs}), 1, {s.workflows, "--workflow"});
  CHECK_FALSE(fs::exists(s.db));
  auto r = s.run({"--workflow", "exchanges", s.inputs});
  INFO("stderr:\n", r.err);
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, "3 instance(s): 3 started, 0 resumed; 3 completed"));
}

TEST_CASE("Cli.Run.DbNotSqlite") {
  Scratch s;
  std::string junk;
  for (int i = 0; i < 4096; ++i) junk += static_cast<char>((i * 7919 + 13) % 251);
  auto path = s.dir.write("junk.db", junk);
  auto r = Scratch::rmaflow({"run", "--db", path, "--workflows", s.workflows, s.inputs});
  check_failure(r, 1, {path, "not an rmaflow database"});
  CHECK(file_bytes(path) == junk);
  CHECK_FALSE(fs::exists(path + "-wal"));
  check_failure(Scratch::rmaflow({"list", "--db", path}), 1, {path});
  check_failure(Scratch::rmaflow({"show", "--db", path, "X"}), 1, {path});
  CHECK(file_bytes(path) == junk);
}

TEST_CASE("Cli.Run.DbInMissingDirectory") {
  Scratch s;
  auto path = s.dir.file("nodir/rma.db");
  check_failure(Scratch::rmaflow({"run", "--db", path, "--workflows", s.workflows, s.inputs}), 1,
                {path, s.dir.file("nodir") + " does not exist"});
  CHECK_FALSE(fs::exists(s.dir.file("nodir")));
}

TEST_CASE("Cli.Run.DbIsADirectory") {
  Scratch s;
  check_failure(
      Scratch::rmaflow({"run", "--db", s.workflows, "--workflows", s.workflows, s.inputs}), 1,
      {s.workflows, "directory"});
  check_failure(Scratch::rmaflow({"list", "--db", s.workflows}), 1, {s.workflows, "directory"});
}

TEST_CASE("Cli.Run.AdaptersFileErrors") {
  Scratch s;
  s.seed();
  auto before = db_contents(s.db);
  SUBCASE("malformed") {
    auto file = s.dir.write("adapters.yaml", "adapters:\n  erp: { type: builtin\n");
    check_failure(s.run({"--adapters", file, s.inputs}), 1, {file});
  }
  SUBCASE("unknown type") {
    auto file = s.dir.write("adapters.yaml", "adapters:\n  erp: { type: magic }\n");
    check_failure(s.run({"--adapters", file, s.inputs}), 1, {file + ":2:", "\"magic\"", "\"erp\""});
  }
  SUBCASE("unknown key") {
    auto file = s.dir.write("adapters.yaml", "adapters:\n  erp: { type: builtin, latncy: 5ms }\n");
    check_failure(s.run({"--adapters", file, s.inputs}), 1,
                  {file + ":2:", "\"latncy\"", "\"erp\""});
  }
  SUBCASE("not a mapping") {
    auto file = s.dir.write("adapters.yaml", "- erp\n");
    check_failure(s.run({"--adapters", file, s.inputs}), 1, {file});
  }
  SUBCASE("a directory") {
    check_failure(s.run({"--adapters", s.workflows, s.inputs}), 1, {s.workflows, "directory"});
  }
  SUBCASE("missing") {
    auto file = s.dir.file("adapters.yaml");
    check_failure(s.run({"--adapters", file, s.inputs}), 1, {file});
  }
  CHECK(db_contents(s.db) == before);
}

TEST_CASE("Cli.Run.ChangedBodySameVersionRefused") {
  Scratch s;
  s.seed();
  auto before = db_contents(s.db);
  std::string changed = kReturns;
  changed.replace(changed.find("the part is broken"), 18, "the part is cracked");
  s.dir.write("workflows/returns.yaml", changed);
  auto more = s.dir.write("more.json", R"({"rma_id": "RMA-4", "kind": "ok"})");
  check_failure(s.run({more}), 1, {"returns", "version 1"});
  CHECK(db_contents(s.db) == before);
}

// ---- usage ---------------------------------------------------------------------------------

TEST_CASE("Cli.Usage.MissingDb") {
  Scratch s;
  check_failure(Scratch::rmaflow({"run", "--workflows", s.workflows, s.inputs}), 2,
                {"run", "--db"});
  check_failure(Scratch::rmaflow({"list"}), 2, {"list", "--db"});
  check_failure(Scratch::rmaflow({"show", "X"}), 2, {"show", "--db"});
  check_failure(Scratch::rmaflow({"history", "X"}), 2, {"history", "--db"});
}

TEST_CASE("Cli.Usage.MissingId") {
  Scratch s;
  check_failure(Scratch::rmaflow({"show", "--db", s.db}), 2, {"show", "id"});
  check_failure(Scratch::rmaflow({"history", "--db", s.db}), 2, {"history", "id"});
}

TEST_CASE("Cli.Usage.BadOptionValues") {
  Scratch s;
  check_failure(Scratch::rmaflow({"list", "--db", s.db, "--format", "yaml"}), 2,
                {"--format", "yaml"});
  check_failure(Scratch::rmaflow({"list", "--db", s.db, "--limit", "0"}), 2, {"--limit"});
  check_failure(Scratch::rmaflow({"list", "--db", s.db, "--frobnicate"}), 2, {"--frobnicate"});
  CHECK_FALSE(fs::exists(s.db));
}

TEST_CASE("Cli.Usage.UnknownSubcommand") {
  check_failure(Scratch::rmaflow({"frobnicate", "--db", "x.db"}), 2, {"frobnicate"});
  check_failure(Scratch::rmaflow({}), 2, {"run"});  // says which commands there are
}

TEST_CASE("Cli.Usage.HelpOnEverySubcommand") {
  const std::map<std::string, std::vector<std::string>> options = {
      {"run", {"--db", "--workflows", "--adapters", "--workflow", "--format", "inputs"}},
      {"list", {"--db", "--status", "--workflow", "--limit", "--after", "--format"}},
      {"show", {"--db", "--format", "id"}},
      {"history", {"--db", "--format", "id"}},
      {"validate", {"--format"}},
  };
  for (const auto& [command, names] : options) {
    auto r = Scratch::rmaflow({command, "--help"});
    INFO(command, " --help:\n", r.out, r.err);
    CHECK(r.exit_code == 0);
    for (const auto& name : names) CHECK_MESSAGE(contains(r.out, name), command, " lists ", name);
  }
  auto top = Scratch::rmaflow({"--help"});
  CHECK(top.exit_code == 0);
  for (const auto& [command, names] : options) CHECK(contains(top.out, command));
}

// ---- list ----------------------------------------------------------------------------------

TEST_CASE("Cli.List.StatusFilter") {
  Scratch s;
  auto ids = s.seed();
  auto both = s.list_json({"--status", "completed,rejected"});
  REQUIRE(both.size() == 2);
  for (const auto& row : both) CHECK(row["status"] != "suspended");
  auto at_step = s.list_json({"--step", "break_it"});
  REQUIRE(at_step.size() == 1);
  CHECK(at_step[0]["id"] == ids["RMA-3"]);
  auto by_key = s.list_json({"--business-key", "RMA-2"});
  REQUIRE(by_key.size() == 1);
  CHECK(by_key[0]["id"] == ids["RMA-2"]);
  auto repeated = s.list_json({"--status", "suspended", "--status", "rejected"});
  REQUIRE(repeated.size() == 2);
  auto suspended = s.list_json({"--status", "suspended"});
  REQUIRE(suspended.size() == 1);
  CHECK(suspended[0]["id"] == ids["RMA-3"]);
  CHECK(suspended[0]["incident"]["error"]["code"] == "Broken");

  auto text = Scratch::rmaflow({"list", "--db", s.db, "--status", "completed"});
  CHECK(text.exit_code == 0);
  CHECK(contains(text.out, ids["RMA-1"]));
  CHECK_FALSE(contains(text.out, ids["RMA-2"]));
}

TEST_CASE("Cli.List.UnknownStatus") {
  Scratch s;
  s.seed();
  check_failure(Scratch::rmaflow({"list", "--db", s.db, "--status", "completed,finished"}), 1,
                {"\"finished\"", "completed"});
}

TEST_CASE("Cli.List.WorkflowFilter") {
  Scratch s;
  s.dir.write("workflows/exchanges.yaml", kExchanges);
  REQUIRE(s.run({"--workflow", "returns", s.inputs}).exit_code == 0);
  auto one = s.dir.write("one.json", R"({"rma_id": "RMA-7"})");
  REQUIRE(s.run({"--workflow", "exchanges", one}).exit_code == 0);
  auto exchanges = s.list_json({"--workflow", "exchanges"});
  REQUIRE(exchanges.size() == 1);
  CHECK(exchanges[0]["business_key"] == "RMA-7");
  CHECK(s.list_json({"--workflow", "returns"}).size() == 3);
  CHECK(s.list_json({"--workflow", "nothing"}).empty());
  CHECK(s.list_json().size() == 4);
}

TEST_CASE("Cli.List.Paging") {
  Scratch s;
  json many = json::array();
  for (int i = 1; i <= 5; ++i)
    many.push_back({{"rma_id", fmt::format("RMA-{}", i)}, {"kind", "ok"}});
  auto file = s.dir.write("many.json", many.dump());
  REQUIRE(s.run({file}).exit_code == 0);
  auto all = s.list_json();
  REQUIRE(all.size() == 5);

  std::vector<std::string> seen;
  std::string after;
  for (int page = 0; page < 5; ++page) {
    std::vector<std::string> args = {"list", "--db", s.db, "--limit", "2"};
    if (!after.empty()) args.insert(args.end(), {"--after", after});
    auto r = Scratch::rmaflow(args);
    INFO("page ", page, ":\n", r.out, r.err);
    REQUIRE(r.exit_code == 0);
    auto lines = lines_of(r.out);
    std::string hint;
    for (std::size_t i = 1; i < lines.size(); ++i) {
      if (lines[i].rfind("(", 0) == 0) {
        hint = lines[i];
      } else {
        seen.push_back(lines[i].substr(0, lines[i].find(' ')));
      }
    }
    if (hint.empty()) break;
    auto at = hint.find("--after ");
    REQUIRE(at != std::string::npos);
    after = hint.substr(at + 8, hint.find(')') - at - 8);
    CHECK(after == seen.back());
  }
  REQUIRE(seen.size() == 5);
  for (std::size_t i = 0; i < seen.size(); ++i) CHECK(seen[i] == all[i]["id"]);

  // A page that ends exactly at the last instance promises no next page.
  auto exact = Scratch::rmaflow({"list", "--db", s.db, "--limit", "5"});
  CHECK_FALSE(contains(exact.out, "next page"));
  auto paged = s.list_json({"--limit", "2", "--after", all[1]["id"]});
  REQUIRE(paged.size() == 2);
  CHECK(paged[0]["id"] == all[2]["id"]);
}

TEST_CASE("Cli.List.JsonFormat") {
  Scratch s;
  auto ids = s.seed();
  auto rows = s.list_json();
  REQUIRE(rows.size() == 3);
  for (const auto& row : rows) {
    for (const char* key : {"id", "workflow", "version", "status", "step", "business_key",
                            "created_at", "updated_at", "incident"}) {
      CHECK_MESSAGE(row.contains(key), key);
    }
    CHECK_FALSE(row.contains("context"));
  }
}

TEST_CASE("Cli.List.EmptyResult") {
  Scratch s;
  s.seed();
  auto r = Scratch::rmaflow({"list", "--db", s.db, "--status", "expired"});
  CHECK(r.exit_code == 0);
  CHECK(r.err.empty());
  CHECK(s.list_json({"--status", "expired"}).empty());
}

// ---- show ----------------------------------------------------------------------------------

TEST_CASE("Cli.Show.Completed") {
  Scratch s;
  auto ids = s.seed();
  auto r = Scratch::rmaflow({"show", "--db", s.db, ids["RMA-1"]});
  INFO(r.out, r.err);
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, "instance     " + ids["RMA-1"] + "\n"));
  CHECK(contains(r.out, "status       completed\n"));
  CHECK(contains(r.out, "business key RMA-1\n"));
  CHECK(contains(r.out, "ended        "));
  CHECK_FALSE(contains(r.out, "incident"));
  CHECK(contains(r.out, "\"accepted\""));

  auto j = Scratch::rmaflow({"show", "--db", s.db, "--format", "json", ids["RMA-1"]});
  CHECK(j.exit_code == 0);
  auto doc = json::parse(j.out);
  CHECK(doc["id"] == ids["RMA-1"]);
  CHECK(doc["status"] == "completed");
  CHECK(doc["step"] == "done");
  CHECK(doc["incident"].is_null());
  CHECK_FALSE(doc["ended_at"].is_null());
  CHECK(doc["context"]["accepted"]["rma"] == "RMA-1");
  CHECK(doc["context"]["input"]["rma_id"] == "RMA-1");
}

TEST_CASE("Cli.Show.SuspendedShowsIncident") {
  Scratch s;
  auto ids = s.seed();
  auto r = Scratch::rmaflow({"show", "--db", s.db, ids["RMA-3"]});
  INFO(r.out, r.err);
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, "status       suspended\n"));
  CHECK(contains(r.out, "step         break_it"));
  CHECK(contains(r.out, "incident     "));
  CHECK(contains(r.out, "Broken"));
  CHECK(contains(r.out, "the part is broken"));

  auto j = Scratch::rmaflow({"show", "--db", s.db, "--format", "json", ids["RMA-3"]});
  CHECK(j.exit_code == 0);
  auto doc = json::parse(j.out);
  CHECK(doc["status"] == "suspended");
  CHECK(doc["ended_at"].is_null());
  CHECK(doc["incident"]["step"] == "break_it");
  CHECK(doc["incident"]["error"]["code"] == "Broken");
  CHECK(doc["incident"]["error"]["message"] == "the part is broken");
}

TEST_CASE("Cli.Show.UnknownId") {
  Scratch s;
  s.seed();
  check_failure(Scratch::rmaflow({"show", "--db", s.db, "01NOPE"}), 1, {"no instance 01NOPE"});
  check_failure(Scratch::rmaflow({"show", "--db", s.db, "--format", "json", "01NOPE"}), 1,
                {"no instance 01NOPE"});
}

// ---- history -------------------------------------------------------------------------------

TEST_CASE("Cli.History.TextOneLinePerEvent") {
  Scratch s;
  auto ids = s.seed();
  auto j = Scratch::rmaflow({"history", "--db", s.db, "--format", "json", ids["RMA-2"]});
  REQUIRE(j.exit_code == 0);
  auto events = json::parse(j.out);
  auto r = Scratch::rmaflow({"history", "--db", s.db, ids["RMA-2"]});
  INFO(r.out, r.err);
  CHECK(r.exit_code == 0);
  auto lines = lines_of(r.out);
  REQUIRE(lines.size() == events.size() + 1);
  CHECK(lines[0].rfind("SEQ", 0) == 0);
  for (std::size_t i = 0; i < events.size(); ++i) {
    CHECK(lines[i + 1].rfind(std::to_string(i + 1) + " ", 0) == 0);
    CHECK(contains(lines[i + 1], events[i]["type"].get<std::string>()));
  }
}

TEST_CASE("Cli.History.JsonEvents") {
  Scratch s;
  auto ids = s.seed();
  auto r = Scratch::rmaflow({"history", "--db", s.db, "--format", "json", ids["RMA-2"]});
  INFO(r.out, r.err);
  REQUIRE(r.exit_code == 0);
  auto events = json::parse(r.out);
  REQUIRE(events.is_array());
  REQUIRE(events.size() >= 4);
  std::vector<std::string> types;
  for (std::size_t i = 0; i < events.size(); ++i) {
    const auto& e = events[i];
    CHECK(e["seq"] == i + 1);
    CHECK(e["type"].is_string());
    CHECK(e["step"].is_string());
    CHECK(e.contains("data"));
    types.push_back(e["type"]);
  }
  CHECK(types.front() == "instance_started");
  CHECK(events[0]["data"]["input"]["rma_id"] == "RMA-2");
  CHECK(types.back() == "instance_ended");
  CHECK(events.back()["data"]["status"] == "rejected");
  CHECK(std::find(types.begin(), types.end(), "catch_routed") != types.end());
}

TEST_CASE("Cli.History.UnknownId") {
  Scratch s;
  s.seed();
  check_failure(Scratch::rmaflow({"history", "--db", s.db, "01NOPE"}), 1, {"no instance 01NOPE"});
}

// ---- a database that is not there ----------------------------------------------------------

TEST_CASE("Cli.Queries.MissingDatabase") {
  TempDir dir;
  auto db = dir.file("absent.db");
  check_failure(Scratch::rmaflow({"list", "--db", db}), 1, {"no database at " + db});
  check_failure(Scratch::rmaflow({"show", "--db", db, "X"}), 1, {"no database at " + db});
  check_failure(Scratch::rmaflow({"history", "--db", db, "X"}), 1, {"no database at " + db});
  check_failure(Scratch::rmaflow({"list", "--db", dir.file("nodir/absent.db")}), 1,
                {"no database at " + dir.file("nodir/absent.db")});
  CHECK(fs::is_empty(dir.path()));
}

// ---- issue 11 --------------------------------------------------------------------------------

// An existing empty file (made with touch, or by a deployment tool) is a new database to every
// command, as docs/storage.md says.
TEST_CASE("Cli.Run.Issue11.EmptyFileIsADatabaseInEveryMode") {
  Scratch s;
  auto fresh = [&](const std::string& name) { return s.dir.write(name, ""); };
  auto ok = [](const ProcessResult& r) {
    INFO("stdout:\n", r.out, "\nstderr:\n", r.err);
    CHECK(r.exit_code == 0);
  };
  ok(Scratch::rmaflow({"run", "--db", fresh("real.db"), "--workflows", s.workflows, s.inputs}));
  ok(Scratch::rmaflow({"run", "--db", fresh("virtual.db"), "--workflows", s.workflows, "--clock",
                       "virtual", "--start", "2026-01-05T09:00:00Z", s.inputs}));
  auto listed = Scratch::rmaflow({"list", "--db", fresh("list.db"), "--format", "json"});
  ok(listed);
  CHECK(json::parse(listed.out)["items"].empty());
  check_failure(Scratch::rmaflow({"show", "--db", fresh("show.db"), "X"}), 1, {"no instance X"});
  check_failure(Scratch::rmaflow({"history", "--db", fresh("history.db"), "X"}), 1,
                {"no instance X"});
  ok(Scratch::rmaflow({"deploy", "--db", fresh("deploy.db"), s.workflows + "/returns.yaml"}));
  ok(Scratch::rmaflow({"versions", "--db", fresh("versions.db")}));
  ok(Scratch::rmaflow({"commands", "list", "--db", fresh("commands.db")}));
  check_failure(Scratch::rmaflow({"retry", "--db", fresh("retry.db"), "X", "--reason", "r"}), 1,
                {"no instance X"});
  auto served = fresh("served.db");
  ServerProcess server({"--db", served, "--workflows", s.workflows, "--no-auth"}, {},
                       s.dir.file("serve.err"));
  CHECK(server.stop(SIGTERM) == 0);
  ok(Scratch::rmaflow({"list", "--db", served}));
}

// An action or compensation no configured adapter can run is refused by run, serve, deploy
// and validate --adapters, before anything runs, naming the step, its line and what there is.
TEST_CASE("Cli.Run.Issue11.UnknownActionsAreRefusedBeforeAnythingRuns") {
  Scratch s;
  s.dir.write("typo/returns.yaml", R"(workflow: typo
version: 1
start: authorize
steps:
  authorize:
    action: erp.authorise_return
    next: label
  label:
    action: shipping.create_label
    compensate: { action: erp.void_authorization }
    next: done
  done: { end: completed }
)");
  auto typo = s.dir.path() + "/typo";
  auto file = typo + "/returns.yaml";
  auto adapters = s.dir.write("adapters.yaml", "adapters:\n  erp: { type: sim, system: erp, state: erp.db }\n");
  auto db = s.dir.file("typo.db");
  const std::string first =
      file + ":5:3: error[unknown-action]: step \"authorize\" calls erp.authorise_return, but "
             "adapter erp has no operation authorise_return (it has: authorize_return, ";
  const std::string second =
      file + ":8:3: error[unknown-action]: step \"label\" calls shipping.create_label, but no "
             "adapter named shipping is configured (the adapters are: builtin, erp)";

  auto run = Scratch::rmaflow({"run", "--db", db, "--workflows", typo, "--adapters", adapters});
  check_failure(run, 1, {"2 action(s)", adapters, "nothing was run"}, 2);
  auto lines = lines_of(run.err);
  CHECK(lines[0].rfind(first, 0) == 0);
  CHECK(lines[1] == second);
  CHECK_FALSE(fs::exists(db));

  auto serve = Scratch::rmaflow({"serve", "--db", db, "--workflows", typo, "--adapters", adapters,
                                 "--no-auth", "--listen", "127.0.0.1:0"});
  check_failure(serve, 1, {"2 action(s)", "nothing was served"}, 2);
  CHECK_FALSE(fs::exists(db));

  auto deploy = Scratch::rmaflow({"deploy", "--db", db, "--adapters", adapters, file});
  check_failure(deploy, 1, {"2 action(s)", "nothing was deployed"}, 2);
  CHECK_FALSE(fs::exists(db));

  // Without --adapters only the builtin adapter is there: the summary says where the others go.
  auto bare = Scratch::rmaflow({"run", "--db", db, "--workflows", typo});
  check_failure(bare, 1,
                {"3 action(s) name adapters other than builtin, the only one there is without "
                 "--adapters FILE; nothing was run"},
                3);
  CHECK_FALSE(fs::exists(db));

  auto validate = Scratch::rmaflow({"validate", "--adapters", adapters, file});
  INFO("validate:\n", validate.out, validate.err);
  CHECK(validate.exit_code == 1);
  auto out = lines_of(validate.out);
  REQUIRE(out.size() == 2);
  CHECK(out[0].rfind(first, 0) == 0);
  CHECK(out[1] == second);
  // Without --adapters, validate checks the file alone, as before.
  CHECK(Scratch::rmaflow({"validate", file}).exit_code == 0);
}

TEST_CASE("Cli.Usage.Issue11.Version") {
  auto r = Scratch::rmaflow({"--version"});
  INFO("stdout:\n", r.out, "\nstderr:\n", r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out == "rmaflow 0.1.0\n");
  CHECK(r.err.empty());
}

// The completion script comes from the command table: every command and option is offered,
// as bash itself completes them.
TEST_CASE("Cli.Usage.Issue11.BashCompletion") {
  auto script = Scratch::rmaflow({"completion", "bash"});
  REQUIRE(script.exit_code == 0);
  TempDir dir;
  auto file = dir.write("rmaflow.bash", script.out);
  auto complete = [&](const std::string& line) {
    // What bash offers for the last word of `line`, one per line, sorted.
    auto r = run_process(
        {"/bin/bash", "-c",
         fmt::format("source '{}'; COMP_LINE='{}'; read -ra COMP_WORDS <<< \"$COMP_LINE\"; "
                     "[[ \"$COMP_LINE\" == *' ' ]] && COMP_WORDS+=(''); "
                     "COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); _rmaflow; "
                     "printf '%s\\n' \"${{COMPREPLY[@]}}\" | sort",
                     file, line)});
    INFO(line, ": ", r.err);
    REQUIRE(r.exit_code == 0);
    return r.out;
  };
  CHECK(complete("rmaflow li") == "list\n");
  CHECK(complete("rmaflow list --stu") == "--stuck\n");
  CHECK(complete("rmaflow list --st") == "--status\n--step\n--stuck\n");
  CHECK(complete("rmaflow commands w") == "withdraw\n");
  CHECK(complete("rmaflow token add --r") == "--role\n");
  CHECK(complete("rmaflow retry --w") == "--wait\n");
  CHECK(contains(complete("rmaflow serve --sim-"), "--sim-start\n"));
  // Every command `rmaflow --help` lists is offered.
  auto all = complete("rmaflow ");
  for (const char* command : {"validate", "run", "serve", "start", "list", "show", "history",
                              "retry", "commands", "completion", "deploy", "token"}) {
    CHECK_MESSAGE(contains(all, std::string(command) + "\n"), command);
  }
  auto help = Scratch::rmaflow({"--help"});
  CHECK(contains(help.out, "completion"));
}

// rmaflow bench --mode closed: clients that each start an instance and wait for its end, in
// process and through the API's ?wait= on loopback. What is checked is what the report says
// happened (every instance ran to its end, counted once), never how fast.
TEST_CASE("Cli.Bench.Issue19.ClosedLoopRunsEveryInstanceToItsEnd") {
  for (bool via_api : {false, true}) {
    CAPTURE(via_api);
    std::vector<std::string> args = {rmaflow_binary(), "bench", "--mode",          "closed",
                                     "--concurrency",  "4",     "--instances",     "40",
                                     "--steps",        "3",     "--raw-budget-ms", "50"};
    if (via_api) args.push_back("--via-api");
    auto r = run_process(args);
    INFO(r.out, r.err);
    REQUIRE(r.exit_code == 0);
    auto report = nlohmann::json::parse(r.out);
    CHECK(report["mode"] == "closed");
    CHECK(report["via"] == (via_api ? "api" : "in-process"));
    CHECK(report["instances"] == 40);
    CHECK(report["concurrency"] == 4);
    // Three steps each: a start, three steps entered and completed, an end, at the least.
    CHECK(report["transitions_per_s"].get<double>() * report["seconds"].get<double>() >= 40 * 8);
    CHECK(report["workflow_latency_ms"]["p50"].get<double>() <=
          report["workflow_latency_ms"]["p99"].get<double>());
    // One sample per step that follows another's answer.
    auto samples = report["step_latency_ms"]["samples"].get<int>();
    CHECK(samples >= 40);
    CHECK(samples <= 40 * 3);
    // What the run cost in CPU, every thread of the process: some, and no more than its cores.
    auto cpu = report["cpu_seconds"].get<double>();
    CHECK(cpu > 0);
    CHECK(report["cpu_ms_per_workflow"].get<double>() == doctest::Approx(cpu * 1000 / 40));
    CHECK(report["cores_busy"].get<double>() <= std::thread::hardware_concurrency() + 0.5);
    CHECK(report.contains("raw_sqlite"));
    // The allocator it ran on: jemalloc, unless built without it (under the sanitizers).
    CHECK(report["allocator"].get<std::string>().rfind(
              RMAFLOW_EXPECT_JEMALLOC ? "jemalloc 5." : "glibc malloc", 0) == 0);
  }
  auto misplaced = run_process({rmaflow_binary(), "bench", "--via-api", "--instances", "10"});
  CHECK(misplaced.exit_code != 0);
  CHECK(misplaced.err.find("--via-api goes with --mode closed") != std::string::npos);
}

// Through the API each client holds a connection: more clients than the server's default cap
// (256) are served, the limit on open files raised to hold them (two files each in the one
// process), and a count the limit cannot hold is refused before anything runs. Before, the
// 257th client was answered 503 and the bench ended with it.
TEST_CASE("Cli.Bench.ClosedLoopThroughTheApiHoldsAConnectionPerClient") {
  rlimit own{};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &own) == 0);
  std::vector<std::string> args = {
      rmaflow_binary(), "bench", "--mode",      "closed", "--via-api",       "--steps", "1",
      "--concurrency",  "300",   "--instances", "300",    "--raw-budget-ms", "50"};
  // A child may not have a hard limit above this process's own; 300 clients need 664.
  if (own.rlim_max >= 1024) {
    auto r = run_process(args, {}, "", {200, std::min<std::size_t>(own.rlim_max, 4096)});
    INFO(r.out, r.err);
    REQUIRE(r.exit_code == 0);
    auto report = nlohmann::json::parse(r.out);
    CHECK(report["instances"] == 300);
    CHECK(report["concurrency"] == 300);
  }
  auto refused = run_process(args, {}, "", {512, 512});
  CHECK(refused.exit_code == 1);
  CHECK(refused.err ==
        "rmaflow: --concurrency 300 through the API needs 664 open files (each client's connection "
        "is two in this process), and it may hold 512 (ulimit -n); give at most 224, or raise the "
        "limit\n");
  CHECK(refused.out.empty());
}

// rmaflow bench on PostgreSQL (a throwaway cluster): the throughput and closed modes run on an
// empty database there and say so; a database that holds anything, and the modes that make
// files of their own, are refused.
TEST_CASE("Cli.Bench.Issue18.RunsOnAnEmptyPostgresDatabase") {
  auto& cluster = PgCluster::shared();
  for (std::string mode : {"throughput", "closed"}) {
    CAPTURE(mode);
    auto db = cluster.create_database();
    std::vector<std::string> args = {
        rmaflow_binary(), "bench", "--db",    db,  "--mode",          mode,
        "--instances",    "30",    "--steps", "2", "--raw-budget-ms", "50"};
    auto r = run_process(args);
    INFO(r.out, r.err);
    REQUIRE(r.exit_code == 0);
    auto report = nlohmann::json::parse(r.out);
    CHECK(report["store"] == "postgresql");
    CHECK(report["sync"] == "the server's synchronous_commit");
    // A start, two steps entered and completed, an end: six transitions each at the least.
    CHECK(report["transitions_per_s"].get<double>() * report["seconds"].get<double>() >= 30 * 6);
    auto counts =
        rmaflow::open_store(db, rmaflow::StoreOptions{.read_only = true})->count_by_status();
    CHECK(counts[rmaflow::InstanceStatus::completed] == 30);

    auto again = run_process(args);
    CHECK(again.exit_code == 1);
    CHECK(again.err.find("the benchmark needs an empty database") != std::string::npos);
  }
  auto fanout = run_process(
      {rmaflow_binary(), "bench", "--db", cluster.create_database(), "--mode", "fanout"});
  CHECK(fanout.exit_code == 1);
  CHECK(fanout.err.find("--mode fanout runs on SQLite files") != std::string::npos);
}

// rmaflow bench --mode closed --nodes N: N engines as nodes of one PostgreSQL database, each
// owning a share of the shards and running its clients' instances.
TEST_CASE("Cli.Bench.Issue18.NodesShareAPostgresDatabase") {
  auto& cluster = PgCluster::shared();
  auto db = cluster.create_database();
  auto r = run_process({rmaflow_binary(), "bench", "--db", db, "--mode", "closed", "--nodes", "2",
                        "--concurrency", "4", "--instances", "40", "--steps", "2",
                        "--raw-budget-ms", "50"});
  INFO(r.out, r.err);
  REQUIRE(r.exit_code == 0);
  auto report = nlohmann::json::parse(r.out);
  CHECK(report["nodes"] == 2);
  CHECK(report["instances"] == 40);
  auto store = rmaflow::open_store(db, rmaflow::StoreOptions{.read_only = true});
  CHECK(store->count_by_status()[rmaflow::InstanceStatus::completed] == 40);
  // Each node ran some: instance ids end in the digit of their shard, and nodes hold disjoint
  // shards; both halves of the shards have instances unless one node ran them all.
  rmaflow::InstanceFilter all;
  all.limit = 100;
  std::set<int> shards;
  for (const auto& row : store->list_instances(all)) shards.insert(rmaflow::shard_of(row.id));
  CHECK(shards.size() > 1);

  auto on_sqlite = run_process({rmaflow_binary(), "bench", "--mode", "closed", "--nodes", "2"});
  CHECK(on_sqlite.exit_code == 1);
  CHECK(on_sqlite.err.find("give a postgresql:// --db") != std::string::npos);
  auto throughput =
      run_process({rmaflow_binary(), "bench", "--db", cluster.create_database(), "--nodes", "2"});
  CHECK(throughput.exit_code == 1);
  CHECK(throughput.err.find("--nodes goes with --mode closed") != std::string::npos);
}

// rmaflow bench --mode open: starts offered at a fixed rate for a fixed time, each run to its
// end. What is checked is the report's account of what ran, never its speed.
TEST_CASE("Cli.Bench.Issue19.OpenLoopOffersTheRateForTheTimeAndRunsEachToItsEnd") {
  auto r = run_process({rmaflow_binary(), "bench", "--mode", "open", "--rate", "200", "--seconds",
                        "0.5", "--steps", "3", "--raw-budget-ms", "50"});
  INFO(r.out, r.err);
  REQUIRE(r.exit_code == 0);
  auto report = nlohmann::json::parse(r.out);
  CHECK(report["mode"] == "open");
  CHECK(report["instances"] == 100);  // 200 a second for half a second
  CHECK(report["offered_rate"] == 200.0);
  // Over the half second: 100 starts spaced 5 ms apart, the last 4.95 ms after the first,
  // are no more than 200 a second.
  CHECK(report["seconds_offered"].get<double>() >= 0.5);
  CHECK(report["achieved_rate"].get<double>() <= 200.0);
  const auto& overhead = report["step_overhead_ms"];
  CHECK(overhead["samples"].get<int>() >= 100);
  CHECK(overhead["p50"].get<double>() <= overhead["p99"].get<double>());
  CHECK(overhead["p99"].get<double>() <= overhead["p999"].get<double>());
  // One duration per commit.
  CHECK(report["commit_ms"]["samples"] == report["commits"]);
  CHECK(report["commit_ms"]["p50"].get<double>() <= report["commit_ms"]["max"].get<double>());
  CHECK(report["seconds_until_all_ended"].get<double>() >= report["seconds_offered"].get<double>());
  CHECK(report["cpu_ms_per_workflow"].get<double>() > 0);
  CHECK(report["cores_busy"].get<double>() <= std::thread::hardware_concurrency() + 0.5);
  CHECK(report["fell_behind_after_s"].is_null());
  CHECK(report["max_in_flight"] == 100000);

  auto no_rate = run_process({rmaflow_binary(), "bench", "--mode", "open"});
  CHECK(no_rate.exit_code != 0);
  CHECK(no_rate.err.find("--rate") != std::string::npos);
  auto both = run_process(
      {rmaflow_binary(), "bench", "--mode", "open", "--rate", "10", "--p99-bound", "2"});
  CHECK(both.exit_code != 0);
  CHECK(both.err.find("not both") != std::string::npos);
  auto none_offered = run_process(
      {rmaflow_binary(), "bench", "--mode", "open", "--rate", "0.5", "--seconds", "1.5"});
  CHECK(none_offered.exit_code != 0);
  CHECK(none_offered.err.find("offers less than one start") != std::string::npos);
}

// A rate far past what the engine can hold: the run stops offering once --max-in-flight
// instances are started and not ended, says when, and ends once those have, rather than
// queueing starts in memory for its hour (a million a second held 4 GB after 15 s before).
TEST_CASE("Cli.Bench.OpenLoopPastWhatTheEngineHoldsStopsOffering") {
  auto r =
      run_process({rmaflow_binary(), "bench", "--mode", "open", "--rate", "1000000", "--seconds",
                   "3600", "--max-in-flight", "2000", "--steps", "1", "--raw-budget-ms", "50"});
  INFO(r.out, r.err);
  REQUIRE(r.exit_code == 0);
  auto report = nlohmann::json::parse(r.out);
  CHECK(report["max_in_flight"] == 2000);
  REQUIRE(report["fell_behind_after_s"].is_number());
  auto fell_behind = report["fell_behind_after_s"].get<double>();
  CHECK(fell_behind < 3600);
  // The window ended when the run fell behind, and every instance it started ran to its end.
  CHECK(report["seconds_offered"].get<double>() >= fell_behind);
  CHECK(report["seconds_offered"].get<double>() < 3600);
  CHECK(report["instances"].get<int>() >= 2000);
  CHECK(report["workflow_latency_ms"]["samples"] == report["instances"]);
}

// An option that only some modes read is refused with any other, naming the modes that read
// it: the run would not do what it asks, and its report would look as if it had. A run that
// would start more at once than memory holds is refused as early.
TEST_CASE("Cli.Bench.OptionsOfAnotherModeAreRefused") {
  struct Case {
    std::vector<std::string> args;
    std::string says;
  };
  const std::vector<Case> cases = {
      {{"--rate", "10"}, "--rate goes with --mode open; --mode throughput does not read it"},
      {{"--mode", "open", "--via-api", "--rate", "10"},
       "--via-api goes with --mode closed; --mode open does not read it"},
      {{"--mode", "open", "--rate", "10", "--instances", "5"},
       "--instances goes with --mode throughput, resume, fanout, observe, search or closed"},
      {{"--mode", "search", "--input-lines", "3"},
       "--input-lines goes with --mode throughput, fanout, observe, closed or open"},
      {{"--mode", "closed", "--lines", "4"}, "--lines goes with --mode fanout"},
      {{"--mode", "fanout", "--no-trace-export"}, "--no-trace-export goes with --mode observe"},
      {{"--mode", "resume", "--steps", "3"}, "--steps goes with --mode throughput, fanout"},
      {{"--mode", "closed", "--wait-timeout", "30d"}, "--wait-timeout goes with --mode resume"},
      {{"--mode", "closed", "--max-in-flight", "10"},
       "--max-in-flight goes with --mode open; --mode closed does not read it"},
      // Not an option of another mode, but refused before anything ran as well: a run that
      // starts more at once than memory holds.
      {{"--instances", "1000001"},
       "--mode throughput starts every instance at once, and --instances 1000001 would be held "
       "in memory together, more than the 1000000 a run may hold; give at most 1000000"},
      {{"--mode", "fanout", "--instances", "101", "--lines", "10000"},
       "--mode fanout starts --instances 101 at once with --lines 10000 branches each: 1010000 "
       "branches held in memory together, more than the 1000000 a run may hold; give fewer "
       "instances or lines"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> argv = {rmaflow_binary(), "bench"};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    auto r = run_process(argv);
    CAPTURE(c.says);
    INFO(r.out, r.err);
    CHECK(r.exit_code == 1);
    CHECK(r.err.find(c.says) != std::string::npos);
    CHECK(r.out.empty());  // refused before anything ran
  }
}

// rmaflow bench --mode open --p99-bound: the search for the highest rate whose step overhead
// p99 stays within the bound. What is checked is that the report's verdicts follow from its
// own probes, never a speed.
TEST_CASE("Cli.Bench.Issue19.OpenLoopSearchReportsTheHighestRateWithinTheBound") {
  auto r = run_process({rmaflow_binary(), "bench", "--mode", "open", "--p99-bound", "1.5",
                        "--seconds", "0.3", "--steps", "2", "--raw-budget-ms", "50"});
  INFO(r.out, r.err);
  REQUIRE(r.exit_code == 0);
  auto report = nlohmann::json::parse(r.out);
  CHECK(report["p99_bound_ms"] == 1.5);
  const auto& probes = report["probes"];
  REQUIRE(probes.size() >= 2);
  CHECK(probes[0]["offered_rate"] == 50.0);
  double highest_passed = 0, highest_up = 0, lowest_not_up = 0;
  for (const auto& p : probes) {
    bool up = p["kept_up"].get<bool>();
    bool passed = up && p["step_overhead_p99_ms"].get<double>() <= 1.5;
    CHECK(p["passed"].get<bool>() == passed);
    double rate = p["offered_rate"].get<double>();
    if (passed) highest_passed = std::max(highest_passed, rate);
    if (up) highest_up = std::max(highest_up, rate);
    if (!up && (lowest_not_up == 0 || rate < lowest_not_up)) lowest_not_up = rate;
  }
  CHECK(report["highest_rate_within_bound"].get<double>() == highest_passed);
  CHECK(report["peak_rate"].get<double>() == highest_up);
  // The search went on until the engine fell behind.
  CHECK(lowest_not_up > 0);
  REQUIRE(report.contains("at_half_of_peak"));
  CHECK(report["at_half_of_peak"]["offered_rate"].get<double>() == highest_up / 2);
  CHECK(report["at_half_of_peak"]["step_overhead_ms"]["samples"].get<int>() > 0);
  CHECK(report["at_half_of_peak"]["commit_ms"]["samples"].get<int>() > 0);
  CHECK(report["at_half_of_peak"]["cpu_ms_per_workflow"].get<double>() > 0);
  CHECK(report["raw_sqlite"]["batched_rows_per_s"].get<double>() > 0);
  // The disk's own commit latency beside the engine's: the floor under a step's p99.
  const auto& raw_commit = report["raw_sqlite"]["single_row_commit_ms"];
  CHECK(raw_commit["samples"].get<int>() > 0);
  CHECK(raw_commit["p50"].get<double>() > 0);
  CHECK(raw_commit["p99"].get<double>() >= raw_commit["p50"].get<double>());
  CHECK(raw_commit["p999"].get<double>() >= raw_commit["p99"].get<double>());
}
