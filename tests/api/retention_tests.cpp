// Issue 16: retention. `rmaflow db prune` archives or deletes finished instances that ended
// before a cutoff while the real server serves the same file: the server goes on, unfinished
// instances are untouched, the archive is an rmaflow database of its own that checks, the
// operator actions stay in the audit trail (or go to a JSON Lines file), and a prune killed
// between archiving and deleting loses nothing: the next one finishes it.
#include <doctest/doctest.h>

#include <algorithm>
#include <csignal>
#include <fstream>
#include <set>

#include <fmt/format.h>

#include "tests/api/api_fixture.hpp"

using namespace rmaflow;
using namespace rmaflow::testing;
using json = nlohmann::json;

namespace {

const char* kQuick = R"(workflow: quick
version: 1
business_key: ${ .input.rma_id }
start: authorize
steps:
  authorize: { action: builtin.noop, result: authorization, next: receive }
  receive:
    switch:
      - if: .input.hold == true
        next: await_receipt
    default: done
  await_receipt:
    wait: { signal: warehouse.received, timeout: 30d }
    next: done
  done: { end: completed }
)";

ProcessResult run_rmaflow(std::vector<std::string> args, std::vector<std::string> env = {}) {
  args.insert(args.begin(), rmaflow_binary());
  return run_process(args, env);
}

// The instances of a database file, by id, from `rmaflow list`.
std::set<std::string> ids_in(const std::string& db) {
  auto listed = run_rmaflow({"list", "--db", db, "--format", "json", "--limit", "1000"});
  REQUIRE_MESSAGE(listed.exit_code == 0, listed.err);
  std::set<std::string> out;
  auto page = json::parse(listed.out);
  for (const auto& row : page["items"]) out.insert(row["id"].get<std::string>());
  return out;
}

void check_sound(const std::string& db) {
  auto checked = run_rmaflow({"db", "check", "--db", db});
  CHECK_MESSAGE(checked.exit_code == 0, checked.out, checked.err);
}

struct Served {
  ApiFixture api{WorkflowFiles{{"quick.yaml", kQuick}, {"returns.yaml", kReturnsWorkflow}}};
  std::vector<std::string> finished;
  std::vector<std::string> held;
  std::string failed;  // failed by an operator's resolve: an audit record

  explicit Served(int n) {
    for (int i = 0; i < n; ++i) finished.push_back(start({{"rma_id", fmt::format("RMA-F{}", i)}}));
    for (int i = 0; i < 3; ++i) {
      held.push_back(start({{"rma_id", fmt::format("RMA-H{}", i)}, {"hold", true}}));
    }
    auto reply = api.submit({{"rma_id", "RMA-X"}, {"amount", 10}, {"fail", true}});
    REQUIRE_MESSAGE(reply.status == 201, reply.text);
    failed = reply.body.value("id", "");
    api.await_status(failed, "suspended");
    auto resolved = api.post("/v1/instances/" + failed + "/actions/resolve",
                             {{"reason", "refunded by hand in the ERP"}}, "operator");
    REQUIRE_MESSAGE(resolved.status == 200, resolved.text);
    finished.push_back(failed);
    for (const auto& id : finished) {
      auto status = api.get("/v1/instances/" + id).body.value("status", "");
      if (status != "failed") api.await_status(id, "completed");
    }
    for (const auto& id : held) api.await_status(id, "waiting");
  }

  std::string start(const json& input) {
    auto reply = api.submit(input, "quick");
    REQUIRE_MESSAGE(reply.status == 201, reply.text);
    return reply.body.value("id", "");
  }

  json audit() { return api.get("/v1/audit?limit=100").body; }
};

}  // namespace

