// `rmaflow validate`, run as a user runs it: exit codes, text and JSON output, several files.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "tests/support/process.hpp"

using rmaflow::testing::rmaflow_binary;
using rmaflow::testing::run_process;
using rmaflow::testing::source_dir;
using rmaflow::testing::TempDir;

namespace {

std::string standard_return() {
  return source_dir() + "/tests/dsl/fixtures/standard_return.yaml";
}

const char* kInvalid = R"(workflow: t
version: 1
start: a
steps:
  a:
    action: x.y
    retires: 3
    next: nowhere
)";

const char* kWarnsOnly = R"(workflow: t
version: 1
start: a
steps:
  a:
    action: x.y
    with: { note: "RMA ${ .input.rma_id }" }
    next: b
  b: { end: completed }
)";

}  // namespace

TEST_CASE("Cli.Validate.ValidFileExitsZero") {
  auto r = run_process({rmaflow_binary(), "validate", standard_return()});
  CHECK(r.exit_code == 0);
  // The design's example draws one warning (an uncompensated task before its pivot), which
  // does not make it invalid.
  CHECK(r.out == standard_return() +
                     ":14:3: warning[uncompensated-before-pivot]: task \"authorize\" can run before "
                     "the pivot \"refund\" and has no compensate: if a later step fails before the "
                     "pivot, its effect is not undone\n" +
                     standard_return() + ": ok (workflow standard-return version 1, 9 steps)\n");
  CHECK(r.err.empty());
}

TEST_CASE("Cli.Validate.InvalidFileExitsOneWithPositions") {
  TempDir dir;
  auto file = dir.write("bad.yaml", kInvalid);
  auto r = run_process({rmaflow_binary(), "validate", file});
  CHECK(r.exit_code == 1);
  CHECK(r.out.find(file +
                   ":7:5: error[unknown-key]: unknown key \"retires\" in step \"a\"; did you "
                   "mean \"retry\"?\n") != std::string::npos);
  CHECK(r.out.find(file + ":8:11: error[unknown-target]: ") != std::string::npos);
  CHECK(r.out.find(": ok (") == std::string::npos);
}

TEST_CASE("Cli.Validate.WarningsStillValid") {
  TempDir dir;
  auto file = dir.write("warn.yaml", kWarnsOnly);
  auto r = run_process({rmaflow_binary(), "validate", file});
  CHECK(r.exit_code == 0);
  CHECK(r.out.find(file + ":7:19: warning[template-in-string]: ") != std::string::npos);
  CHECK(r.out.find(file + ": ok (workflow t version 1, 2 steps)") != std::string::npos);
}

TEST_CASE("Cli.Validate.SeveralFilesOneInvalidExitsOne") {
  TempDir dir;
  auto bad = dir.write("bad.yaml", kInvalid);
  auto r = run_process({rmaflow_binary(), "validate", standard_return(), bad});
  CHECK(r.exit_code == 1);
  CHECK(r.out.find(standard_return() + ": ok") != std::string::npos);
  CHECK(r.out.find(bad + ":7:5: error[unknown-key]") != std::string::npos);
}

TEST_CASE("Cli.Validate.MissingFile") {
  TempDir dir;
  auto missing = dir.file("missing.yaml");
  auto r = run_process({rmaflow_binary(), "validate", missing});
  CHECK(r.exit_code == 1);
  CHECK(r.out.find(missing + ":1:1: error[io]: ") != std::string::npos);
}

// A workflow file past its bound is refused by its size, unread (8 GiB were read whole into
// memory before), and a FIFO is refused unopened (validate waited for a writer for good).
TEST_CASE("Cli.Validate.FilesThatCannotBeReadWhole") {
  TempDir dir;
  auto big = dir.write("big.yaml", "");
  REQUIRE(::truncate(big.c_str(), off_t{8} << 30) == 0);  // sparse
  auto fifo = dir.file("fifo.yaml");
  REQUIRE(::mkfifo(fifo.c_str(), 0644) == 0);
  auto r = run_process({rmaflow_binary(), "validate", big, fifo});
  CHECK(r.exit_code == 1);
  CHECK(r.out.find(big + ":1:1: error[yaml-too-large]: the file holds 8589934592 bytes, more "
                         "than the 1048576 a workflow file may hold") != std::string::npos);
  CHECK(r.out.find(fifo + ":1:1: error[io]: cannot read the workflow file " + fifo +
                   ": it is not a regular file") != std::string::npos);
}

TEST_CASE("Cli.Validate.YamlSyntaxError") {
  TempDir dir;
  auto file = dir.write("flow.yaml",
                        "workflow: t\nversion: 1\nstart: a\nsteps:\n  a:\n    action: x.y\n"
                        "    with: { id: ${ .input.id } }\n    next: b\n  b: { end: completed }\n");
  auto r = run_process({rmaflow_binary(), "validate", file});
  CHECK(r.exit_code == 1);
  CHECK(r.out.find(file + ":7:18: error[yaml-syntax]: ") != std::string::npos);
  CHECK(r.out.find("must be quoted") != std::string::npos);
}

