// The CLI as a client of a running server (--server / RMAFLOW_SERVER, --token / RMAFLOW_TOKEN),
// `rmaflow token`, and `rmaflow serve` itself: its usage errors and its graceful stop.
#include <doctest/doctest.h>

#include <csignal>
#include <future>
#include <sstream>

#include "tests/api/api_fixture.hpp"

using namespace rmaflow;
using namespace rmaflow::testing;
using json = nlohmann::json;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The real binary with the server and a role's token in its environment.
ProcessResult cli(ApiFixture& api, const std::string& role, std::vector<std::string> args) {
  args.insert(args.begin(), rmaflow_binary());
  return run_process(args, {"RMAFLOW_SERVER=" + api.server->url(), "RMAFLOW_TOKEN=" + api.token(role)});
}

// Exit code `code` and one sentence on stderr naming each culprit.
void check_sentence(const ProcessResult& r, int code, std::initializer_list<std::string> culprits) {
  INFO("stdout:\n", r.out, "\nstderr:\n", r.err);
  CHECK(r.exit_code == code);
  REQUIRE_FALSE(r.err.empty());
  CHECK(r.err.find('\n') == r.err.size() - 1);  // one line
  CHECK(r.err.rfind("rmaflow", 0) == 0);
  for (const auto& c : culprits) CHECK_MESSAGE(contains(r.err, c), "names ", c);
}

std::string started_id(const ProcessResult& r) {
  auto at = r.out.find("instance ");
  REQUIRE(at != std::string::npos);
  return r.out.substr(at + 9, 26);
}

}  // namespace

TEST_CASE("Cli.Server.StartQueryAndRepair") {
  ApiFixture api;
  auto input = R"({"rma_id": "RMA-1", "amount": 10})";
  auto started = cli(api, "submitter", {"start", "--workflow", "returns", "--input", input});
  INFO(started.err);
  REQUIRE(started.exit_code == 0);
  CHECK(contains(started.out, "started instance"));
  auto id = started_id(started);
  auto again = cli(api, "submitter", {"start", "--workflow", "returns", "--input", input});
  CHECK(again.exit_code == 0);
  CHECK(contains(again.out, "already started as instance " + id));
  api.await_status(id, "waiting");

  auto list = cli(api, "viewer", {"list", "--status", "waiting"});
  CHECK(list.exit_code == 0);
  CHECK(contains(list.out, id));
  CHECK(contains(list.out, "await_receipt"));
  auto listed = json::parse(cli(api, "viewer", {"list", "--format", "json"}).out)["items"];
  REQUIRE(listed.size() == 1);
  CHECK(listed[0]["id"] == id);
  auto show = cli(api, "viewer", {"show", id});
  CHECK(contains(show.out, "status       waiting"));
  CHECK(contains(cli(api, "viewer", {"history", id}).out, "instance_started"));
  CHECK(contains(show.out, "waiting for  signal warehouse.received until "));

  // A signal by hand, twice with one key: the second changes nothing.
  // (The instance waits for warehouse.received; a note is kept for later, as its workflow can
  // wait for one.)
  auto note = cli(api, "operator", {"signal", id, "note", "--data", R"({"x": 1})", "--key", "n-1"});
  CHECK(note.exit_code == 0);
  CHECK(contains(note.out, "accepted"));
  auto repeat = cli(api, "operator", {"signal", id, "note", "--key", "n-1"});
  CHECK(repeat.exit_code == 0);
  CHECK(contains(repeat.out, "accepted before"));

  // Each action through the server, audited with the token's name.
  auto patch = cli(api, "operator", {"patch", id, "--reason", "label note", "--patch", R"({"note": "ok"})"});
  CHECK(patch.exit_code == 0);
  CHECK(contains(patch.out, "patch applied to instance " + id));
  auto go = cli(api, "operator", {"goto", id, "done", "--reason", "parcel lost"});
  CHECK(go.exit_code == 0);
  CHECK(contains(go.out, "now completed"));
  auto history = api.get("/v1/instances/" + id + "/history").body["events"];
  int actions = 0;
  for (const auto& e : history) {
    if (e.value("type", "") != "operator_action") continue;
    ++actions;
    CHECK(e["data"].value("actor", "") == "operator");
  }
  CHECK(actions == 2);

  auto failing = started_id(cli(api, "submitter", {"start", "--workflow", "returns", "--input",
                                                   R"({"rma_id": "RMA-2", "amount": 1, "fail": true})"}));
  api.await_status(failing, "suspended");
  CHECK(cli(api, "operator", {"retry", failing, "--reason", "ERP back"}).exit_code == 0);
  api.await_status(failing, "completed");
  auto third = started_id(cli(api, "submitter", {"start", "--workflow", "returns", "--input",
                                                 R"({"rma_id": "RMA-3", "amount": 1, "fail": true})"}));
  api.await_status(third, "suspended");
  CHECK(cli(api, "operator", {"skip", third, "--reason", "done by hand", "--output", "{}"}).exit_code == 0);
  auto fourth = started_id(cli(api, "submitter", {"start", "--workflow", "returns", "--input",
                                                  R"({"rma_id": "RMA-4", "amount": 1, "fail": true})"}));
  api.await_status(fourth, "suspended");
  CHECK(cli(api, "admin", {"resolve", fourth, "--reason", "refunded in the ERP"}).exit_code == 0);
  auto fifth = started_id(cli(api, "submitter", {"start", "--workflow", "returns", "--input",
                                                 R"({"rma_id": "RMA-5", "amount": 1})"}));
  api.await_status(fifth, "waiting");
  auto cancel = cli(api, "operator", {"cancel", fifth, "--reason", "withdrawn"});
  CHECK(contains(cancel.out, "now cancelled"));
}

