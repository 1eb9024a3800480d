// Test helper: the real `rmaflow serve` as a child process on a loopback port the system picks.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "tests/support/process.hpp"

namespace rmaflow::testing {

class ServerProcess {
 public:
  // Runs `rmaflow serve ARGS --listen 127.0.0.1:0` with extra environment entries, and waits
  // (up to 30 s) for the line that names its port. Throws std::runtime_error when it exits
  // first, with what it wrote to stderr. `files`: its limit on open files, when set.
  ServerProcess(const std::vector<std::string>& args, const std::vector<std::string>& env,
                const std::string& stderr_file, OpenFilesLimit files = {});
  // Stops it (SIGTERM, then SIGKILL after 30 s) if it still runs.
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  std::uint16_t port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  pid_t pid() const { return pid_; }

  // Sends `signal` and waits for the process to end. Returns its exit code, or -signal when a
  // signal ended it.
  int stop(int signal);
  // Waits (up to 30 s) for the process to end by itself; same result as stop().
  int wait();

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::uint16_t port_ = 0;
  bool ended_ = false;
  int result_ = 0;
};

}  // namespace rmaflow::testing
