// How a bench run measures (CPU time, resident memory, percentiles, SQLite's own rates on the
// same disk) and prints its report.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/cli/bench/bench_options.hpp"

namespace rmaflow::cli::bench {

using SteadyClock = std::chrono::steady_clock;

// A mode's report on stdout, with what it ran on.
void print_report(nlohmann::json& report);

// CPU time, user and system, used so far by `who`: RUSAGE_THREAD (the calling thread) or
// RUSAGE_SELF (every thread of this process).
double cpu_seconds(int who);

// This process's resident memory now, in MiB.
double current_rss_mb();

// The sample at `p` (0 to 1) of `sorted`; 0 when there is none.
double percentile(std::vector<double>& sorted, double p);

// p50, p99 (and p99.9) of sorted samples, with their count.
nlohmann::json percentiles(std::vector<double>& sorted, bool p999 = false);

// SQLite's raw single-row and batched commit rates on the disk of `dir`, and the ratios of
// `transitions_per_s` to them.
nlohmann::json raw_rates(const BenchOptions& opt, const std::string& dir, double transitions_per_s);

// Which store the report measured, and how durably it committed.
void name_store(nlohmann::json& report, const BenchOptions& opt);

}  // namespace rmaflow::cli::bench
