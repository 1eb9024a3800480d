// Where a client command works: offline on a database file (--db), or as a client of a running
// server (--server, or the environment's RMAFLOW_SERVER, with --token or RMAFLOW_TOKEN).
#pragma once

#include <string>

#include <CLI/CLI.hpp>

namespace rmaflow::cli {

struct Endpoint {
  std::string db;
  std::string server;
  std::string token;

  bool offline() const { return !db.empty(); }
};

// Adds --db, --server and --token to `cmd`; `offline` says what --db does there.
void add_endpoint_options(CLI::App* cmd, Endpoint& endpoint, const std::string& offline);
// Adds --server and --token only: the command needs a running server.
void add_server_options(CLI::App* cmd, Endpoint& endpoint);

// Fills the server and token from the environment where the options left them empty. Throws
// CLI::ValidationError (a usage error) when neither a database (if `db_allowed`) nor a server
// is given.
void resolve(Endpoint& endpoint, bool db_allowed = true);

}  // namespace rmaflow::cli
