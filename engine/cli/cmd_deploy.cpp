// rmaflow deploy FILE... (--db F | --server URL) [--dry-run] [--format text|json]
//
// Stores new workflow versions in a database, or deploys them through a running server's API
// (the same checks, made by the server, and the engine starts new instances on them at once). Every file is loaded and checked against the
// database first; nothing is stored unless every file is valid and none clashes with a
// deployed version (the same name and version with other content). Before storing, the report
// names the steps that unfinished instances of older versions stand on and the new version no
// longer has: those instances finish on their own version, and the report says how to migrate
// the waiting ones. A running engine starts new instances on a version deployed this way once
// it restarts.
#include <fmt/format.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "engine/cli/api_client.hpp"
#include "engine/cli/cli_support.hpp"
#include "engine/cli/commands.hpp"
#include "engine/cli/endpoint.hpp"
#include "rmaflow/clock.hpp"
#include "rmaflow/versions.hpp"

namespace rmaflow::cli {

namespace {

struct DeployOptions {
  std::vector<std::string> files;
  Endpoint endpoint;
  bool dry_run = false;
  std::string format = "text";
  std::string adapters;
};

struct Planned {
  std::shared_ptr<const Definition> definition;
  std::vector<Diagnostic> warnings;
  DeployCheck check;
};

std::string verdict_text(const DeployCheck& check, bool dry_run) {
  switch (check.verdict) {
    case DeployVerdict::unchanged: return "unchanged (already deployed)";
    case DeployVerdict::conflict: return "refused";
    case DeployVerdict::new_version: break;
  }
  return dry_run ? "would be deployed" : "deployed";
}

// "rmaflow migrate ... --map a=b": the command that moves the waiting instances of one version.
std::string migrate_hint(const DeployOptions& opt, const DeployCheck& check, int from) {
  std::string maps;
  for (const auto& s : check.stranded)
    if (s.version == from && !s.renamed_to.empty()) maps += " --map " + s.step + "=" + s.renamed_to;
  return fmt::format("rmaflow migrate --db {} --workflow {} --from {} --to {}{}", opt.endpoint.db,
                     check.workflow, from, check.version, maps);
}

void print_text(const DeployOptions& opt, const Planned& p) {
  for (const auto& d : p.warnings) fmt::print("{}\n", format_diagnostic(d));
  const DeployCheck& check = p.check;
  std::string newest = check.newest && *check.newest != check.version
                           ? fmt::format(" (newest before: version {})", *check.newest)
                           : "";
  fmt::print("{}: workflow {} version {} {}{}\n", p.definition->file, check.workflow,
             check.version, verdict_text(check, opt.dry_run), newest);
  int last_version = 0;
  for (const auto& s : check.stranded) {
    fmt::print("  {}\n", describe(s, check.version));
    if (s.version != last_version) {
      last_version = s.version;
      fmt::print("  they finish on version {}; to move the waiting ones to version {}: {}\n",
                 s.version, check.version, migrate_hint(opt, check, s.version));
    }
  }
}

nlohmann::ordered_json to_json(const DeployOptions& opt, const Planned& p) {
  const DeployCheck& check = p.check;
  nlohmann::ordered_json out = {{"file", p.definition->file},
                                {"workflow", check.workflow},
                                {"version", check.version}};
  out["result"] = check.verdict == DeployVerdict::conflict    ? "conflict"
                  : check.verdict == DeployVerdict::unchanged ? "unchanged"
                  : opt.dry_run                               ? "would deploy"
                                                              : "deployed";
  out["newest_before"] = check.newest ? nlohmann::ordered_json(*check.newest) : nullptr;
  out["stranded"] = nlohmann::ordered_json::array();
  for (const auto& s : check.stranded) {
    out["stranded"].push_back({{"version", s.version},
                               {"step", s.step},
                               {"kind", to_string(s.kind)},
                               {"instances", s.instances},
                               {"waiting", s.waiting},
                               {"now", s.now ? nlohmann::ordered_json(to_string(*s.now)) : nullptr},
                               {"renamed_to", s.renamed_to},
                               {"message", describe(s, check.version)}});
  }
  out["warnings"] = nlohmann::ordered_json::array();
  for (const auto& d : p.warnings) out["warnings"].push_back(format_diagnostic(d));
  return out;
}

// Server mode: every file is checked by the server first (a dry run), so that nothing is
// deployed when one of them clashes; then each is deployed.
int deploy_to_server(const DeployOptions& opt, const std::vector<Planned>& planned) {
  ApiClient client(opt.endpoint);
  auto body_of = [](const Planned& p) {
    nlohmann::json body = {{"source", p.definition->source}, {"file", p.definition->file}};
    if (p.definition->input_schema) body["input_schema"] = *p.definition->input_schema;
    return body;
  };
  std::vector<nlohmann::json> answers;
  try {
    for (const auto& p : planned) answers.push_back(client.post("/v1/workflows?dry_run=true", body_of(p)).body);
    if (!opt.dry_run) {
      answers.clear();
      for (const auto& p : planned) answers.push_back(client.post("/v1/workflows", body_of(p)).body);
    }
  } catch (const ServerRefusal& e) {
    // The server's loader found what this one did not: say it as validate does.
    for (const auto& d : e.problem().value("errors", nlohmann::json::array())) {
      fmt::print(stderr, "{}:{}:{}: error[{}]: {}\n", d.value("file", ""), d.value("line", 0),
                 d.value("column", 0), d.value("code", ""), d.value("message", ""));
    }
    throw;
  }
  if (opt.format == "json") {
    fmt::print("{}\n", nlohmann::json(answers).dump(2));
    return kExitOk;
  }
  for (std::size_t i = 0; i < planned.size(); ++i) {
    const auto& a = answers[i];
    for (const auto& d : planned[i].warnings) fmt::print("{}\n", format_diagnostic(d));
    auto result = a.value("result", "");
    auto newest = a.value("newest_before", nlohmann::json());
    fmt::print("{}: workflow {} version {} {}{}\n", planned[i].definition->file,
               a.value("workflow", ""), a.value("version", 0),
               result == "would deploy" ? "would be deployed"
               : result == "unchanged"  ? "unchanged (already deployed)"
                                        : result,
               newest.is_number() && newest.get<int>() != a.value("version", 0)
                   ? fmt::format(" (newest before: version {})", newest.get<int>())
                   : "");
    for (const auto& s : a.value("stranded", nlohmann::json::array())) {
      fmt::print("  {}\n", s.value("message", ""));
    }
  }
  return kExitOk;
}

int deploy(const DeployOptions& opt) {
  std::vector<Planned> planned;
  bool invalid = false;
  for (const auto& file : opt.files) {
    LoadResult loaded = load_definition_file(file);
    if (!loaded.ok()) {
      for (const auto& d : loaded.diagnostics) fmt::print(stderr, "{}\n", format_diagnostic(d));
      invalid = true;
      continue;
    }
    planned.push_back(Planned{loaded.definition, std::move(loaded.diagnostics), {}});
  }
  if (invalid) {
    fmt::print(stderr, "rmaflow: nothing was deployed: fix the errors above first\n");
    return kExitFailure;
  }
  if (!opt.endpoint.offline()) return deploy_to_server(opt, planned);
  if (!opt.adapters.empty()) {
    std::vector<std::shared_ptr<const Definition>> defs;
    for (const auto& p : planned) defs.push_back(p.definition);
    if (!check_actions_reporting(defs, *load_adapters(opt.adapters), opt.adapters, "deployed")) {
      return kExitFailure;
    }
  }
  check_db_path(opt.endpoint.db);
  // A dry run creates nothing: without a database every version is new.
  std::error_code ec;
  std::unique_ptr<Store> store;
  if (!opt.dry_run)
    store = open_store(opt.endpoint.db);
  else if (is_postgres_location(opt.endpoint.db) || std::filesystem::exists(opt.endpoint.db, ec))
    store = open_for_queries(opt.endpoint.db);
  bool conflict = false;
  for (auto& p : planned) {
    if (store) {
      p.check = check_deploy(*store, *p.definition);
    } else {
      p.check.workflow = p.definition->name;
      p.check.version = p.definition->version;
    }
    conflict = conflict || p.check.verdict == DeployVerdict::conflict;
  }
  if (!conflict && !opt.dry_run) {
    auto now = system_clock()->now();
    for (const auto& p : planned)
      if (p.check.verdict == DeployVerdict::new_version) store_definition(*store, *p.definition, now);
  }
  if (opt.format == "json") {
    auto out = nlohmann::ordered_json::array();
    for (const auto& p : planned) out.push_back(to_json(opt, p));
    fmt::print("{}\n", out.dump(2));
  } else {
    for (const auto& p : planned) print_text(opt, p);
  }
  for (const auto& p : planned) {
    if (p.check.verdict != DeployVerdict::conflict) continue;
    fmt::print(stderr,
               "rmaflow: workflow {} version {} is already deployed in {} with different "
               "content; give the change a new version number (nothing was deployed)\n",
               p.check.workflow, p.check.version, opt.endpoint.db);
  }
  return conflict ? kExitFailure : kExitOk;
}

}  // namespace

void register_deploy(CLI::App& app, int& exit_code) {
  auto opt = std::make_shared<DeployOptions>();
  auto* cmd = app.add_subcommand(
      "deploy",
      "Store new workflow versions in a database. Reports, before storing, the steps that "
      "unfinished instances of older versions stand on and the new version lacks; those "
      "instances finish on their own version. The same name and version with other content is "
      "refused, and then nothing is deployed.");
  cmd->add_option("files", opt->files, "Workflow YAML files")->required();
  add_endpoint_options(cmd, opt->endpoint, "Database: a SQLite file (created if missing) or a postgresql:// URI");
  cmd->add_flag("--dry-run", opt->dry_run, "Report what would happen; store nothing");
  cmd->add_option("--adapters", opt->adapters,
                  "With --db: the adapters file the engine runs with; every action and "
                  "compensation must name one of its adapters and operations (through a "
                  "server, the server checks against its own)");
  cmd->add_option("--format", opt->format, "Output: text (default) or json")
      ->check(CLI::IsMember({"text", "json"}));
  cmd->callback([opt, &exit_code] {
    resolve(opt->endpoint);
    if (!opt->adapters.empty() && !opt->endpoint.offline()) {
      throw CLI::ValidationError("--adapters checks a deploy with --db; a server checks "
                                 "against the adapters it runs with");
    }
    exit_code = deploy(*opt);
  });
}

}  // namespace rmaflow::cli
