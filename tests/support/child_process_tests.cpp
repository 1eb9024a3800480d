// run_child: a child process given its input whole, its output kept up to a bound, and killed
// past its time, past its output bound, or when the caller cancels.
#include <doctest/doctest.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <csignal>

#include "engine/support/child_process.hpp"
#include "rmaflow/errors.hpp"

using namespace rmaflow;
using End = ChildRun::End;

namespace {

ChildRun shell(const std::string& script, std::string_view input = "", ChildLimits limits = {}) {
  return run_child({"/bin/sh", "-c", script}, input, limits);
}

}  // namespace

TEST_CASE("Support.ChildProcess.InputOutputAndExitCode") {
  std::string input(300'000, 'x');  // more than a pipe holds: the child reads a memory file
  input += "end";
  auto run = shell("wc -c; echo said >&2; exit 7", input);
  CHECK(run.end == End::exited);
  CHECK(run.status == 7);
  CHECK(run.out == "300003\n");
  CHECK(run.err == "said\n");

  auto copied = shell("cat", input);
  CHECK(copied.end == End::exited);
  CHECK(copied.status == 0);
  CHECK(copied.out == input);
}

TEST_CASE("Support.ChildProcess.InheritsNoDescriptorButItsOwn") {
  int held = ::dup(0);  // not close-on-exec in this process
  REQUIRE(held > 2);
  auto run = shell("ls /proc/self/fd");
  ::close(held);
  // 0, 1, 2 and the one ls opens to list them.
  CHECK(run.out == "0\n1\n2\n3\n");
}

TEST_CASE("Support.ChildProcess.KilledPastItsTime") {
  ChildLimits limits;
  limits.timeout = std::chrono::milliseconds(200);
  auto run = shell("echo started; exec sleep 600", "", limits);
  CHECK(run.end == End::timed_out);
  CHECK(run.out == "started\n");

  // A descendant that keeps the pipes open is not waited for once the child has ended.
  auto orphaned = shell("sleep 30 & echo left", "", limits);
  CHECK(orphaned.end == End::exited);
  CHECK(orphaned.out == "left\n");
}

TEST_CASE("Support.ChildProcess.KilledPastItsOutput") {
  ChildLimits limits;
  limits.max_output = 1 << 20;
  auto run = shell("exec yes", "", limits);
  CHECK(run.end == End::output_too_large);
  CHECK(run.out.size() == limits.max_output);
}

TEST_CASE("Support.ChildProcess.StoppedWhenCancelled") {
  int cancel = eventfd(0, EFD_CLOEXEC);
  REQUIRE(cancel >= 0);
  std::uint64_t one = 1;
  REQUIRE(::write(cancel, &one, sizeof one) == sizeof one);
  ChildLimits limits;
  limits.cancel_fd = cancel;
  auto run = shell("exec sleep 600", "", limits);
  ::close(cancel);
  CHECK(run.end == End::cancelled);
}

TEST_CASE("Support.ChildProcess.SignalsAndFailuresToStart") {
  auto run = shell("kill -TERM $$");
  CHECK(run.end == End::signalled);
  CHECK(run.status == SIGTERM);
  CHECK_THROWS_WITH_AS(run_child({"/nonexistent/program"}, "", {}),
                       doctest::Contains("/nonexistent/program could not be started"), Error);
}
