#include "engine/cli/endpoint.hpp"

#include <cstdlib>

namespace rmaflow::cli {

namespace {

std::string from_env(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? value : "";
}

}  // namespace

void add_server_options(CLI::App* cmd, Endpoint& endpoint) {
  cmd->add_option("--server", endpoint.server,
                  "A running rmaflow server, e.g. http://127.0.0.1:8080 (default: $RMAFLOW_SERVER)");
  cmd->add_option("--token", endpoint.token, "Bearer token for the server (default: $RMAFLOW_TOKEN)");
}

void add_endpoint_options(CLI::App* cmd, Endpoint& endpoint, const std::string& offline) {
  cmd->add_option("--db", endpoint.db, offline);
  add_server_options(cmd, endpoint);
}

void resolve(Endpoint& endpoint, bool db_allowed) {
  if (db_allowed && !endpoint.db.empty()) return;  // an explicit database beats the environment
  if (endpoint.server.empty()) endpoint.server = from_env("RMAFLOW_SERVER");
  if (endpoint.token.empty()) endpoint.token = from_env("RMAFLOW_TOKEN");
  if (endpoint.server.empty()) {
    throw CLI::ValidationError(db_allowed
                                   ? "needs --db FILE to work on a database, or --server URL (or "
                                     "RMAFLOW_SERVER) to ask a running server"
                                   : "needs --server URL (or RMAFLOW_SERVER): a running server");
  }
}

}  // namespace rmaflow::cli