TEST_CASE("Cli.Validate.JsonFormat") {
  TempDir dir;
  auto bad = dir.write("bad.yaml", kInvalid);
  auto r = run_process({rmaflow_binary(), "validate", "--format", "json", standard_return(), bad});
  CHECK(r.exit_code == 1);
  auto report = nlohmann::json::parse(r.out);
  REQUIRE(report.is_array());
  REQUIRE(report.size() == 2);
  CHECK(report[0]["file"] == standard_return());
  CHECK(report[0]["valid"] == true);
  CHECK(report[0]["workflow"] == "standard-return");
  CHECK(report[0]["version"] == 1);
  CHECK(report[0]["steps"] == 9);
  REQUIRE(report[0]["diagnostics"].size() == 1);
  CHECK(report[0]["diagnostics"][0]["severity"] == "warning");
  CHECK(report[1]["valid"] == false);
  REQUIRE(report[1]["diagnostics"].size() == 2);
  auto first = report[1]["diagnostics"][0];
  CHECK(first["file"] == bad);
  CHECK(first["line"] == 7);
  CHECK(first["column"] == 5);
  CHECK(first["severity"] == "error");
  CHECK(first["code"] == "unknown-key");
  CHECK(first["message"] == "unknown key \"retires\" in step \"a\"; did you mean \"retry\"?");

  auto valid = run_process({rmaflow_binary(), "validate", standard_return(), "--format=json"});
  CHECK(valid.exit_code == 0);
  CHECK(nlohmann::json::parse(valid.out)[0]["valid"] == true);
}

TEST_CASE("Cli.Validate.UsageErrorsExitTwo") {
  auto none = run_process({rmaflow_binary(), "validate"});
  CHECK(none.exit_code == 2);
  CHECK_FALSE(none.err.empty());
  auto format = run_process({rmaflow_binary(), "validate", "--format", "xml", standard_return()});
  CHECK(format.exit_code == 2);
  auto help = run_process({rmaflow_binary(), "validate", "--help"});
  CHECK(help.exit_code == 0);
  CHECK(help.out.find("--format") != std::string::npos);
}

TEST_CASE("Cli.Validate.StrictTurnsWarningsIntoFailures") {
  TempDir dir;
  auto file = dir.write("warn.yaml", kWarnsOnly);
  auto r = run_process({rmaflow_binary(), "validate", "--strict", file});
  CHECK(r.exit_code == 1);
  CHECK(r.out.find(file + ":7:19: warning[template-in-string]: ") != std::string::npos);
  CHECK(r.out.find(file + ": fails --strict (1 warning(s))\n") != std::string::npos);
  CHECK(r.out.find(": ok (") == std::string::npos);
  auto json = run_process({rmaflow_binary(), "validate", "--strict", "--format", "json", file});
  CHECK(json.exit_code == 1);
  CHECK(nlohmann::json::parse(json.out)[0]["valid"] == false);
  // Without warnings --strict changes nothing.
  auto clean = dir.write("clean.yaml", "workflow: t\nversion: 1\nstart: a\nsteps:\n  a: { end: completed }\n");
  CHECK(run_process({rmaflow_binary(), "validate", "--strict", clean}).exit_code == 0);
}

// The returns pack ships ready to run: every workflow in workflows/ loads with no error and no
// warning.
TEST_CASE("Cli.Validate.ShippedWorkflowsAreClean") {
  namespace fs = std::filesystem;
  std::vector<std::string> argv = {rmaflow_binary(), "validate", "--format", "json"};
  std::set<std::string> expected = {"advance-replacement.yaml", "instant-refund.yaml",
                                    "marketplace-case.yaml",    "return-review.yaml",
                                    "returnless-refund.yaml",   "standard-return.yaml",
                                    "vendor-repair.yaml",       "vendor-return.yaml",
                                    "warranty-repair.yaml"};
  for (const auto& entry : fs::directory_iterator(source_dir() + "/workflows")) {
    if (entry.path().extension() == ".yaml") argv.push_back(entry.path().string());
  }
  REQUIRE(argv.size() == 4 + expected.size());
  auto r = run_process(argv);
  INFO(r.out, r.err);
  CHECK(r.exit_code == 0);
  auto files = nlohmann::json::parse(r.out);
  REQUIRE(files.size() == expected.size());
  for (const auto& file : files) {
    CHECK(file["valid"] == true);
    CHECK(file["diagnostics"].empty());
    CHECK(expected.count(fs::path(file["file"].get<std::string>()).filename().string()) == 1);
  }
}

TEST_CASE("Cli.Validate.Issue12.MessagesThatQuoteBadBytesStayJson") {
  // yaml-cpp names the first byte of a character it cannot escape ("\ö"): the message must
  // still print as JSON (found by fuzzing; `--format json` ended in "unexpected error").
  rmaflow::testing::TempDir dir;
  auto file = dir.write("escape.yaml", "workflow: t\nversion: 1\ndescription: \"caf\\\xC3\xB6\"\n");
  auto r = run_process({rmaflow_binary(), "validate", "--format", "json", file});
  CHECK(r.exit_code == 1);
  auto out = nlohmann::json::parse(r.out);
  CHECK(out[0]["diagnostics"][0]["code"] == "yaml-syntax");
}
