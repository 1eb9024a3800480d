// Pieces several subcommands share: reading files, loading a workflow directory, opening an
// engine or a database for queries.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rmaflow/definition.hpp"
#include "rmaflow/engine.hpp"
#include "rmaflow/store.hpp"

namespace rmaflow::cli {

// The whole file, refused before it is read when it holds more than `max_bytes`. Throws
// Error(io) naming it, Error(invalid_argument) naming `what` ("an input file") and the bound.
std::string read_file(const std::string& path, std::size_t max_bytes, std::string_view what);

// The most an input file may hold: many starts' inputs, each as large as the API takes (1 MiB);
// parsed whole, in memory, it takes about ten times that.
inline constexpr std::size_t kMaxInputFileBytes = std::size_t{64} << 20;

// The inputs a file holds: one JSON object, or an array of objects. Throws Error naming the
// file (and the element) when it is empty, larger than kMaxInputFileBytes, not JSON, not
// objects, or nested more than 100 levels deep.
std::vector<nlohmann::json> read_inputs(const std::string& path);

// Loads one workflow file. Throws DefinitionError carrying every diagnostic when it is invalid.
std::shared_ptr<const Definition> load_workflow(const std::string& file);

// Loads every *.yaml / *.yml in `dir` (not recursive). Throws DefinitionError carrying every
// diagnostic when any file is invalid, Error(io) when the directory is missing or empty,
// Error(conflict) when two files define the same workflow and version. A file whose text the
// database `db` (when given and present) already holds as deployed was checked then: its jq
// programs compile when they first run, so that a restart does not compile them all again.
std::vector<std::shared_ptr<const Definition>> load_workflow_dir(const std::string& dir,
                                                                 const std::string& db = {});

// load_workflow_dir(), printing each diagnostic of invalid files to stderr, then one line
// saying nothing was `done` ("run", "served"); nullopt then.
std::optional<std::vector<std::shared_ptr<const Definition>>> load_workflow_dir_reporting(
    const std::string& dir, const std::string& done, const std::string& db = {});

// Every input the files hold, each named for messages: the file, or FILE[N] for the Nth of an
// array. Reads them all first, so that a bad file is reported before anything is started.
std::vector<std::pair<std::string, nlohmann::json>> read_named_inputs(
    const std::vector<std::string>& files);

// One input of a file given to `run` or `start`: a bare start input (for the command's
// --workflow), or a start request {workflow, input, business_key?} as the HTTP API takes it.
struct StartInput {
  std::string name;  // the file, and the element within it
  StartRequest request;
  bool names_workflow = false;
};

// One JSON object read as above; `name` names it in messages.
StartInput read_start_input(std::string name, nlohmann::json doc);

// The start inputs the files hold (read_named_inputs), each read as above. Throws Error naming
// the element when its business_key is not a string.
std::vector<StartInput> read_start_inputs(const std::vector<std::string>& files);

// The adapters `adapters_file` configures (builtin only when empty). Throws Error naming the
// file and what is wrong with it.
std::shared_ptr<AdapterRegistry> load_adapters(const std::string& adapters_file);

// Checks every definition's actions against `adapters` (check_actions). When some cannot run,
// prints each as a diagnostic to stderr, then one sentence saying nothing was `done`, and
// returns false.
bool check_actions_reporting(const std::vector<std::shared_ptr<const Definition>>& definitions,
                             const AdapterRegistry& adapters, const std::string& adapters_file,
                             const std::string& done);

// The engine on `db_path` (checked with check_db_path) with `adapters`, the synchronous mode
// `sync` ("full" or "normal") and `clock` (default: the system clock); `on_commit` as
// EngineOptions::on_commit.
// serve --node and --lease (EngineOptions::node and lease); `limits`: serve --max-running,
// --max-running-bytes and --keep-waiting-bytes (EngineOptions::max_running, max_running_bytes
// and keep_waiting_bytes).
struct NodeOptions {
  std::string name;
  Duration lease = Duration(10'000);
};
struct RunningLimits {
  std::size_t instances = 0;
  std::uint64_t bytes = 0;
  std::uint64_t keep_waiting_bytes = EngineOptions().keep_waiting_bytes;
};

std::unique_ptr<Engine> open_engine(
    const std::string& db_path, const std::string& sync, std::shared_ptr<AdapterRegistry> adapters,
    std::shared_ptr<Clock> clock = nullptr,
    std::function<void(const WriteBatch&, std::chrono::nanoseconds)> on_commit = {},
    double trace_sample = 1.0, NodeOptions node = {}, RunningLimits limits = {});

// Gives an existing empty file the database schema, as every command that opens a database
// takes an empty file for a new database (a file made with `touch`, or by a deployment tool).
void initialise_if_empty(const std::string& db_path);

// An existing database, opened read-only for queries (an empty file becomes an empty database
// first). Throws Error(not_found) when missing, Error(io) when the path is a directory.
std::unique_ptr<Store> open_for_queries(const std::string& db_path);

// A positive duration option ("10s", "500ms") of at most `most`. Throws Error(invalid_argument)
// naming `option`.
std::chrono::milliseconds duration_option(const char* option, const std::string& text,
                                          std::chrono::milliseconds most = std::chrono::hours(24 *
                                                                                              365));

// Checks that `db_path` can hold a database the engine opens or creates: not a directory, in
// a directory that exists. Throws Error(io) naming the path otherwise; creates nothing.
void check_db_path(const std::string& db_path);

// Whether an engine (rmaflow run or serve) holds `db_path` now.
bool engine_running(const std::string& db_path);

// Who an operator action is recorded as when --actor is not given: $USER, else "cli".
std::string default_actor();

// Parses "full" / "normal".
SyncMode parse_sync(const std::string& text);

}  // namespace rmaflow::cli
