// ApiServer: the HTTP API of `rmaflow serve` (docs/api.md) in front of a running engine.
//
// Submissions, signals and operator actions go to the engine and are answered once the engine
// has committed them; queries read through their own read-only connections and never wait for
// the engine's thread. The engine must run (Engine::run() on its own thread) while the server
// serves; stop() the server before stopping the engine, so that requests in flight still get
// their commits.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/api/auth.hpp"
#include "engine/api/drawings.hpp"
#include "engine/api/instance_page.hpp"
#include "engine/net/http_server.hpp"
#include "engine/observe/observability.hpp"
#include "rmaflow/engine.hpp"

namespace rmaflow::api {

struct ApiOptions {
  net::HttpServerOptions http;  // where to listen, limits, timeouts (error_response is the API's)
  std::string db_path;          // the engine's database, for read-only queries
  // Who may call. None: no authentication, every caller acts as "anonymous", an admin (only
  // sensible on a loopback address).
  std::optional<std::vector<TokenEntry>> tokens;
  std::string workflows_dir = ".";  // where a deployed workflow's input schema path resolves
  // The engine's adapters, for a deploy's dry run to check actions against (a real deploy is
  // checked by the engine); none: not checked in a dry run.
  std::shared_ptr<const AdapterRegistry> adapters;
  std::size_t max_page = kMaxPage;  // the largest page a list answers
  std::function<bool()> engine_running = [] { return true; };  // for /healthz and /metrics
  // Definitions the caller has loaded already (what it deployed); queries reuse them.
  std::vector<std::shared_ptr<const Definition>> definitions;
  // What watches the engine (given to it as EngineOptions::on_commit): /v1/logging steers its
  // transition log, /metrics reads its measurements. Null: neither.
  std::shared_ptr<observe::Observability> observability;
  // How graphs are laid out as SVG: by this binary's layout-graph command, bounded.
  Drawings::Options drawings;
};

class ApiServer {
 public:
  ApiServer(Engine& engine, ApiOptions options);
  ~ApiServer();

  // Listens. Throws Error(io) naming the address when it cannot.
  void start();
  std::uint16_t port() const;
  // Stops accepting, lets requests in flight finish.
  void stop();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace rmaflow::api
