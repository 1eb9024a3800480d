// rmaflow commands list / withdraw: the operator commands queued in a database (--db) by the
// offline CLI. `list` shows them with their outcome (pending, applied, refused and why,
// withdrawn); `withdraw` takes back a pending one before an engine applies it. A running engine
// applies what is queued within a moment, so withdrawing needs the database without one.
#include <fmt/format.h>

#include "engine/cli/cli_support.hpp"
#include "engine/cli/commands.hpp"
#include "engine/cli/table.hpp"
#include "rmaflow/clock.hpp"

namespace rmaflow::cli {

namespace {

struct CommandsOptions {
  std::string db;
  std::string instance;
  bool all = false;
  std::size_t limit = 100;
  std::string format = "text";
  std::int64_t id = 0;
  std::string reason;
  std::string actor;
};

std::string command_state(const CommandRow& c) {
  if (c.outcome.empty()) return "pending";
  for (const char* state : {"applied", "refused", "withdrawn"}) {
    if (c.outcome.starts_with(state)) return state;
  }
  return "done";
}

// "goto no_such_step", "signal warehouse.received", "cancel --compensate": what it asks for.
std::string command_summary(const CommandRow& c) {
  auto body = nlohmann::json::parse(c.body, nullptr, false);
  if (!body.is_object()) return c.kind;
  if (c.kind == "signal") return fmt::format("signal {}", body.value("name", "?"));
  auto args = body.value("args", nlohmann::json::object());
  if (!args.is_object() || args.empty()) return c.kind;
  if (c.kind == "goto") return fmt::format("goto {}", args.value("step", "?"));
  if (c.kind == "cancel") return args.value("compensate", false) ? "cancel --compensate" : "cancel";
  return fmt::format("{} {}", c.kind, args.dump());
}

nlohmann::json command_json(const CommandRow& c) {
  auto body = nlohmann::json::parse(c.body, nullptr, false);
  return {{"id", c.id},
          {"instance_id", c.instance_id},
          {"kind", c.kind},
          {"state", command_state(c)},
          {"body", body.is_discarded() ? nlohmann::json(c.body) : body},
          {"created_at", format_time(c.created_at)},
          {"applied_at", c.applied_at ? nlohmann::json(format_time(*c.applied_at)) : nullptr},
          {"outcome", c.outcome}};
}

int list_queue(const CommandsOptions& opt) {
  auto store = open_for_queries(opt.db);
  auto rows = store->list_commands(opt.instance, !opt.all, opt.limit);
  if (opt.format == "json") {
    auto out = nlohmann::json::array();
    for (const auto& c : rows) out.push_back(command_json(c));
    fmt::print("{}\n", out.dump(2));
    return kExitOk;
  }
  Table table({"ID", "INSTANCE", "COMMAND", "BY", "QUEUED", "STATE", "OUTCOME"});
  for (const auto& c : rows) {
    auto body = nlohmann::json::parse(c.body, nullptr, false);
    std::string by = body.is_object() ? body.value("actor", "-") : "-";
    auto outcome = c.outcome;
    if (auto colon = outcome.find(": "); colon != std::string::npos) outcome = outcome.substr(colon + 2);
    else if (outcome == command_state(c)) outcome.clear();
    table.add({std::to_string(c.id), c.instance_id, command_summary(c), by.empty() ? "-" : by,
               format_time(c.created_at).substr(0, 19), command_state(c), outcome});
  }
  fmt::print("{}", table.render());
  fmt::print("{} {}command(s)\n", rows.size(), opt.all ? "" : "pending ");
  return kExitOk;
}

int withdraw_queued(const CommandsOptions& opt) {
  std::unique_ptr<Store> store;
  try {
    // Held as the engine's store: no engine may pick the command up meanwhile.
    store = open_store(opt.db, StoreOptions{.engine = true});
  } catch (const Error& e) {
    if (e.code() != Errc::conflict) throw;
    throw Error(Errc::refused,
                fmt::format("{}; it applies queued commands as they arrive, so command {} cannot "
                            "be withdrawn now (see rmaflow commands list)",
                            e.what(), opt.id));
  }
  auto command = store->get_command(opt.id);
  if (!command) throw Error(Errc::not_found, fmt::format("no command {} in {}", opt.id, opt.db));
  // A job waits for the item of each instance it passed on to another node: cancel the job.
  auto body = nlohmann::json::parse(command->body, nullptr, false);
  if (command->outcome.empty() && body.is_object() && body.contains("job") &&
      body["job"].is_string()) {
    throw Error(Errc::refused,
                fmt::format("command {} passes instance {} of job {} on to the node that owns "
                            "it, and the job waits for its outcome: cancel the job instead "
                            "(rmaflow job cancel {})",
                            opt.id, command->instance_id, body["job"].get<std::string>(),
                            body["job"].get<std::string>()));
  }
  auto actor = opt.actor.empty() ? default_actor() : opt.actor;
  auto outcome = fmt::format("withdrawn by {}: {}", actor, opt.reason);
  if (!store->withdraw_command(opt.id, system_clock()->now(), outcome)) {
    throw Error(Errc::refused, fmt::format("command {} is not pending: {}", opt.id,
                                           command->outcome));
  }
  fmt::print("command {} ({} for instance {}) withdrawn; it will not be applied\n", opt.id,
             command_summary(*command), command->instance_id);
  return kExitOk;
}

}  // namespace

void register_commands(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("commands",
                                 "The operator commands queued in a database by the offline CLI: "
                                 "list them, withdraw a pending one");
  cmd->require_subcommand(1);

  auto l = std::make_shared<CommandsOptions>();
  auto* ls = cmd->add_subcommand("list", "List queued commands: pending ones (--all: every one, "
                                         "with what became of it)");
  ls->add_option("--db", l->db, "Database: a SQLite file or a postgresql:// URI")->required();
  ls->add_option("--instance", l->instance, "Only this instance's commands");
  ls->add_flag("--all", l->all, "Also the applied, refused and withdrawn ones");
  ls->add_option("--limit", l->limit, "The newest this many (default 100)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{100000}));
  ls->add_option("--format", l->format, "Output: text (default) or json")
      ->check(CLI::IsMember({"text", "json"}));
  ls->callback([l, &exit_code] { exit_code = list_queue(*l); });

  auto w = std::make_shared<CommandsOptions>();
  auto* wd = cmd->add_subcommand("withdraw", "Withdraw a pending command so that no engine applies "
                                             "it (only while none runs on the database)");
  wd->add_option("--db", w->db, "Database: a SQLite file or a postgresql:// URI")->required();
  wd->add_option("id", w->id, "The command's id (rmaflow commands list)")->required();
  wd->add_option("--reason", w->reason, "Why (recorded as its outcome)")->required();
  wd->add_option("--actor", w->actor, "Who (default: $USER)");
  wd->callback([w, &exit_code] { exit_code = withdraw_queued(*w); });
}

}  // namespace rmaflow::cli
