// rmaflow db check --db F      every page and every rmaflow rule of a database: 0 sound, 1 not
// rmaflow db backup --db F --to G   an online, consistent copy while an engine may be serving
// rmaflow db copy --from A --to B   a whole database into a new one, verified, while nothing serves
// rmaflow db prune --db F --older-than AGE (--archive G | --delete)   retention, while serving
#include <fmt/format.h>

#include <filesystem>

#include "engine/cli/commands.hpp"
#include "engine/store/db_copy.hpp"
#include "engine/store/db_maintenance.hpp"
#include "engine/store/retention.hpp"
#include "rmaflow/clock.hpp"
#include "rmaflow/errors.hpp"
#include "rmaflow/store.hpp"

namespace rmaflow::cli {

namespace {

namespace fs = std::filesystem;

struct DbOptions {
  std::string db;
  std::string to;
};

struct CopyOptions {
  std::string from;
  std::string to;
};

struct PruneOptions {
  std::string db;
  std::string older_than;
  std::string archive;
  bool remove = false;
  std::string export_audit;
  bool dry_run = false;
  std::size_t batch = 500;
};

// check, backup and prune read and write the SQLite file itself.
void require_sqlite_file(const std::string& db, std::string_view command) {
  if (!is_postgres_location(db)) return;
  throw Error(Errc::invalid_argument,
              fmt::format("rmaflow db {} works on SQLite files; for a PostgreSQL database use "
                          "its own tools (pg_dump, pg_amcheck; see docs/operations.md)",
                          command));
}

int check(const DbOptions& opt) {
  require_sqlite_file(opt.db, "check");
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
  require_sqlite_file(opt.db, "backup");
  store::backup_database(opt.db, opt.to);
  fmt::print("{}: backed up to {} (checked)\n", opt.db, opt.to);
  return kExitOk;
}

int prune(const PruneOptions& opt) {
  require_sqlite_file(opt.db, "prune");
  auto age = parse_duration(opt.older_than);
  if (!age || age->count() < 0) {
    throw Error(
        Errc::invalid_argument,
        fmt::format("--older-than {} is not a duration such as 90d, 12h or 30m", opt.older_than));
  }
  if (opt.archive.empty() == !opt.remove) {
    throw Error(Errc::invalid_argument,
                "say what becomes of the instances: --archive FILE moves them to another "
                "database file, --delete removes them (one of the two)");
  }
  store::PruneOptions o;
  o.db = opt.db;
  o.now = system_clock()->now();
  o.ended_before = o.now - *age;
  o.archive = opt.archive;
  o.export_audit = opt.export_audit;
  o.dry_run = opt.dry_run;
  o.batch = opt.batch;
  auto report = store::prune_database(o);
  std::string where = opt.archive.empty() ? "deleted" : "archived to " + opt.archive;
  std::string audit =
      opt.export_audit.empty()
          ? fmt::format("{} operator action(s) kept in {}", report.audit_records, opt.db)
          : fmt::format("{} operator action(s) exported to {}", report.audit_records,
                        opt.export_audit);
  if (opt.dry_run) {
    fmt::print("{}: would prune {} instance(s) that ended before {} ({}; {} event(s); {})\n",
               opt.db, report.instances, format_time(o.ended_before), where, report.events, audit);
    for (const auto& id : report.first_ids) fmt::print("  {}\n", id);
    if (report.instances > static_cast<std::int64_t>(report.first_ids.size())) {
      fmt::print("  ... and {} more\n", report.instances - report.first_ids.size());
    }
    return kExitOk;
  }
  fmt::print("{}: pruned {} instance(s) that ended before {} ({}; {} event(s) removed; {})\n",
             opt.db, report.instances, format_time(o.ended_before), where, report.events, audit);
  return kExitOk;
}

// Opens a database for copying as the engine's store, so that nothing serves it meanwhile.
std::unique_ptr<Store> open_for_copy(const std::string& location, bool must_exist) {
  if (must_exist && !is_postgres_location(location) && !fs::exists(location)) {
    throw Error(Errc::not_found, fmt::format("no database at {}", location));
  }
  try {
    return open_store(location, StoreOptions{.engine = true});
  } catch (const Error& e) {
    if (e.code() != Errc::conflict) throw;
    throw Error(Errc::refused, fmt::format("{}; stop it before copying the database", e.what()));
  }
}

int copy(const CopyOptions& opt) {
  std::error_code same_file_error;  // either file missing: not the same
  if (opt.from == opt.to || (!is_postgres_location(opt.from) && !is_postgres_location(opt.to) &&
                             fs::equivalent(opt.from, opt.to, same_file_error))) {
    throw Error(Errc::invalid_argument, "--from and --to name the same database");
  }
  auto from = open_for_copy(opt.from, true);
  auto to = open_for_copy(opt.to, false);
  auto copied = store::copy_database(*from, *to, [](std::int64_t done, std::int64_t total) {
    if (done % 10000 == 0) fmt::print(stderr, "copied {} of {} instances\n", done, total);
  });
  fmt::print(
      "copied {} definition(s), {} instance(s) with {} event(s), {} timer(s), {} signal(s), "
      "{} command(s), {} job(s) with {} item(s); verified, checksum {}\n",
      copied.definitions, copied.instances, copied.events, copied.timers, copied.signals,
      copied.commands, copied.jobs, copied.job_items, copied.checksum);
  return kExitOk;
}

}  // namespace

void register_db(CLI::App& app, int& exit_code) {
  auto* db = app.add_subcommand("db",
                                "Check a database file, back it up or prune it while it serves; "
                                "copy a database to another store");
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

  auto copy_opt = std::make_shared<CopyOptions>();
  auto* copy_cmd = db->add_subcommand(
      "copy",
      "Copy a whole database into a new one (SQLite to PostgreSQL or back) while nothing serves "
      "either, and verify the copy by counts and a checksum");
  copy_cmd->add_option("--from", copy_opt->from, "The database: a SQLite file or postgresql:// URI")
      ->required();
  copy_cmd
      ->add_option("--to", copy_opt->to,
                   "An empty database: a new SQLite file or an empty "
                   "PostgreSQL database")
      ->required();
  copy_cmd->callback([copy_opt, &exit_code] { exit_code = copy(*copy_opt); });

  auto prune_opt = std::make_shared<PruneOptions>();
  auto* prune_cmd = db->add_subcommand(
      "prune",
      "Retention: archive or delete finished instances that ended long ago (safe while serving)");
  prune_cmd->add_option("--db", prune_opt->db, "Database file")->required();
  prune_cmd
      ->add_option("--older-than", prune_opt->older_than,
                   "Finished instances that ended longer ago than this (90d, 12h, 30m)")
      ->required();
  prune_cmd->add_option("--archive", prune_opt->archive,
                        "Move them to this rmaflow database file (created if missing); show, "
                        "history and db check work on it");
  prune_cmd->add_flag("--delete", prune_opt->remove, "Delete them");
  prune_cmd->add_option("--export-audit", prune_opt->export_audit,
                        "Append their operator actions to this JSON Lines file instead of "
                        "keeping them in the database's audit trail");
  prune_cmd->add_flag("--dry-run", prune_opt->dry_run, "Say what would go; change nothing");
  prune_cmd->add_option("--batch", prune_opt->batch, "Instances per transaction (default 500)")
      ->check(CLI::Range(1, 100000));
  prune_cmd->callback([prune_opt, &exit_code] { exit_code = prune(*prune_opt); });
}

}  // namespace rmaflow::cli
