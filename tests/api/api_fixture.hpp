// Test fixture for the API: the real `rmaflow serve` on a fresh database and a loopback port,
// one token per role (made with `rmaflow token add`), and real HTTP calls to it.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/net/http_client.hpp"
#include "tests/support/process.hpp"
#include "tests/support/server_process.hpp"

namespace rmaflow::testing {

// A return: authorize, then (input.fail) a refund that fails once and suspends, or a wait for
// warehouse.received before the refund (or, with input.annotate, for a note). The input schema
// needs rma_id and amount.
extern const char* kReturnsWorkflow;
// Intake: one wait for warehouse.received, business key rma_id; what submissions under load
// and faults create.
extern const char* kIntakeWorkflow;

// One call to the adapter `slow`, business key rma_id: an instance that runs (is held in memory)
// for as long as slow_adapter() makes the call take.
extern const char* kHeldWorkflow;
// An adapters file in `dir` whose builtin adapter `slow` answers after `latency` ("1h").
std::string slow_adapter(TempDir& dir, const std::string& latency);

// Workflow files to serve: file name -> YAML.
using WorkflowFiles = std::map<std::string, std::string>;

struct ApiReply {
  int status = 0;
  net::HttpHeaders headers;
  std::string text;
  nlohmann::json body;  // null when the body is not JSON
};

class ApiFixture {
 public:
  // Serves `workflows` (file name -> YAML) with `serve_args` added (e.g. --max-body 4096).
  explicit ApiFixture(WorkflowFiles workflows = {{"returns.yaml", kReturnsWorkflow}},
                      std::vector<std::string> serve_args = {});

  // Starts the server (again) on the same database; `env` as for the process.
  void start(const std::vector<std::string>& env = {});
  // The token of a role: submitter, viewer, operator, admin; "" for none, "bad" for an unknown one.
  std::string token(const std::string& role) const;

  ApiReply call(const std::string& method, const std::string& target, const std::string& body,
                const std::string& role, const std::string& content_type = "application/json");
  ApiReply get(const std::string& target, const std::string& role = "viewer");
  ApiReply post(const std::string& target, const nlohmann::json& body,
                const std::string& role = "admin");

  // POST /v1/instances for `input` as the submitter.
  ApiReply submit(const nlohmann::json& input, const std::string& workflow = "returns");
  // The instance, polled until `status` (up to 20 s): instances move on the engine's thread.
  nlohmann::json await_status(const std::string& id, const std::string& status);
  // The bulk job, polled until it has ended (up to 60 s).
  nlohmann::json await_job(const std::string& id);
  // What a failed wait shows of the server: its /healthz and the last lines of its log.
  std::string server_state();

  TempDir dir;
  std::string db;
  std::string workflows;
  std::string auth;
  std::string log;  // the server's stderr
  std::vector<std::string> serve_args;
  OpenFilesLimit files;  // the server's limit on open files, when set (for the next start)
  std::unique_ptr<ServerProcess> server;
  net::HttpClient client;

 private:
  std::map<std::string, std::string> tokens_;
};

// The instance's history (GET /v1/instances/{id}/history): its events, oldest first.
nlohmann::json history(ApiFixture& api, const std::string& id);
// The events of `type` in a history (at `step`, when given).
std::vector<nlohmann::json> events_of(const nlohmann::json& events, const std::string& type,
                                      const std::string& step = "");

// Asserts `reply` is a problem+json answer with this status and type (and pointer, if given).
void check_problem(const ApiReply& reply, int status, const std::string& type,
                   const std::optional<std::string>& pointer = std::nullopt);

}  // namespace rmaflow::testing
