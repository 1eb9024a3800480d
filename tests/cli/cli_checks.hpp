// Checks shared by the CLI suites that run the real binary.
#pragma once

#include <functional>
#include <initializer_list>
#include <string>
#include <vector>

#include "tests/support/process.hpp"

namespace rmaflow::testing {

std::vector<std::string> lines_of(const std::string& text);
bool contains(const std::string& text, const std::string& part);

// A failure as the product rule wants it: the exit code, nothing but one line on stderr
// (after `diagnostics` lines, where they apply), that line a sentence naming every culprit.
void check_failure(const ProcessResult& r, int exit_code,
                   std::initializer_list<std::string> culprits, std::size_t diagnostics = 0);

// Runs `run` once per kill point with RMAFLOW_KILL_AT set to it, requiring each run to die
// by SIGKILL there, then once more without, requiring it to finish (exit 0).
void kill_then_finish(const std::function<ProcessResult(const std::string& kill_at)>& run,
                      const std::vector<std::string>& kills);

}  // namespace rmaflow::testing
