// Runs a program as a child process, bounded: what it reads on stdin is given whole, what it
// writes is kept up to a size, and it is killed (SIGKILL) once its time is up, once it writes
// more than that size, or when the caller cancels. Work that may take unbounded time or memory
// on input from outside (Graphviz's layout) runs this way, so that the calling process stays
// responsive and its own memory safe.
//
// Thread-safety: any thread, several at once. The child inherits no descriptor but its stdin,
// stdout and stderr, and no signal is raised in the caller (no SIGPIPE: stdin is a memory
// file, never a pipe the child may leave unread).
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace rmaflow {

struct ChildLimits {
  std::chrono::milliseconds timeout{10'000};  // wall clock, from the start
  std::size_t max_output = 64 << 20;          // bytes kept of stdout, and of stderr
  // Readable (an eventfd written, a pipe's end closed): kill the child and end as `cancelled`.
  // -1: nothing cancels.
  int cancel_fd = -1;
};

struct ChildRun {
  enum class End { exited, signalled, timed_out, output_too_large, cancelled };
  End end = End::exited;
  int status = 0;  // the exit code (exited) or the signal's number (signalled)
  std::string out;
  std::string err;
};

// Runs argv[0] (a path, not searched on PATH) with argv, the caller's environment and `input`
// on stdin; returns once it has ended and been reaped. Throws Error(io) when it cannot start.
ChildRun run_child(const std::vector<std::string>& argv, std::string_view input,
                   const ChildLimits& limits);

}  // namespace rmaflow
