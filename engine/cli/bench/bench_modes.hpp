// The modes of `rmaflow bench` (--mode), each printing its report as JSON on stdout. `db_path`
// is a new SQLite file, or an empty PostgreSQL database for the modes that run on one.
#pragma once

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "engine/cli/bench/bench_options.hpp"
#include "engine/cli/commands.hpp"
#include "rmaflow/store.hpp"

namespace rmaflow::cli::bench {

// The default: --instances instances of the linear workflow, all started at once, run to
// their end.
int throughput_mode(const BenchOptions& opt, const std::string& db_path,
                    const std::string& raw_dir);

// Run in a fresh process: how long opening an engine on `db` takes until it is idle, and what
// the waiting instances cost in memory (nothing beyond their rows is the aim).
int resume_child(const BenchOptions& opt);

// --mode resume: N instances wait on a signal; a fresh process then opens the database.
int resume_mode(const BenchOptions& opt, const std::string& db_path);

// --mode fanout: the same number of instances through the linear workflow and through one
// whose every instance fans out to `lines` branches, one after the other in this run.
int fan_out_mode(const BenchOptions& opt, const std::string& db_path);

// --mode observe: the linear workflow with and without what `serve` watches the engine with
// (transition log at its default level, metrics with milestones, trace export to a collector on
// loopback), alternating, `rounds` times each on fresh databases; the best of each is compared.
int observe_mode(const BenchOptions& opt, const std::string& db_path);

// List filters on search attributes over --instances finished instances (written straight
// into the database): each kind of filter with 50 different values, the first page of 100
// through Store::list_instances, the path `rmaflow list` and GET /v1/instances take.
int search_mode(const BenchOptions& opt, const std::string& db_path);

// --mode closed: --concurrency clients, each starting an instance and waiting for its end
// before it starts the next, as the peers' benchmark drivers do (with one client: a workflow's
// latency end to end, one at a time). In process (Engine::start, Engine::await_end), or with
// --via-api through the HTTP API on loopback, as `rmaflow serve` answers it.
int closed_loop_mode(const BenchOptions& opt, const std::string& db_path,
                     const std::string& raw_dir);

// --mode open: --rate starts a second for --seconds, whatever the engine's progress (an open
// loop: a busy engine is offered the same load), then waits for every instance's end. Reports
// the rate achieved and the engine's overhead per step (from an adapter's answer to the next
// call going out) as p50, p99 and p99.9, and each workflow's latency from its start.
int open_loop_mode(const BenchOptions& opt, const std::string& db_path);

// Runs --instances instances of `yaml` (workflow `name`, inputs from `input`) to the end on a
// new database at `db_path`, and reports what the engine did (the throughput, fanout and
// observe modes).
nlohmann::json run_to_end(
    const BenchOptions& opt, const std::string& db_path, const std::string& yaml,
    const std::string& name, const std::function<nlohmann::json(int)>& input,
    std::function<void(const WriteBatch&, std::chrono::nanoseconds)> on_commit = {},
    double trace_sample = 1.0);

}  // namespace rmaflow::cli::bench
