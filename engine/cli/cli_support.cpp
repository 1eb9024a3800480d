#include "engine/cli/cli_support.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "engine/store/connection.hpp"
#include "engine/support/file_text.hpp"
#include "engine/support/strict_json.hpp"
#include "rmaflow/errors.hpp"
#include "rmaflow/store.hpp"
#include "rmaflow/time.hpp"

namespace rmaflow::cli {

namespace fs = std::filesystem;

std::string read_file(const std::string& path, std::size_t max_bytes, std::string_view what) {
  auto file = read_file_text(path, max_bytes);
  if (file.fault == FileText::Fault::too_large) {
    throw Error(Errc::invalid_argument,
                fmt::format("{} {}", path, past_bound(file.size, max_bytes, what)));
  }
  if (!file.read()) throw Error(Errc::io, unread_sentence(path, file));
  return std::move(file.text);
}

std::vector<nlohmann::json> read_inputs(const std::string& path) {
  auto text = read_file(path, kMaxInputFileBytes, "an input file");
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) {
    throw Error(
        Errc::invalid_argument,
        fmt::format("{} is empty; it must hold a JSON object or an array of objects", path));
  }
  // Deeper nesting than any return needs would exhaust the stack of the recursive code that
  // later walks the input (jq conversion, hashing), so it is refused while parsing, with keys
  // given twice (strict_json.hpp), as the API refuses them.
  nlohmann::json doc = parse_strict_json(text, path, kMaxJsonDepth);
  if (doc.is_object()) return {doc};
  if (doc.is_array()) {
    for (std::size_t i = 0; i < doc.size(); ++i) {
      if (!doc[i].is_object()) {
        throw Error(Errc::invalid_argument,
                    fmt::format("{}: element {} is {}, but every input must be a JSON object", path,
                                i + 1, doc[i].type_name()));
      }
    }
    return doc.get<std::vector<nlohmann::json>>();
  }
  throw Error(Errc::invalid_argument,
              fmt::format("{} must hold a JSON object (one input) or an array of objects, not {}",
                          path, doc.type_name()));
}

std::shared_ptr<const Definition> load_workflow(const std::string& file) {
  auto loaded = load_definition_file(file);
  if (!loaded.ok()) throw DefinitionError(loaded.diagnostics);
  return loaded.definition;
}

namespace {

// Whether `db` holds `definition`'s text, byte for byte, as deployed under its name and version.
bool deployed_as_is(const std::string& db, const Definition& definition) {
  std::error_code ec;
  if (db.empty() || (!is_postgres_location(db) && !fs::exists(db, ec))) return false;
  try {
    auto store = open_store(db, StoreOptions{SyncMode::normal, true});
    auto row = store->get_definition(definition.name, definition.version);
    return row && row->source == definition.source;
  } catch (const Error&) {
    return false;  // the engine opening it reports what is wrong
  }
}

}  // namespace

std::vector<std::shared_ptr<const Definition>> load_workflow_dir(const std::string& dir,
                                                                 const std::string& db) {
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec)) {
    throw Error(Errc::io, fmt::format("{} is a file; --workflows takes the directory that holds "
                                      "the workflow files",
                                      dir));
  }
  if (!fs::is_directory(dir, ec)) {
    throw Error(Errc::io, fmt::format("the workflow directory {} does not exist", dir));
  }
  std::vector<std::string> files;
  fs::directory_iterator entries(dir, ec);
  if (ec)
    throw Error(Errc::io,
                fmt::format("cannot read the workflow directory {}: {}", dir, ec.message()));
  for (const auto& entry : entries) {
    auto ext = entry.path().extension();
    if (entry.is_regular_file(ec) && (ext == ".yaml" || ext == ".yml"))
      files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) throw Error(Errc::io, fmt::format("{} holds no workflow files (*.yaml)", dir));
  std::vector<std::shared_ptr<const Definition>> out;
  std::vector<Diagnostic> errors;
  for (const auto& file : files) {
    // Read first without compiling its jq; a text not deployed as it is is checked in full.
    auto loaded = load_definition_file(file, Compilation::on_first_use);
    if (!loaded.ok() || !deployed_as_is(db, *loaded.definition))
      loaded = load_definition_file(file);
    for (auto& d : loaded.diagnostics)
      if (d.severity == Severity::error) errors.push_back(std::move(d));
    if (loaded.ok()) out.push_back(loaded.definition);
  }
  if (!errors.empty()) throw DefinitionError(std::move(errors));
  // Two files with one name and version would deploy whichever came first and refuse the
  // other as a conflict with the database; say which files clash instead.
  for (std::size_t i = 0; i < out.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (out[i]->name == out[j]->name && out[i]->version == out[j]->version) {
        throw Error(Errc::conflict,
                    fmt::format("{} and {} both define workflow {} version {}; give each "
                                "version its own number",
                                out[j]->file, out[i]->file, out[i]->name, out[i]->version));
      }
    }
  }
  return out;
}