TEST_CASE("Cli.Server.RefusalsAreOneSentence") {
  ApiFixture api;
  check_sentence(cli(api, "viewer", {"show", "01NOSUCHINSTANCE0000000000"}), 1,
                 {"no instance 01NOSUCHINSTANCE0000000000"});
  check_sentence(cli(api, "bad", {"list"}), 1, {"refused the token"});
  check_sentence(cli(api, "viewer", {"retry", "01NOSUCH", "--reason", "x"}), 1,
                 {"viewer", "may not act"});
  check_sentence(cli(api, "submitter", {"start", "--workflow", "returns", "--input",
                                        R"({"rma_id": "R", "amount": -1})"}),
                 1, {"amount"});
  check_sentence(cli(api, "operator", {"retry", "X", "--reason", "x", "--actor", "mallory"}), 1,
                 {"--actor"});
  // Nothing listens: the server is named.
  auto down = run_process({rmaflow_binary(), "list", "--server", "http://127.0.0.1:1"});
  check_sentence(down, 1, {"http://127.0.0.1:1", "connection refused"});
  check_sentence(run_process({rmaflow_binary(), "list", "--server", "127.0.0.1:8080"}), 1,
                 {"http://"});
}

TEST_CASE("Cli.Server.NeedsADatabaseOrAServer") {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"list"}, {"show", "X"}, {"history", "X"}, {"retry", "X", "--reason", "r"},
        {"signal", "X", "go"}, {"deploy", "x.yaml"}}) {
    auto argv = args;
    argv.insert(argv.begin(), rmaflow_binary());
    auto r = run_process(argv);
    INFO(args[0], ": ", r.err);
    CHECK(r.exit_code == 2);
    CHECK(contains(r.err, "--db"));
    CHECK(contains(r.err, "--server"));
  }
  auto start = run_process({rmaflow_binary(), "start", "--workflow", "w", "--input", "{}"});
  CHECK(start.exit_code == 2);
  CHECK(contains(start.err, "--server"));
}

