#include "engine/cli/bench/bench_report.hpp"

#include <fmt/format.h>
#ifdef RMAFLOW_WITH_JEMALLOC
#include <jemalloc/jemalloc.h>
#endif
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>

#include "engine/cli/cli_support.hpp"
#include "engine/store/raw_append_bench.hpp"

namespace rmaflow::cli::bench {

namespace {

// The allocator the measured process ran on: it moves a burst's rate by half (CMakeLists.txt).
std::string allocator_name() {
#ifdef RMAFLOW_WITH_JEMALLOC
  const char* version = nullptr;
  std::size_t size = sizeof(version);
  if (mallctl("version", static_cast<void*>(&version), &size, nullptr, 0) == 0) {
    return fmt::format("jemalloc {}", version);
  }
#endif
  return "glibc malloc";
}

}  // namespace

void print_report(nlohmann::json& report) {
  report["allocator"] = allocator_name();
  fmt::print("{}\n", report.dump(2));
}

double cpu_seconds(int who) {
  rusage u{};
  getrusage(who, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

double current_rss_mb() {
  long pages = 0, resident = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) /
         (1024.0 * 1024.0);
}

double percentile(std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  auto index = static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1));
  return sorted[index];
}

nlohmann::json percentiles(std::vector<double>& sorted, bool p999) {
  nlohmann::json out = {{"p50", percentile(sorted, 0.50)}, {"p99", percentile(sorted, 0.99)}};
  if (p999) out["p999"] = percentile(sorted, 0.999);
  out["max"] = sorted.empty() ? 0 : sorted.back();
  out["samples"] = sorted.size();
  return out;
}

nlohmann::json raw_rates(const BenchOptions& opt, const std::string& dir,
                         double transitions_per_s) {
  RawAppendOptions raw_opt;
  raw_opt.directory = dir;
  raw_opt.sync = parse_sync(opt.sync);
  raw_opt.budget = std::chrono::milliseconds(opt.raw_budget_ms);
  auto raw = measure_raw_append(raw_opt);
  return {{"raw_sqlite",
           {{"single_row_commits_per_s", raw.single_row_commits_per_s},
            {"single_row_commit_ms", percentiles(raw.single_row_commit_ms, true)},
            {"batched_rows_per_s", raw.batched_rows_per_s},
            {"rows_per_batch", raw_opt.rows_per_commit}}},
          {"ratio_transitions_to_single_commit_rate",
           transitions_per_s / std::max(1.0, raw.single_row_commits_per_s)},
          {"ratio_transitions_to_batched_rate",
           transitions_per_s / std::max(1.0, raw.batched_rows_per_s)}};
}

void name_store(nlohmann::json& report, const BenchOptions& opt) {
  const bool postgres = is_postgres_location(opt.db);
  report["store"] = postgres ? "postgresql" : "sqlite";
  report["sync"] = postgres ? "the server's synchronous_commit" : opt.sync;
}

}  // namespace rmaflow::cli::bench
