// Pieces several subcommands share: reading files, loading a workflow directory, opening an
// engine or a database for queries.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "rmaflow/definition.hpp"
#include "rmaflow/engine.hpp"
#include "rmaflow/store.hpp"

namespace rmaflow::cli {

// The whole file. Throws Error(io) naming it.
std::string read_file(const std::string& path);

// The inputs a file holds: one JSON object, or an array of objects. Throws Error naming the
// file (and the element) when it is empty, not JSON, not objects, or nested more than 100
// levels deep.
std::vector<nlohmann::json> read_inputs(const std::string& path);

// Loads one workflow file. Throws DefinitionError carrying every diagnostic when it is invalid.
std::shared_ptr<const Definition> load_workflow(const std::string& file);

// Loads every *.yaml / *.yml in `dir` (not recursive). Throws DefinitionError carrying every
// diagnostic when any file is invalid, Error(io) when the directory is missing or empty,
// Error(conflict) when two files define the same workflow and version.
std::vector<std::shared_ptr<const Definition>> load_workflow_dir(const std::string& dir);

// load_workflow_dir(), printing each diagnostic of invalid files to stderr, then one line
// saying nothing was `done` ("run", "served"); nullopt then.
std::optional<std::vector<std::shared_ptr<const Definition>>> load_workflow_dir_reporting(
    const std::string& dir, const std::string& done);

// Every input the files hold, each named for messages: the file, or FILE[N] for the Nth of an
// array. Reads them all first, so that a bad file is reported before anything is started.
std::vector<std::pair<std::string, nlohmann::json>> read_named_inputs(
    const std::vector<std::string>& files);

// The engine on `db_path` (checked with check_db_path) with the adapters of `adapters_file`
// (builtin only when empty), the synchronous mode `sync` ("full" or "normal") and `clock`
// (default: the system clock); `on_commit` as EngineOptions::on_commit.
std::unique_ptr<Engine> open_engine(
    const std::string& db_path, const std::string& sync, const std::string& adapters_file,
    std::shared_ptr<Clock> clock = nullptr,
    std::function<void(const WriteBatch&, std::chrono::nanoseconds)> on_commit = {});

// An existing database, opened read-only for queries. Throws Error(not_found) when missing,
// Error(io) when the path is a directory.
std::unique_ptr<Store> open_for_queries(const std::string& db_path);

// Checks that `db_path` can hold a database the engine opens or creates: not a directory, in
// a directory that exists. Throws Error(io) naming the path otherwise; creates nothing.
void check_db_path(const std::string& db_path);

// Who an operator action is recorded as when --actor is not given: $USER, else "cli".
std::string default_actor();

// Parses "full" / "normal".
SyncMode parse_sync(const std::string& text);

}  // namespace rmaflow::cli
