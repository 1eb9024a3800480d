// What the API's handlers share: the engine, read connections, metrics, who may call, limits.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "engine/api/auth.hpp"
#include "engine/api/definition_cache.hpp"
#include "engine/api/drawings.hpp"
#include "engine/api/instance_page.hpp"
#include "engine/api/metrics.hpp"
#include "engine/api/read_stores.hpp"
#include "engine/observe/observability.hpp"
#include "rmaflow/engine.hpp"

namespace rmaflow::api {

class EndWaits;

struct ApiContext {
  ApiContext(Engine& engine, std::string db_path, std::optional<Authenticator> auth,
             Drawings::Options drawing)
      : engine(engine),
        reads(std::move(db_path)),
        auth(std::move(auth)),
        drawings(std::move(drawing)) {}

  Engine& engine;
  ReadStores reads;
  // Shared with the answers still out: an engine callback may answer after the server is gone.
  std::shared_ptr<Metrics> metrics = std::make_shared<Metrics>();
  std::optional<Authenticator> auth;  // none: every caller is "anonymous", an admin
  DefinitionCache definitions;
  Drawings drawings;                  // graphs as SVG, laid out off the I/O threads
  std::size_t max_page = kMaxPage;    // the largest `limit` a list takes
  std::string workflows_dir = ".";    // where input schema paths of deployed YAML resolve
  std::shared_ptr<const AdapterRegistry> adapters;  // to check a deploy's actions; may be null
  std::function<bool()> engine_running = [] { return true; };
  // What watches the engine (transition log, metrics, traces); null when nothing does.
  std::shared_ptr<observe::Observability> observability;
  // Requests waiting for an instance's end (?wait=); null: such requests answer at once.
  EndWaits* end_waits = nullptr;
};

}  // namespace rmaflow::api
