// rmaflow migrate --db F [--workflow W] --from N --to M [--map OLD=NEW]... [--instance ID]...
//                 [--dry-run] [--reason R] [--actor A] [--format text|json]
//
// Moves waiting instances of one version to another (migration.hpp). The plan lists every
// instance concerned with where it would land, or why it cannot move; instances that are not
// waiting at a wait step are refused. Without --dry-run each movable instance gets a `migrate`
// command in the database's queue, which the engine applies, re-checking it, as one audited
// transition the next time it runs there (offline operator commands, decisions.md).
// Exit 0 when the movable instances were queued (or, dry, could be); 1 when none can move or an
// instance named by --instance cannot.
#include <fmt/format.h>

#include <set>

#include "engine/cli/cli_support.hpp"
#include "engine/cli/commands.hpp"
#include "engine/cli/table.hpp"
#include "rmaflow/clock.hpp"
#include "rmaflow/migration.hpp"

namespace rmaflow::cli {

namespace {

struct MigrateOptions {
  std::string db;
  std::string workflow;
  int from = 0;
  int to = 0;
  std::vector<std::string> maps;
  std::vector<std::string> instances;
  bool dry_run = false;
  std::string reason;
  std::string actor;
  std::string format = "text";
};

std::map<std::string, std::string> parse_maps(const std::vector<std::string>& maps) {
  std::map<std::string, std::string> out;
  for (const auto& m : maps) {
    auto eq = m.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == m.size()) {
      throw CLI::ValidationError("--map", fmt::format("\"{}\" must be OLD=NEW (two step names)", m));
    }
    if (!out.emplace(m.substr(0, eq), m.substr(eq + 1)).second)
      throw CLI::ValidationError("--map", fmt::format("step {} is mapped twice", m.substr(0, eq)));
  }
  return out;
}

// The workflow to migrate: --workflow, or the only one the database holds.
std::string workflow_of(Store& store, const MigrateOptions& opt) {
  if (!opt.workflow.empty()) return opt.workflow;
  std::set<std::string> names;
  for (const auto& d : store.list_definitions()) names.insert(d.name);
  if (names.size() == 1) return *names.begin();
  throw Error(Errc::invalid_argument,
              names.empty() ? fmt::format("{} holds no deployed workflow", opt.db)
                            : fmt::format("{} holds several workflows; choose one with --workflow",
                                          opt.db));
}

void print_plan(const MigrationRequest& request, const MigrationPlan& plan) {
  fmt::print("workflow {}: version {} -> {}\n", request.workflow, request.from, request.to);
  Table table({"INSTANCE", "STATUS", "STEP", "MOVES TO"});
  for (const auto& item : plan.items) {
    table.add({item.instance_id, std::string(to_string(item.status)), item.step,
               item.refusal.empty() ? item.target : "refused: " + item.refusal});
  }
  fmt::print("{}", table.render());
  fmt::print("{} can move, {} refused\n", plan.movable(), plan.items.size() - plan.movable());
}

nlohmann::ordered_json plan_json(const MigrationRequest& request, const MigrationPlan& plan) {
  auto items = nlohmann::ordered_json::array();
  for (const auto& item : plan.items) {
    items.push_back({{"instance", item.instance_id},
                     {"status", to_string(item.status)},
                     {"step", item.step},
                     {"target", item.refusal.empty() ? nlohmann::ordered_json(item.target)
                                                     : nlohmann::ordered_json(nullptr)},
                     {"refusal", item.refusal}});
  }
  return {{"workflow", request.workflow}, {"from", request.from}, {"to", request.to},
          {"instances", std::move(items)}};
}

int migrate(const MigrateOptions& opt) {
  MigrationRequest request;
  request.from = opt.from;
  request.to = opt.to;
  request.steps = parse_maps(opt.maps);
  request.instances = opt.instances;
  MigrationPlan plan;
  {
    auto reader = open_for_queries(opt.db);
    request.workflow = workflow_of(*reader, opt);
    plan = plan_migration(*reader, request);
  }
  std::vector<std::int64_t> queued;
  if (!opt.dry_run && plan.movable() > 0) {
    auto store = open_store(opt.db);
    std::string reason = opt.reason.empty()
                             ? fmt::format("migration from version {} to {}", opt.from, opt.to)
                             : opt.reason;
    for (const auto& item : plan.items) {
      if (!item.refusal.empty()) continue;
      auto action = migration_action(request, item.instance_id,
                                     opt.actor.empty() ? default_actor() : opt.actor, reason);
      CommandRow command;
      command.instance_id = item.instance_id;
      command.kind = std::string(to_string(ActionKind::migrate));
      command.body = nlohmann::json{{"actor", action.actor},
                                    {"reason", action.reason},
                                    {"args", action.args}}
                         .dump();
      command.created_at = system_clock()->now();
      queued.push_back(store->add_command(command));
    }
  }
  if (opt.format == "json") {
    auto out = plan_json(request, plan);
    out["dry_run"] = opt.dry_run;
    out["commands"] = queued;
    fmt::print("{}\n", out.dump(2));
  } else {
    print_plan(request, plan);
    if (plan.items.empty())
      fmt::print("no unfinished instances of {} version {}\n", request.workflow, request.from);
    else if (opt.dry_run)
      fmt::print("dry run: nothing was queued\n");
    else if (!queued.empty())
      fmt::print("queued {} migration(s) as commands {}-{}; the engine applies them when it next "
                 "runs on {}\n",
                 queued.size(), queued.front(), queued.back(), opt.db);
  }
  bool named_refused = !opt.instances.empty() && plan.movable() < plan.items.size();
  bool none_movable = !plan.items.empty() && plan.movable() == 0;
  return named_refused || none_movable ? kExitFailure : kExitOk;
}

}  // namespace

void register_migrate(CLI::App& app, int& exit_code) {
  auto opt = std::make_shared<MigrateOptions>();
  auto* cmd = app.add_subcommand(
      "migrate",
      "Move waiting instances of one workflow version to another, with an explicit step "
      "mapping; instances not waiting at a wait step are refused. Queued in the database and "
      "applied by the engine as an audited action per instance; --dry-run only shows the plan.");
  cmd->add_option("--db", opt->db, "Database: a SQLite file or a postgresql:// URI")->required();
  cmd->add_option("--workflow", opt->workflow, "Workflow (default: the only one deployed)");
  cmd->add_option("--from", opt->from, "The version the instances run on")->required();
  cmd->add_option("--to", opt->to, "The version to move them to")->required();
  cmd->add_option("--map", opt->maps,
                  "OLD=NEW: an instance at step OLD moves to step NEW (repeatable); unmapped "
                  "steps keep their name");
  cmd->add_option("--instance", opt->instances,
                  "Only this instance (repeatable); default: every unfinished one");
  cmd->add_flag("--dry-run", opt->dry_run, "Show the plan; queue nothing");
  cmd->add_option("--reason", opt->reason, "Why (recorded in each instance's history)");
  cmd->add_option("--actor", opt->actor, "Who (default: $USER)");
  cmd->add_option("--format", opt->format, "Output: text (default) or json")
      ->check(CLI::IsMember({"text", "json"}));
  cmd->callback([opt, &exit_code] { exit_code = migrate(*opt); });
}

}  // namespace rmaflow::cli