TEST_CASE("Cli.Server.DeployThroughTheServer") {
  ApiFixture api;
  std::string v2 = kReturnsWorkflow;
  v2.replace(v2.find("version: 1"), 10, "version: 2");
  auto file = api.dir.write("returns-v2.yaml", v2);
  auto deployed = cli(api, "admin", {"deploy", file});
  INFO(deployed.out, deployed.err);
  CHECK(deployed.exit_code == 0);
  CHECK(contains(deployed.out, "workflow returns version 2 deployed"));
  CHECK(api.get("/v1/workflows/returns").body.value("latest", 0) == 2);
  CHECK(contains(cli(api, "admin", {"deploy", file}).out, "unchanged"));
  // New starts use version 2 at once.
  auto r = api.submit({{"rma_id", "RMA-V2"}, {"amount", 1}});
  CHECK(r.body.value("version", 0) == 2);

  std::string clash = v2;
  clash.replace(clash.find("timeout: 30d"), 12, "timeout: 10d");
  auto clashing = api.dir.write("clash.yaml", clash);
  check_sentence(cli(api, "admin", {"deploy", clashing}), 1, {"version 2", "already deployed"});
  check_sentence(cli(api, "operator", {"deploy", file}), 1, {"may not deploy"});
  // Invalid files are reported as validate reports them, and nothing is sent.
  auto broken = api.dir.write("broken.yaml", "workflow: broken\nversion: 1\nstart: a\nsteps:\n  a:\n"
                                             "    action: builtin.noop\n    next: nowhere\n");
  auto refused = cli(api, "admin", {"deploy", broken});
  CHECK(refused.exit_code == 1);
  CHECK(contains(refused.err, "broken.yaml:7:"));
  CHECK(api.get("/v1/workflows/broken").status == 404);
}

TEST_CASE("Cli.Token.AddListRemove") {
  TempDir dir;
  auto file = dir.file("tokens.yaml");
  auto add = run_process({rmaflow_binary(), "token", "add", "--auth", file, "--name", "ops", "--role", "operator"});
  REQUIRE(add.exit_code == 0);
  auto token = add.out.substr(0, add.out.find('\n'));
  CHECK(token.rfind("rmf_", 0) == 0);
  auto stored = run_process({"/bin/cat", file}).out;
  CHECK_FALSE(contains(stored, token));  // only its hash is kept
  CHECK(contains(stored, "role: operator"));
  auto list = run_process({rmaflow_binary(), "token", "list", "--auth", file});
  CHECK(list.out == "ops\toperator\n");
  check_sentence(run_process({rmaflow_binary(), "token", "add", "--auth", file, "--name", "ops",
                              "--role", "viewer"}),
                 1, {"ops", "already"});
  CHECK(run_process({rmaflow_binary(), "token", "add", "--auth", file, "--name", "x", "--role",
                     "root"})
            .exit_code == 2);
  CHECK(run_process({rmaflow_binary(), "token", "remove", "--auth", file, "--name", "ops"}).exit_code == 0);
  CHECK(run_process({rmaflow_binary(), "token", "list", "--auth", file}).out.empty());
  check_sentence(run_process({rmaflow_binary(), "token", "remove", "--auth", file, "--name", "ops"}),
                 1, {"no token named ops"});
}