std::optional<std::vector<std::shared_ptr<const Definition>>> load_workflow_dir_reporting(
    const std::string& dir, const std::string& done, const std::string& db) {
  try {
    return load_workflow_dir(dir, db);
  } catch (const DefinitionError& e) {
    for (const auto& d : e.diagnostics()) fmt::print(stderr, "{}\n", format_diagnostic(d));
    fmt::print(stderr, "rmaflow: the workflows in {} have {} error(s); nothing was {}\n", dir,
               e.diagnostics().size(), done);
    return std::nullopt;
  }
}

std::vector<std::pair<std::string, nlohmann::json>> read_named_inputs(
    const std::vector<std::string>& files) {
  std::vector<std::pair<std::string, nlohmann::json>> inputs;
  for (const auto& file : files) {
    auto docs = read_inputs(file);
    for (std::size_t i = 0; i < docs.size(); ++i) {
      inputs.emplace_back(docs.size() == 1 ? file : fmt::format("{}[{}]", file, i + 1),
                          std::move(docs[i]));
    }
  }
  return inputs;
}

namespace {

bool is_start_request(const nlohmann::json& doc) {
  if (!doc.contains("workflow") || !doc["workflow"].is_string() || !doc.contains("input") ||
      !doc["input"].is_object()) {
    return false;
  }
  return std::all_of(doc.items().begin(), doc.items().end(), [](const auto& kv) {
    return kv.key() == "workflow" || kv.key() == "input" || kv.key() == "business_key";
  });
}

}  // namespace

StartInput read_start_input(std::string name, nlohmann::json doc) {
  StartInput in;
  in.name = std::move(name);
  if (!is_start_request(doc)) {
    in.request.input = std::move(doc);
    return in;
  }
  in.names_workflow = true;
  in.request.workflow = doc["workflow"].get<std::string>();
  in.request.input = std::move(doc["input"]);
  if (doc.contains("business_key")) {
    if (!doc["business_key"].is_string()) {
      throw Error(Errc::invalid_argument,
                  fmt::format("{}: business_key must be a string", in.name));
    }
    in.request.business_key = doc["business_key"].get<std::string>();
  }
  return in;
}

std::vector<StartInput> read_start_inputs(const std::vector<std::string>& files) {
  std::vector<StartInput> inputs;
  for (auto& [name, doc] : read_named_inputs(files)) {
    inputs.push_back(read_start_input(std::move(name), std::move(doc)));
  }
  return inputs;
}

std::shared_ptr<AdapterRegistry> load_adapters(const std::string& adapters_file) {
  if (adapters_file.empty()) return std::make_shared<AdapterRegistry>();
  std::error_code ec;
  if (fs::is_directory(adapters_file, ec)) {
    throw Error(Errc::io, fmt::format("{} is a directory, not an adapters file", adapters_file));
  }
  return std::make_shared<AdapterRegistry>(AdapterRegistry::from_file(adapters_file));
}

