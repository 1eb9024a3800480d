// rmaflow bench: the engine's throughput and per-step overhead on the builtin noop adapter,
// next to the raw SQLite append rates measured in the same run on the same disk. The modes
// live in engine/cli/bench/; this file reads the command line and picks one.
#include <fmt/format.h>
#include <stdlib.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string_view>
#include <vector>

#include "engine/cli/bench/bench_modes.hpp"
#include "engine/cli/bench/bench_options.hpp"
#include "engine/cli/cli_support.hpp"
#include "engine/cli/commands.hpp"
#include "rmaflow/store.hpp"

namespace rmaflow::cli {

namespace {

using bench::BenchOptions;
namespace fs = std::filesystem;

// Removes a scratch directory when the bench ends, however it ends.
struct ScratchDir {
  fs::path path;
  bool owned = false;
  ~ScratchDir() {
    std::error_code ec;
    if (owned) fs::remove_all(path, ec);
  }
};

// The options that only some modes read, with those modes. Any other mode would run without
// what the option asks for, and a report that looks as if it had: it is refused instead.
struct ModeOption {
  const char* option;
  std::vector<std::string_view> modes;
};
const std::vector<ModeOption>& mode_options() {
  static const std::vector<ModeOption> options = {
      {"--instances", {"throughput", "resume", "fanout", "observe", "search", "closed"}},
      {"--steps", {"throughput", "fanout", "observe", "closed", "open"}},
      {"--raw-budget-ms", {"throughput", "fanout", "closed", "open"}},
      {"--rate", {"open"}},
      {"--seconds", {"open"}},
      {"--p99-bound", {"open"}},
      {"--max-in-flight", {"open"}},
      {"--concurrency", {"closed"}},
      {"--nodes", {"closed"}},
      {"--via-api", {"closed"}},
      {"--rounds", {"observe"}},
      {"--no-trace-export", {"observe"}},
      {"--trace-sample", {"observe"}},
      {"--input-lines", {"throughput", "fanout", "observe", "closed", "open"}},
      {"--results", {"throughput", "fanout", "observe", "closed", "open"}},
      {"--lines", {"fanout"}},
      {"--wait-timeout", {"resume"}},
  };
  return options;
}

// Refuses an option given with a mode that does not read it, naming the modes that do.
void check_options_fit_mode(const CLI::App& cmd, const std::string& mode) {
  for (const auto& [option, modes] : mode_options()) {
    if (cmd.count(option) == 0) continue;
    if (std::find(modes.begin(), modes.end(), mode) != modes.end()) continue;
    std::string list;
    for (std::size_t i = 0; i < modes.size(); ++i) {
      if (i > 0) list += i + 1 == modes.size() ? " or " : ", ";
      list += modes[i];
    }
    throw Error(
        Errc::invalid_argument,
        fmt::format("{} goes with --mode {}; --mode {} does not read it", option, list, mode));
  }
}

// A PostgreSQL database the benchmark may run on: an empty one, and a mode that runs on one
// database (the others make several files beside it).
void check_postgres_bench(const BenchOptions& opt) {
  if (opt.mode != "throughput" && opt.mode != "closed") {
    throw Error(Errc::invalid_argument,
                fmt::format("--mode {} runs on SQLite files; a postgresql:// --db goes with the "
                            "default mode and --mode closed",
                            opt.mode));
  }
  auto store = open_store(opt.db);
  if (!store->list_definitions().empty() || !store->count_by_status().empty()) {
    throw Error(Errc::invalid_argument,
                "the benchmark needs an empty database, and the --db given holds workflows or "
                "instances");
  }
}

// The modes but search, closed and open start every instance at once, and the engine holds
// each in memory until it ends or waits: about 6 KB an instance and 4 KB a branch (200,000
// instances held 1.28 GB). --instances takes up to 10 million, for search's stored rows.
constexpr std::int64_t kMostStartedAtOnce = 1'000'000;

void check_started_at_once(const BenchOptions& opt) {
  if (opt.mode == "search" || opt.mode == "closed" || opt.mode == "open") return;
  const bool fan_out = opt.mode == "fanout";
  const std::int64_t at_once = static_cast<std::int64_t>(opt.instances) * (fan_out ? opt.lines : 1);
  if (at_once <= kMostStartedAtOnce) return;
  if (fan_out) {
    throw Error(Errc::invalid_argument,
                fmt::format("--mode fanout starts --instances {} at once with --lines {} "
                            "branches each: {} branches held in memory together, more than the "
                            "{} a run may hold; give fewer instances or lines",
                            opt.instances, opt.lines, at_once, kMostStartedAtOnce));
  }
  throw Error(Errc::invalid_argument,
              fmt::format("--mode {} starts every instance at once, and --instances {} would be "
                          "held in memory together, more than the {} a run may hold; give at "
                          "most {}",
                          opt.mode, opt.instances, kMostStartedAtOnce, kMostStartedAtOnce));
}

int run_bench(const BenchOptions& opt) {
  if (!opt.resume_db.empty()) return bench::resume_child(opt);
  check_started_at_once(opt);
  const bool postgres = is_postgres_location(opt.db);
  if (opt.nodes > 0 && !postgres) {
    throw Error(Errc::invalid_argument,
                "--nodes runs engines as nodes of one PostgreSQL database: give a postgresql:// "
                "--db");
  }
  if (postgres) check_postgres_bench(opt);
  ScratchDir scratch;  // the database when none is given; raw SQLite's files beside PostgreSQL
  std::string db_path = opt.db;
  if (db_path.empty() || postgres) {
    std::string pattern = (fs::temp_directory_path() / "rmaflow-bench-XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw Error(Errc::io, "cannot create a scratch directory for the benchmark");
    scratch.path = pattern;
    scratch.owned = true;
    if (!postgres) db_path = (scratch.path / "bench.db").string();
  } else if (fs::exists(db_path)) {
    throw Error(Errc::invalid_argument,
                fmt::format("{} exists; the benchmark needs a new database file", db_path));
  }
  auto dir = postgres ? scratch.path.string() : fs::absolute(db_path).parent_path().string();
  if (opt.mode == "resume") return bench::resume_mode(opt, db_path);
  if (opt.mode == "fanout") return bench::fan_out_mode(opt, db_path);
  if (opt.mode == "observe") return bench::observe_mode(opt, db_path);
  if (opt.mode == "search") return bench::search_mode(opt, db_path);
  if (opt.mode == "closed") return bench::closed_loop_mode(opt, db_path, dir);
  if (opt.mode == "open") return bench::open_loop_mode(opt, db_path);
  return bench::throughput_mode(opt, db_path, dir);
}

}  // namespace

void register_bench(CLI::App& app, int& exit_code) {
  auto opt = std::make_shared<BenchOptions>();
  auto* cmd = app.add_subcommand(
      "bench", "Measure engine throughput and per-step overhead on noop steps, next to raw "
               "SQLite append rates on the same disk; prints JSON");
  cmd->add_option("--instances", opt->instances, "Instances to run (default 20000)")
      ->check(CLI::Range(1, 10'000'000));
  cmd->add_option("--steps", opt->steps, "Task steps per instance (default 5)")
      ->check(CLI::Range(1, 1000));
  cmd->add_option("--sync", opt->sync, "SQLite synchronous mode: full (default) or normal")
      ->check(CLI::IsMember({"full", "normal"}));
  cmd->add_option("--db", opt->db,
                  "New database file to use (default: a scratch directory), or an empty "
                  "PostgreSQL database (a postgresql:// URI; throughput and closed modes)");
  cmd->add_option("--raw-budget-ms", opt->raw_budget_ms,
                  "Time for each raw SQLite measurement (default 1000)")
      ->check(CLI::Range(50, 60'000));
  cmd->add_option(
         "--mode", opt->mode,
         "throughput (default): run instances to the end; resume: N instances wait on a "
         "signal, then a fresh process opens the database; fanout: the linear workflow "
         "and one whose instances fan out to --lines branches, in one run; observe: "
         "with and without logs, metrics and trace export, alternating --rounds times; search: "
         "list filters on search attributes over --instances stored instances; closed: "
         "--concurrency clients each start an instance and wait for its end before the "
         "next, as the peers' drivers do; open: --rate starts a second for --seconds, "
         "with the engine's overhead per step as p50/p99/p99.9")
      ->check(
          CLI::IsMember({"throughput", "resume", "fanout", "observe", "search", "closed", "open"}));
  cmd->add_option("--rate", opt->rate, "open mode: starts per second")
      ->check(CLI::Range(0.1, 1'000'000.0));
  cmd->add_option("--seconds", opt->seconds, "open mode: how long starts are offered (default 10)")
      ->check(CLI::Range(0.1, 3600.0));
  cmd->add_option("--p99-bound", opt->p99_bound_ms,
                  "open mode without --rate: search for the highest rate whose step overhead "
                  "p99 stays within this many milliseconds, each probe for --seconds")
      ->check(CLI::Range(0.001, 60'000.0));
  cmd->add_option("--max-in-flight", opt->max_in_flight,
                  "open mode: instances started and not yet ended past which a run stops "
                  "offering starts and reports that it fell behind (default 100000; a rate far "
                  "past what the engine holds would otherwise queue starts in memory without "
                  "end)")
      ->check(CLI::Range(1, 10'000'000));
  cmd->add_option("--concurrency", opt->concurrency,
                  "closed mode: clients, each with one instance at a time (default 16)")
      ->check(CLI::Range(1, 1024));
  cmd->add_option("--nodes", opt->nodes,
                  "closed mode on PostgreSQL: run this many engines as nodes of the database, "
                  "the clients spread over them")
      ->check(CLI::Range(1, 8));
  cmd->add_flag("--via-api", opt->via_api,
                "closed mode: through the HTTP API on loopback (POST /v1/instances?wait=, which "
                "answers at the instance's end), as a returns platform would");
  cmd->add_option("--rounds", opt->rounds, "observe mode: runs of each kind (default 3)")
      ->check(CLI::Range(1, 20));
  cmd->add_flag("!--no-trace-export", opt->export_traces,
                "observe mode: logs and metrics only, no span export");
  cmd->add_option("--trace-sample", opt->trace_sample,
                  "observe mode: the share of instances traced, 0 to 1 (default 1: every one), "
                  "as serve --trace-sample")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--input-lines", opt->input_lines,
                  "the linear workflow (throughput, closed, open and observe modes, and fanout's "
                  "linear run): return lines in each start's input, about 130 bytes each "
                  "(default 0); 14 make a context as large as the shipped workflows' (about 2 KB)")
      ->check(CLI::Range(0, 1000));
  cmd->add_flag("--results", opt->results,
                "the linear workflow: each step keeps its result in the context (`result:`), so "
                "the context changes at every step, as in the shipped workflows");
  cmd->add_option("--lines", opt->lines, "fanout mode: branches per instance (default 20)")
      ->check(CLI::Range(1, 10'000));
  cmd->add_option("--wait-timeout", opt->wait_timeout,
                  "resume mode: give each wait this timeout (a durable timer), e.g. 30d");
  cmd->add_option("--resume-db", opt->resume_db)->group("");  // the resume mode's child
  cmd->callback([opt, cmd, &exit_code] {
    if (opt->resume_db.empty()) check_options_fit_mode(*cmd, opt->mode);
    exit_code = run_bench(*opt);
  });
}

}  // namespace rmaflow::cli