TEST_CASE("Cli.Serve.UsageAndRefusals") {
  TempDir dir;
  dir.write("workflows/returns.yaml", kReturnsWorkflow);
  auto wf = dir.path() + "/workflows";
  auto db = dir.file("r.db");
  auto serve = [&](std::vector<std::string> extra) {
    std::vector<std::string> argv = {rmaflow_binary(), "serve", "--db", db, "--workflows", wf};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return run_process(argv);
  };
  auto no_auth = serve({});
  CHECK(no_auth.exit_code == 2);
  CHECK(contains(no_auth.err, "--auth"));
  check_sentence(serve({"--no-auth", "--listen", "0.0.0.0:0"}), 1, {"loopback", "0.0.0.0"});
  check_sentence(serve({"--no-auth", "--listen", "localhost"}), 1, {"--listen"});
  check_sentence(serve({"--auth", dir.file("missing.yaml")}), 1, {"missing.yaml"});
  for (const char* bad : {"lots", "2TiB", "-1"}) {
    CAPTURE(bad);
    auto refused = serve({"--no-auth", "--keep-waiting-bytes", bad});
    CHECK(refused.exit_code != 0);
    CHECK(contains(refused.err, "--keep-waiting-bytes"));
  }
  dir.write("bad/broken.yaml", "workflow: broken\nversion: 1\n");
  auto broken = run_process({rmaflow_binary(), "serve", "--db", db, "--workflows", dir.path() + "/bad", "--no-auth"});
  CHECK(broken.exit_code == 1);
  CHECK(contains(broken.err, "broken.yaml:"));
}

TEST_CASE("Cli.Serve.StopsGracefullyOnSigterm") {
  ApiFixture api;
  std::vector<std::string> suspended;
  for (int i = 0; i < 3; ++i) {
    auto id = api.submit({{"rma_id", "RMA-S" + std::to_string(i)}, {"amount", 1}, {"fail", true}})
                  .body.value("id", "");
    api.await_status(id, "suspended");
    suspended.push_back(id);
  }
  // A bulk retry job at one a second is running when SIGTERM comes.
  auto job = api.post("/v1/jobs", {{"action", "retry"}, {"reason", "slowly"}, {"per_second", 1}},
                      "operator");
  REQUIRE_MESSAGE(job.status == 201, job.text);
  auto job_id = job.body.value("id", "");
  api.await_status(suspended[0], "completed");  // its first retry went through
  CHECK(api.server->stop(SIGTERM) == 0);
  auto log = run_process({"/bin/cat", api.log}).out;
  CHECK(contains(log, "finishing requests in flight"));
  CHECK(contains(log, "stopped"));

  // The job is stored: the next server goes on where it stood and retries each instance once.
  api.start();
  CHECK(api.get("/v1/jobs/" + job_id).body.value("applied", 0) >= 1);
  auto ended = api.await_job(job_id);
  CHECK(ended.value("state", "") == "finished");
  CHECK(ended.value("applied", 0) == 3);
  for (const auto& id : suspended) {
    int retries = 0;
    for (const auto& e : events_of(history(api, id), "operator_action"))
      retries += e["data"].value("job", "") == job_id;
    CHECK(retries == 1);
  }
}

// `rmaflow start` takes the files `rmaflow run` takes: elements that name their workflow
// ({workflow, input, business_key?}) and, with --workflow, bare inputs.
TEST_CASE("Cli.Server.Issue11.StartTakesRunsInputFiles") {
  ApiFixture api;
  auto file = api.dir.write("day.json", R"([
    {"workflow": "returns", "input": {"rma_id": "RMA-1", "amount": 10}},
    {"workflow": "returns", "input": {"rma_id": "RMA-2", "amount": 5}, "business_key": "K-2"}
  ])");
  auto started = cli(api, "submitter", {"start", file});
  INFO("stdout:\n", started.out, "\nstderr:\n", started.err);
  CHECK(started.exit_code == 0);
  CHECK(contains(started.out, file + "[1]: started instance "));
  CHECK(contains(started.out, file + "[2]: started instance "));
  CHECK(api.get("/v1/instances?business_key=K-2").body["items"].size() == 1);

  // A bare input names no workflow: say so, start nothing.
  auto bare = api.dir.write("bare.json", R"({"rma_id": "RMA-3", "amount": 1})");
  check_sentence(cli(api, "submitter", {"start", bare}), 1, {bare, "--workflow"});
  CHECK(api.get("/v1/instances?business_key=RMA-3").body["items"].empty());
  auto with = cli(api, "submitter", {"start", "--workflow", "returns", bare});
  CHECK(with.exit_code == 0);
  CHECK(contains(with.out, bare + ": started instance "));
}