TEST_CASE("Api.Retention.Issue16.ArchivesFinishedInstancesWhileServing") {
  Served s(40);
  std::string archive = s.api.dir.file("archive.db");
  auto itself =
      run_rmaflow({"db", "prune", "--db", s.api.db, "--older-than", "0s", "--archive", s.api.db});
  CHECK(itself.exit_code != 0);
  CHECK(itself.err.find("is the database itself") != std::string::npos);

  auto dry = run_rmaflow(
      {"db", "prune", "--db", s.api.db, "--older-than", "0s", "--archive", archive, "--dry-run"});
  REQUIRE_MESSAGE(dry.exit_code == 0, dry.err);
  CHECK(dry.out.find("would prune 41 instance(s)") != std::string::npos);
  CHECK(ids_in(s.api.db).size() == 44);  // a dry run changes nothing

  auto pruned = run_rmaflow({"db", "prune", "--db", s.api.db, "--older-than", "0s", "--archive",
                             archive, "--batch", "7"});
  REQUIRE_MESSAGE(pruned.exit_code == 0, pruned.err);
  CHECK(pruned.out.find("pruned 41 instance(s)") != std::string::npos);
  CHECK(pruned.out.find("1 operator action(s) kept") != std::string::npos);

  // The server goes on: the finished are gone from it, the held ones go on to the end, a new
  // one starts and completes.
  for (const auto& id : s.finished) CHECK(s.api.get("/v1/instances/" + id).status == 404);
  for (const auto& id : s.held) {
    auto sent = s.api.post("/v1/instances/" + id + "/signals/warehouse.received", {{"payload", 1}},
                           "submitter");
    CHECK_MESSAGE(sent.status < 300, sent.text);
    s.api.await_status(id, "completed");
  }
  s.api.await_status(s.start({{"rma_id", "RMA-NEW"}}), "completed");

  // The archive holds each finished one, whole; both files check.
  auto archived = ids_in(archive);
  CHECK(archived == std::set<std::string>(s.finished.begin(), s.finished.end()));
  auto history = run_rmaflow({"history", "--db", archive, "--format", "json", s.failed});
  REQUIRE_MESSAGE(history.exit_code == 0, history.err);
  auto events = json::parse(history.out);
  CHECK(events.back()["type"] == "instance_ended");
  for (std::size_t i = 0; i < events.size(); ++i) CHECK(events[i]["seq"] == int(i) + 1);
  check_sound(s.api.db);
  check_sound(archive);

  // The operator's resolve is still in the served audit trail.
  CHECK(s.audit().dump().find(s.failed) != std::string::npos);
  // Nothing is left to prune but what finished since.
  auto again =
      run_rmaflow({"db", "prune", "--db", s.api.db, "--older-than", "1d", "--archive", archive});
  CHECK(again.out.find("pruned 0 instance(s)") != std::string::npos);
}

TEST_CASE("Api.Crash.Issue16.APruneKilledBetweenArchiveAndDeleteIsFinishedByTheNext") {
  Served s(20);
  std::string archive = s.api.dir.file("archive.db");
  std::string exported = s.api.dir.file("audit.jsonl");
  auto killed = run_rmaflow({"db", "prune", "--db", s.api.db, "--older-than", "0s", "--archive",
                             archive, "--batch", "5", "--export-audit", exported},
                            {"RMAFLOW_KILL_AT=prune.archived:2"});
  CHECK(killed.signal == SIGKILL);
  // The second batch is in both files now, the first only in the archive.
  auto served = ids_in(s.api.db);
  auto archived = ids_in(archive);
  CHECK(archived.size() == 10);
  CHECK(served.size() == 24 - 5);

  auto finished = run_rmaflow({"db", "prune", "--db", s.api.db, "--older-than", "0s", "--archive",
                               archive, "--batch", "5", "--export-audit", exported});
  REQUIRE_MESSAGE(finished.exit_code == 0, finished.err);
  CHECK(finished.out.find("pruned 16 instance(s)") != std::string::npos);
  CHECK(ids_in(archive) == std::set<std::string>(s.finished.begin(), s.finished.end()));
  CHECK(ids_in(s.api.db) == std::set<std::string>(s.held.begin(), s.held.end()));
  check_sound(s.api.db);
  check_sound(archive);

  // Exported, not kept: the resolve is in the file and no longer in the served audit trail.
  std::ifstream in(exported);
  std::vector<json> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(json::parse(line));
  REQUIRE(lines.size() == 1);
  CHECK(lines[0]["instance_id"] == s.failed);
  CHECK(lines[0]["data"]["action"] == "resolve");
  CHECK(lines[0]["data"]["reason"] == "refunded by hand in the ERP");
  CHECK(s.audit().dump().find(s.failed) == std::string::npos);
}

TEST_CASE("Api.Retention.Issue16.BadArgumentsAreRefusedWithASentence") {
  TempDir dir;
  std::string db = dir.file("rma.db");
  auto refused = [&](std::vector<std::string> args, const std::string& says) {
    args.insert(args.begin(), {"db", "prune", "--db", db});
    auto r = run_rmaflow(args);
    INFO(r.err);
    CHECK(r.exit_code != 0);
    CHECK(r.signal == 0);
    CHECK(r.out.empty());
    CHECK(r.err.find(says) != std::string::npos);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  };
  refused({"--older-than", "90d", "--delete"}, "no database at");
  refused({"--older-than", "soon", "--delete"}, "not a duration");
  refused({"--older-than", "90d"}, "--archive FILE");
  refused({"--older-than", "90d", "--delete", "--archive", dir.file("a.db")}, "one of the two");
}
