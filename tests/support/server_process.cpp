#include "tests/support/server_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "tests/support/process.hpp"

namespace rmaflow::testing {

namespace {

// How long a server may take to stop, and to listen: a sanitized build on a loaded machine
// (several servers and test suites on two cores) may take tens of seconds to start.
constexpr auto kPatience = std::chrono::seconds(30);
constexpr auto kStartPatience = std::chrono::seconds(90);

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

ServerProcess::ServerProcess(const std::vector<std::string>& args,
                             const std::vector<std::string>& env, const std::string& stderr_file,
                             OpenFilesLimit files) {
  int out[2];
  if (pipe(out) != 0) throw std::runtime_error("pipe failed");
  std::vector<std::string> argv = {rmaflow_binary(), "serve"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.insert(argv.end(), {"--listen", "127.0.0.1:0"});
  const ExecImage image(argv, env, files);
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    // A group of its own: a server paused by a test (SIGSTOP) is never a stopped member of an
    // orphaned group, which the kernel would send SIGHUP when the group's other members exit.
    setpgid(0, 0);
    int err = ::open(stderr_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(out[1], 1);
    dup2(err, 2);
    close(out[0]);
    close(out[1]);
    close(err);
    image.exec();
  }
  close(out[1]);
  out_fd_ = out[0];
  // The first line on stdout names the port: "rmaflow: serving http://127.0.0.1:PORT (...)".
  std::string line;
  auto deadline = std::chrono::steady_clock::now() + kStartPatience;
  while (line.find('\n') == std::string::npos) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd fd{out_fd_, POLLIN, 0};
    char c[256];
    ssize_t n = 0;
    if (left.count() > 0 && poll(&fd, 1, static_cast<int>(left.count())) > 0) {
      n = read(out_fd_, c, sizeof c);
    }
    if (n <= 0) {
      int code = stop(SIGKILL);
      throw std::runtime_error("rmaflow serve ended (" + std::to_string(code) +
                               ") before it listened: " + read_text(stderr_file));
    }
    line.append(c, static_cast<std::size_t>(n));
  }
  auto at = line.find("127.0.0.1:");
  if (at == std::string::npos) throw std::runtime_error("unexpected first line: " + line);
  port_ = static_cast<std::uint16_t>(std::stoi(line.substr(at + 10)));
}

ServerProcess::~ServerProcess() {
  if (!ended_) stop(SIGTERM);
  if (out_fd_ >= 0) close(out_fd_);
}

int ServerProcess::stop(int signal) {
  if (!ended_) ::kill(pid_, signal);
  return wait();
}

int ServerProcess::wait() {
  if (ended_) return result_;
  auto deadline = std::chrono::steady_clock::now() + kPatience;
  int status = 0;
  for (;;) {
    pid_t done = waitpid(pid_, &status, WNOHANG);
    if (done == pid_) break;
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
      break;
    }
    // Polling a child process for its exit, with a deadline: nothing else to wait on.
    usleep(2000);
  }
  ended_ = true;
  result_ = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  return result_;
}

}  // namespace rmaflow::testing
