// The workflows a bench run deploys, and their instances' inputs.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "engine/cli/bench/bench_options.hpp"

namespace rmaflow::cli::bench {

// A K-step workflow of noop tasks, each rendering its input from the context. With `results`,
// each step keeps what it answered at `.stepN`, so the context changes at every step, as in
// the shipped workflows.
std::string bench_workflow(const BenchOptions& opt);

// A return of `lines` lines: a noop before, a foreach whose every branch runs `steps` noop
// tasks, and a noop after.
std::string fan_out_workflow(int steps);

// The linear workflow's start input: an RMA id and `lines` return lines of about 130 bytes
// each, as an RMA's input carries them (the shipped workflows' contexts are 1 to 3 KB).
nlohmann::json linear_input(int i, int lines);

// linear_input() with the lines --input-lines asks for.
std::function<nlohmann::json(int)> start_input(const BenchOptions& opt);

}  // namespace rmaflow::cli::bench
