// What `rmaflow bench` was asked for: its command line, one field per option.
#pragma once

#include <string>

namespace rmaflow::cli::bench {

struct BenchOptions {
  int instances = 20000;
  int steps = 5;
  std::string sync = "full";
  std::string db;
  int raw_budget_ms = 1000;
  std::string mode = "throughput";
  std::string resume_db;      // internal: the child process of --mode resume
  std::string wait_timeout;   // resume mode: the waits' timeout, if any
  int lines = 20;             // fanout mode: branches per instance
  int rounds = 3;             // observe mode: runs with and without, each
  bool export_traces = true;  // observe mode: export spans (else logs and metrics only)
  double trace_sample = 1.0;  // observe mode: the share of instances traced
  int concurrency = 16;       // closed mode: clients, each with one instance at a time
  bool via_api = false;       // closed mode: through the HTTP API on loopback
  double rate = 0;            // open mode: starts per second
  double seconds = 10;        // open mode: for this long
  double p99_bound_ms = 0;    // open mode without --rate: the search's bound on step p99
  int max_in_flight = 100'000;  // open mode: instances in flight past which offering stops
  int nodes = 0;              // closed mode on PostgreSQL: engines as nodes (0: one, alone)
  int input_lines = 0;        // return lines in each linear instance's start input
  bool results = false;       // the linear workflow's steps keep their results in the context
};

}  // namespace rmaflow::cli::bench
