// A bound on how long one jq evaluation may run. jq has no step counter, but its interpreter
// checks a "halted" flag before every instruction; a watchdog thread raises that flag (jq_halt)
// on an evaluation whose deadline passed, and the evaluation returns at its next instruction.
// Programs cannot halt themselves (Expression shadows halt and halt_error), so the flag is the
// watchdog's alone. A single C builtin (sorting a huge array) still runs to its end: the size
// bounds on inputs and results keep those short.
//
// Thread-safety: arm() and disarm() may be called from any thread, each evaluation from the
// thread that runs it.
#pragma once

#include <chrono>
#include <cstdint>

extern "C" {
#include <jq.h>
}

namespace rmaflow::dsl {

class JqWatchdog {
 public:
  // The process's watchdog (its thread starts on first use).
  static JqWatchdog& instance();

  // From now until disarm(ticket), `jq` is halted if `deadline` passes.
  std::uint64_t arm(jq_state* jq, std::chrono::steady_clock::time_point deadline);
  // Ends the watch; true when the watchdog halted the evaluation.
  bool disarm(std::uint64_t ticket);
  // Halts the watched evaluation now, from the thread that runs it (a program that has given
  // what was asked of it). Halts go through here so that the watchdog never halts one twice.
  void halt(std::uint64_t ticket);

  ~JqWatchdog();

 private:
  JqWatchdog();
  struct State;
  State* state_;
};

}  // namespace rmaflow::dsl
