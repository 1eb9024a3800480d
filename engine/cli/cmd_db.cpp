// rmaflow db check --db F      every page and every rmaflow rule of a database: 0 sound, 1 not
// rmaflow db backup --db F --to G   an online, consistent copy while an engine may be serving
#include <fmt/format.h>

#include "engine/cli/commands.hpp"
#include "engine/store/db_maintenance.hpp"

namespace rmaflow::cli {

namespace {

struct DbOptions {
  std::string db;
  std::string to;
};

int check(const DbOptions& opt) {
  auto report = store::check_database(opt.db);
  if (report.ok()) {
    fmt::print("{}: ok ({} instances, {} events)\n", opt.db, report.instances, report.events);
    return kExitOk;
  }
  for (const auto& problem : report.problems) fmt::print("{}: {}\n", opt.db, problem);
  fmt::print(stderr,
             "rmaflow: {} is damaged ({} problem(s) listed above); restore it from a backup\n",
             opt.db, report.problems.size());
  return kExitFailure;
}

int backup(const DbOptions& opt) {
  store::backup_database(opt.db, opt.to);
  fmt::print("{}: backed up to {} (checked)\n", opt.db, opt.to);
  return kExitOk;
}

}  // namespace

void register_db(CLI::App& app, int& exit_code) {
  auto* db = app.add_subcommand("db", "Check a database file, or back it up while it serves");
  db->require_subcommand(1);

  auto check_opt = std::make_shared<DbOptions>();
  auto* check_cmd = db->add_subcommand(
      "check", "Check every page, index and rmaflow rule of a database (it may be serving)");
  check_cmd->add_option("--db", check_opt->db, "Database file")->required();
  check_cmd->callback([check_opt, &exit_code] { exit_code = check(*check_opt); });

  auto backup_opt = std::make_shared<DbOptions>();
  auto* backup_cmd = db->add_subcommand(
      "backup", "Copy a database consistently while an engine may be writing to it");
  backup_cmd->add_option("--db", backup_opt->db, "Database file")->required();
  backup_cmd->add_option("--to", backup_opt->to, "The copy (a file that does not exist yet)")
      ->required();
  backup_cmd->callback([backup_opt, &exit_code] { exit_code = backup(*backup_opt); });
}

}  // namespace rmaflow::cli
