// MockService: the simulated ERP, carrier and warehouse (adapters/sim) served over HTTP, the
// same systems and operations the sim adapter reaches in-process, so the HTTP adapter is
// tested against a real socket and the demo can run either way.
//
// Each system is served under /<its adapter name>, each operation on its route ("POST
// /carrier/labels", "DELETE /carrier/labels/{label_id}"). The JSON body and the {fields} of
// the path are the operation's input; the Idempotency-Key header is its key (required, but for
// queries). Answers:
//   200 and the JSON result                  success, and a replay of a key that succeeded
//   problem+json with the refusal's code     404 NotFound, 400 BadRequest, 422 other refusals
//   503 problem+json                         an injected failure (the call profile's fail_*)
// Every answer leaves after the call's simulated latency; a "late" call (timeout_*) is
// processed but answered only after `late_by`, longer than any caller waits.
//
// Thread-safety: handle() may be called from any thread.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "adapters/sim/sim_system.hpp"
#include "engine/net/http_server.hpp"

namespace rmaflow::mock {

class MockService {
 public:
  // `host` runs the latencies and outlives the service.
  MockService(std::vector<std::shared_ptr<sim::SimSystem>> systems, AdapterHost& host,
              Duration late_by);

  void handle(net::HttpRequest request, net::Responder respond);

  // Every route served, as "METHOD /system/path", for the start-up banner and tests.
  std::vector<std::string> routes() const;

 private:
  struct Match {
    sim::SimSystem* system = nullptr;
    const sim::OperationInfo* operation = nullptr;
    nlohmann::json params = nlohmann::json::object();
    bool path_known = false;  // some route has this path, with another method
  };
  Match match(const std::string& method, const std::string& path) const;

  std::vector<std::shared_ptr<sim::SimSystem>> systems_;
  AdapterHost& host_;
  Duration late_by_;
};

}  // namespace rmaflow::mock
