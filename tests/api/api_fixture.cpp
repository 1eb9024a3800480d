#include "tests/api/api_fixture.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <deque>
#include <fstream>
#include <thread>

namespace rmaflow::testing {

const char* kReturnsWorkflow = R"(workflow: returns
version: 1
business_key: ${ .input.rma_id }
input:
  type: object
  required: [rma_id, amount]
  properties:
    rma_id: { type: string, minLength: 1 }
    amount: { type: number, minimum: 0 }
    fail: { type: boolean }
    annotate: { type: boolean }
start: authorize
steps:
  authorize:
    action: builtin.noop
    with: { rma: "${ .input.rma_id }" }
    result: authorization
    next: route
  route:
    switch:
      - if: .input.fail == true
        next: refund
      - if: .input.annotate == true
        next: await_note
    default: await_receipt
  await_note:
    wait: { signal: note, timeout: 30d }
    next: refund
  await_receipt:
    wait: { signal: warehouse.received, timeout: 30d }
    result: receipt
    next: refund
  refund:
    action: builtin.fail
    with: { code: ErpDown, times: "${ if .input.fail == true then 1 else 0 end }", retryable: false }
    retry: { max_attempts: 1 }
    result: refund
    next: done
  done: { end: completed }
)";

const char* kIntakeWorkflow = R"(workflow: intake
version: 1
business_key: ${ .input.rma_id }
start: receive
steps:
  receive:
    wait: { signal: warehouse.received, timeout: 30d }
    next: done
  done: { end: completed }
)";

const char* kHeldWorkflow = R"(workflow: held
version: 1
business_key: ${ .input.rma_id }
start: call
steps:
  call:
    action: slow.noop
    timeout: 2h
    next: done
  done: { end: completed }
)";

std::string slow_adapter(TempDir& dir, const std::string& latency) {
  return dir.write("adapters.yaml",
                   "adapters:\n  slow:\n    type: builtin\n    latency: " + latency + "\n");
}

ApiFixture::ApiFixture(WorkflowFiles files,
                       std::vector<std::string> extra_args)
    : db(dir.file("returns.db")),
      workflows(dir.path() + "/workflows"),
      auth(dir.file("tokens.yaml")),
      log(dir.file("server.log")),
      serve_args(std::move(extra_args)) {
  for (const auto& [name, yaml] : files) dir.write("workflows/" + name, yaml);
  for (const char* role : {"submitter", "viewer", "operator", "admin"}) {
    auto made = run_process(
        {rmaflow_binary(), "token", "add", "--auth", auth, "--name", role, "--role", role});
    REQUIRE_MESSAGE(made.exit_code == 0, made.err);
    auto token = made.out.substr(0, made.out.find('\n'));
    REQUIRE(token.rfind("rmf_", 0) == 0);
    tokens_[role] = token;
  }
  tokens_["bad"] = "rmf_this-token-was-never-issued";
  start();
}

void ApiFixture::start(const std::vector<std::string>& env) {
  server.reset();
  std::vector<std::string> args = {"--db", db, "--workflows", workflows, "--auth", auth};
  args.insert(args.end(), serve_args.begin(), serve_args.end());
  server = std::make_unique<ServerProcess>(args, env, log, files);
}

std::string ApiFixture::token(const std::string& role) const {
  auto it = tokens_.find(role);
  return it == tokens_.end() ? "" : it->second;
}

ApiReply ApiFixture::call(const std::string& method, const std::string& target,
                          const std::string& body, const std::string& role,
                          const std::string& content_type) {
  net::HttpRequest request;
  request.method = method;
  request.target = target;
  request.body = body;
  if (!body.empty() && !content_type.empty()) request.headers.set("Content-Type", content_type);
  if (auto t = token(role); !t.empty()) request.headers.set("Authorization", "Bearer " + t);
  auto result = client.request(net::HttpEndpoint{"127.0.0.1", server->port()}, request,
                               std::chrono::seconds(30));
  REQUIRE_MESSAGE(result.ok(), result.message);
  ApiReply reply;
  reply.status = result.response.status;
  reply.headers = result.response.headers;
  reply.text = result.response.body;
  reply.body = nlohmann::json::parse(reply.text, nullptr, false);
  if (reply.body.is_discarded()) reply.body = nullptr;
  return reply;
}

ApiReply ApiFixture::get(const std::string& target, const std::string& role) {
  return call("GET", target, "", role);
}

ApiReply ApiFixture::post(const std::string& target, const nlohmann::json& body,
                          const std::string& role) {
  return call("POST", target, body.dump(), role);
}

ApiReply ApiFixture::submit(const nlohmann::json& input, const std::string& workflow) {
  return post("/v1/instances", {{"workflow", workflow}, {"input", input}}, "submitter");
}

nlohmann::json ApiFixture::await_status(const std::string& id, const std::string& status) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  nlohmann::json last;
  while (std::chrono::steady_clock::now() < deadline) {
    last = get("/v1/instances/" + id).body;
    if (last.is_object() && last.value("status", "") == status) return last;
    std::this_thread::yield();
  }
  FAIL("instance ", id, " did not become ", status, "; last seen: ", last.dump(), "\n",
       server_state());
  return last;
}

nlohmann::json ApiFixture::await_job(const std::string& id) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  nlohmann::json last;
  while (std::chrono::steady_clock::now() < deadline) {
    last = get("/v1/jobs/" + id).body;
    if (last.is_object() && last.value("state", "running") != "running") return last;
    std::this_thread::yield();
  }
  FAIL("job ", id, " did not end; last seen: ", last.dump(), "\n", server_state());
  return last;
}

std::string ApiFixture::server_state() {
  std::ifstream in(log);
  std::deque<std::string> tail;
  for (std::string line; std::getline(in, line);) {
    tail.push_back(std::move(line));
    if (tail.size() > 40) tail.pop_front();
  }
  std::string out = "healthz: " + get("/healthz").text + "\nthe server's last log lines:\n";
  for (const auto& line : tail) out += line + "\n";
  return out;
}

void check_problem(const ApiReply& reply, int status, const std::string& type,
                   const std::optional<std::string>& pointer) {
  INFO("answer: ", reply.status, " ", reply.text);
  CHECK(reply.status == status);
  CHECK(reply.headers.get("content-type") == "application/problem+json");
  REQUIRE(reply.body.is_object());
  CHECK(reply.body.value("type", "") == "urn:rmaflow:problem:" + type);
  CHECK(reply.body.value("status", 0) == status);
  CHECK_FALSE(reply.body.value("title", "").empty());
  CHECK(reply.body.value("detail", "").size() > 10);
  if (pointer) CHECK(reply.body.value("pointer", "<none>") == *pointer);
}

nlohmann::json history(ApiFixture& api, const std::string& id) {
  auto reply = api.get("/v1/instances/" + id + "/history");
  REQUIRE(reply.status == 200);
  return reply.body["events"];
}

std::vector<nlohmann::json> events_of(const nlohmann::json& events, const std::string& type,
                                      const std::string& step) {
  std::vector<nlohmann::json> out;
  for (const auto& e : events)
    if (e.value("type", "") == type && (step.empty() || e.value("step", "") == step))
      out.push_back(e);
  return out;
}

}  // namespace rmaflow::testing
