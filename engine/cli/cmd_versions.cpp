// rmaflow versions --db F [--workflow W] [--format text|json]
//
// Every deployed version with its unfinished instances and the steps they stand on: what an
// analyst looks at before retiring a version or migrating its waiting instances.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "engine/cli/cli_support.hpp"
#include "engine/cli/commands.hpp"
#include "engine/cli/table.hpp"
#include "rmaflow/versions.hpp"

namespace rmaflow::cli {

namespace {

struct VersionsOptions {
  std::string db;
  std::string workflow;
  std::string format = "text";
};

// "await_receipt: 3 waiting; inspect: 1 suspended"
std::string where_they_stand(const VersionSummary& v) {
  std::vector<std::string> parts;
  for (const auto& c : v.by_step) {
    std::string part = fmt::format("{} {}", c.count, to_string(c.status));
    if (!parts.empty() && parts.back().rfind(c.step + ": ", 0) == 0)
      parts.back() += ", " + part;
    else
      parts.push_back(c.step + ": " + part);
  }
  return parts.empty() ? "-" : fmt::format("{}", fmt::join(parts, "; "));
}

int versions(const VersionsOptions& opt) {
  auto store = open_for_queries(opt.db);
  auto all = list_versions(*store, opt.workflow);
  if (all.empty() && !opt.workflow.empty())
    throw Error(Errc::not_found, fmt::format("no workflow named {} is deployed in {}", opt.workflow,
                                             opt.db));
  if (opt.format == "json") {
    auto out = nlohmann::ordered_json::array();
    for (const auto& v : all) {
      auto steps = nlohmann::ordered_json::array();
      for (const auto& c : v.by_step)
        steps.push_back({{"step", c.step}, {"status", to_string(c.status)}, {"count", c.count}});
      out.push_back({{"workflow", v.definition.name},
                     {"version", v.definition.version},
                     {"content_hash", v.definition.content_hash},
                     {"file", v.definition.file},
                     {"deployed_at", format_time(v.definition.deployed_at)},
                     {"unfinished", v.unfinished},
                     {"steps", std::move(steps)}});
    }
    fmt::print("{}\n", out.dump(2));
    return kExitOk;
  }
  Table table({"WORKFLOW", "VERSION", "DEPLOYED", "UNFINISHED", "WHERE"});
  for (const auto& v : all) {
    table.add({v.definition.name, std::to_string(v.definition.version),
               format_time(v.definition.deployed_at), std::to_string(v.unfinished),
               where_they_stand(v)});
  }
  fmt::print("{}", table.render());
  fmt::print("{} version(s)\n", all.size());
  return kExitOk;
}

}  // namespace

void register_versions(CLI::App& app, int& exit_code) {
  auto opt = std::make_shared<VersionsOptions>();
  auto* cmd = app.add_subcommand(
      "versions",
      "List deployed workflow versions with their unfinished instances and where they stand");
  cmd->add_option("--db", opt->db, "Database: a SQLite file or a postgresql:// URI")->required();
  cmd->add_option("--workflow", opt->workflow, "Only this workflow");
  cmd->add_option("--format", opt->format, "Output: text (default) or json")
      ->check(CLI::IsMember({"text", "json"}));
  cmd->callback([opt, &exit_code] { exit_code = versions(*opt); });
}

}  // namespace rmaflow::cli