bool check_actions_reporting(const std::vector<std::shared_ptr<const Definition>>& definitions,
                             const AdapterRegistry& adapters, const std::string& adapters_file,
                             const std::string& done) {
  std::size_t errors = 0;
  for (const auto& def : definitions) {
    for (const auto& d : check_actions(*def, adapters)) {
      fmt::print(stderr, "{}\n", format_diagnostic(d));
      ++errors;
    }
  }
  if (errors == 0) return true;
  if (adapters_file.empty()) {
    fmt::print(stderr,
               "rmaflow: {} action(s) name adapters other than builtin, the only one there is "
               "without --adapters FILE; nothing was {}\n",
               errors, done);
  } else {
    fmt::print(stderr, "rmaflow: {} action(s) name what {} does not configure; nothing was {}\n",
               errors, adapters_file, done);
  }
  return false;
}

std::unique_ptr<Engine> open_engine(
    const std::string& db_path, const std::string& sync, std::shared_ptr<AdapterRegistry> adapters,
    std::shared_ptr<Clock> clock,
    std::function<void(const WriteBatch&, std::chrono::nanoseconds)> on_commit, double trace_sample,
    NodeOptions node, RunningLimits limits) {
  check_db_path(db_path);
  EngineOptions options;
  options.max_running = limits.instances;
  options.max_running_bytes = limits.bytes;
  options.keep_waiting_bytes = limits.keep_waiting_bytes;
  options.node = std::move(node.name);
  options.lease = node.lease;
  options.on_commit = std::move(on_commit);
  options.trace_sample = trace_sample;
  options.db_path = db_path;
  options.sync = parse_sync(sync);
  options.clock = std::move(clock);
  options.adapters = std::move(adapters);
  return Engine::open(std::move(options));
}

void check_db_path(const std::string& db_path) {
  if (is_postgres_location(db_path)) return;  // the server says what is wrong with it
  store::refuse_foreign_file(db_path);
  auto parent = fs::path(db_path).parent_path();
  std::error_code ec;
  if (!parent.empty() && !fs::is_directory(parent, ec)) {
    throw Error(Errc::io,
                fmt::format("cannot create the database {}: the directory {} does not exist",
                            db_path, parent.string()));
  }
}

void initialise_if_empty(const std::string& db_path) {
  std::error_code ec;
  if (fs::is_regular_file(db_path, ec) && fs::file_size(db_path, ec) == 0 && !ec) {
    open_store(db_path);  // an empty file is an empty database: give it the schema
  }
}

std::unique_ptr<Store> open_for_queries(const std::string& db_path) {
  store::refuse_foreign_file(db_path);
  initialise_if_empty(db_path);
  return open_store(db_path, StoreOptions{SyncMode::normal, true});
}

bool engine_running(const std::string& db) {
  try {
    open_store(db, StoreOptions{.engine = true});  // taken and given back at once: nobody held it
    return false;
  } catch (const Error& e) {
    if (e.code() == Errc::conflict) return true;
    throw;
  }
}

std::string default_actor() {
  const char* user = std::getenv("USER");
  return user != nullptr && *user != '\0' ? user : "cli";
}

SyncMode parse_sync(const std::string& text) {
  if (text == "full") return SyncMode::full;
  if (text == "normal") return SyncMode::normal;
  throw Error(Errc::invalid_argument,
              fmt::format("--sync must be full or normal, not \"{}\"", text));
}

std::chrono::milliseconds duration_option(const char* option, const std::string& text,
                                          std::chrono::milliseconds most) {
  auto d = parse_duration(text);
  if (!d || d->count() <= 0) {
    throw Error(
        Errc::invalid_argument,
        fmt::format("{} must be a duration such as 10s or 500ms, not \"{}\"", option, text));
  }
  // (Past a bound a deadline computed from it would overflow the clock's nanoseconds.)
  if (*d > most) {
    throw Error(Errc::invalid_argument, fmt::format("{} may be at most {}, not \"{}\"", option,
                                                    format_duration(most), text));
  }
  return *d;
}

}  // namespace rmaflow::cli