// Issue 16: bulk jobs from the CLI: a dry run, a job started, its progress and items, refusals.
TEST_CASE("Cli.Server.Issue16.JobStartShowListCancel") {
  ApiFixture api;
  std::vector<std::string> suspended;
  for (int i = 0; i < 3; ++i) {
    auto id = api.submit({{"rma_id", "RMA-JC" + std::to_string(i)}, {"amount", 1}, {"fail", true}})
                  .body.value("id", "");
    api.await_status(id, "suspended");
    suspended.push_back(id);
  }
  auto dry = cli(api, "operator", {"job", "start", "retry", "--dry-run"});
  INFO(dry.out, dry.err);
  REQUIRE(dry.exit_code == 0);
  for (const auto& id : suspended) CHECK(contains(dry.out, id));
  CHECK(contains(dry.out, "would touch 3 instance(s)"));

  check_sentence(cli(api, "operator", {"job", "start", "retry"}), 1, {"--reason"});
  check_sentence(cli(api, "operator", {"job", "start", "signal", "--reason", "x"}), 1,
                 {"--signal"});
  check_sentence(cli(api, "viewer", {"job", "start", "retry", "--reason", "x"}), 1, {});
  auto usage = cli(api, "operator", {"job", "start", "explode", "--reason", "x"});
  CHECK(usage.exit_code == 2);

  auto started = cli(api, "operator",
                     {"job", "start", "retry", "--reason", "ERP back", "--workflow", "returns",
                      "--per-second", "50"});
  INFO(started.out, started.err);
  REQUIRE(started.exit_code == 0);
  auto at = started.out.find("job-");
  REQUIRE(at != std::string::npos);
  auto job_id = started.out.substr(at, started.out.find(' ', at) - at);
  auto ended = api.await_job(job_id);
  CHECK(ended.value("applied", 0) == 3);
  auto shown = cli(api, "viewer", {"job", "show", job_id, "--items"});
  REQUIRE(shown.exit_code == 0);
  CHECK(contains(shown.out, "finished retry: 3 applied, 0 refused"));
  for (const auto& id : suspended) CHECK(contains(shown.out, id));
  auto listed = cli(api, "viewer", {"job", "list"});
  REQUIRE(listed.exit_code == 0);
  CHECK(contains(listed.out, job_id));
  check_sentence(cli(api, "operator", {"job", "cancel", job_id, "--reason", "late"}), 1,
                 {job_id, "finished"});
  check_sentence(cli(api, "viewer", {"job", "show", "job-nosuch"}), 1, {"job-nosuch"});
  // An id with terminal control in it comes back in the server's sentence: shown as text.
  auto hostile = cli(api, "viewer", {"job", "show", "job-\x1b[2J"});
  check_sentence(hostile, 1, {"job-\\x1b[2J"});
  CHECK(hostile.err.find('\x1b') == std::string::npos);
}

// rmaflow start against a server that runs as many instances as it may: the start is answered
// busy (nothing of it stored), and the CLI sends it again after the answer's Retry-After (5 s)
// until the server has room, telling each wait on stderr. The instance ahead of it holds its
// call for 4 s.
TEST_CASE("Cli.Server.StartWaitsOutABusyServer") {
  TempDir adapters_dir;
  ApiFixture api({{"held.yaml", kHeldWorkflow}},
                 {"--adapters", slow_adapter(adapters_dir, "4s"), "--max-running", "1"});
  REQUIRE(api.submit({{"rma_id", "R1"}}, "held").status == 201);
  auto started =
      cli(api, "submitter", {"start", "--workflow", "held", "--input", R"({"rma_id": "R2"})"});
  INFO(started.err);
  CHECK(started.exit_code == 0);
  CHECK(contains(started.out, "started instance"));
  CHECK(contains(started.err,
                 "rmaflow: --input: the engine runs as many instances at once as it "
                 "may (1); start held again shortly; sending it again in 5 s\n"));
}
