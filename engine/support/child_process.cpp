#include "engine/support/child_process.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>

#include "rmaflow/errors.hpp"

extern char** environ;

namespace rmaflow {

namespace {

// A descriptor closed when it goes out of scope.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  int get() const { return fd_; }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

[[noreturn]] void cannot_start(const std::string& program, const char* what, int error) {
  throw Error(Errc::io, fmt::format("{} could not be started: {} failed: {}", program, what,
                                    std::strerror(error)));
}

// The input, whole, in a file of memory the child reads as its stdin.
int input_file(const std::string& program) {
  int fd = memfd_create("rmaflow-child-input", MFD_CLOEXEC);
  if (fd < 0) cannot_start(program, "memfd_create", errno);
  return fd;
}

// The input, whole, written to the memory file `fd`, to be read from its start.
void write_input(const std::string& program, const Fd& fd, std::string_view input) {
  std::size_t written = 0;
  while (written < input.size()) {
    auto n = ::write(fd.get(), input.data() + written, input.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) cannot_start(program, "writing its input", errno);
    written += static_cast<std::size_t>(n);
  }
  if (::lseek(fd.get(), 0, SEEK_SET) != 0) cannot_start(program, "lseek", errno);
}

struct Pipe {
  Fd read;
  Fd write;
};

void open_pipe(const std::string& program, Pipe& pipe) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) cannot_start(program, "pipe2", errno);
  pipe.read.reset(fds[0]);
  pipe.write.reset(fds[1]);
}

class SpawnActions {
 public:
  SpawnActions() { posix_spawn_file_actions_init(&actions_); }
  ~SpawnActions() { posix_spawn_file_actions_destroy(&actions_); }
  SpawnActions(const SpawnActions&) = delete;
  SpawnActions& operator=(const SpawnActions&) = delete;
  posix_spawn_file_actions_t* get() { return &actions_; }

 private:
  posix_spawn_file_actions_t actions_;
};

}  // namespace

ChildRun run_child(const std::vector<std::string>& argv, std::string_view input,
                   const ChildLimits& limits) {
  const std::string& program = argv.at(0);
  auto deadline = std::chrono::steady_clock::now() + limits.timeout;
  Fd in(input_file(program));
  write_input(program, in, input);
  Pipe out, err;
  open_pipe(program, out);
  open_pipe(program, err);

  // dup2 clears close-on-exec on the child's copies; everything else the caller holds (its
  // sockets, its database) is closed in the child before it runs.
  SpawnActions actions;
  posix_spawn_file_actions_adddup2(actions.get(), in.get(), 0);
  posix_spawn_file_actions_adddup2(actions.get(), out.write.get(), 1);
  posix_spawn_file_actions_adddup2(actions.get(), err.write.get(), 2);
  posix_spawn_file_actions_addclosefrom_np(actions.get(), 3);
  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  if (int failed =
          posix_spawn(&pid, program.c_str(), actions.get(), nullptr, args.data(), environ)) {
    cannot_start(program, "posix_spawn", failed);
  }
  in.reset();
  out.write.reset();
  err.write.reset();

  ChildRun run;
  // (glibc 2.36's <sys/pidfd.h> declares pidfd_open without C linkage: called as a syscall.)
  Fd child(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (child.get() < 0) {
    int error = errno;
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    cannot_start(program, "pidfd_open", error);
  }
  auto stop = [&](ChildRun::End end) {
    if (run.end != ChildRun::End::exited) return;
    run.end = end;
    ::kill(pid, SIGKILL);
  };
  struct Stream {
    Fd& fd;
    std::string& text;
    bool open = true;
  };
  Stream streams[] = {{out.read, run.out}, {err.read, run.err}};
  char buffer[1 << 16];
  // What the child wrote, as far as it can be read now.
  auto drain = [&](Stream& stream) {
    for (;;) {
      auto n = ::read(stream.fd.get(), buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) return;
      if (n <= 0) {
        stream.open = false;
        return;
      }
      auto room = limits.max_output - std::min(limits.max_output, stream.text.size());
      stream.text.append(buffer, std::min(room, static_cast<std::size_t>(n)));
      if (static_cast<std::size_t>(n) > room) {
        stop(ChildRun::End::output_too_large);
        stream.open = false;
        return;
      }
    }
  };
  for (auto& stream : streams) ::fcntl(stream.fd.get(), F_SETFL, O_NONBLOCK);
  // Until the child has ended: its output is read as it comes, its time watched. Once it has
  // ended, what is left in the pipes is read (a descendant holding them open is not waited for).
  bool ended = false;
  while (!ended) {
    pollfd fds[4] = {{child.get(), POLLIN, 0}, {-1, POLLIN, 0}, {-1, POLLIN, 0}, {-1, POLLIN, 0}};
    for (int i = 0; i < 2; ++i) fds[1 + i].fd = streams[i].open ? streams[i].fd.get() : -1;
    if (run.end == ChildRun::End::exited) fds[3].fd = limits.cancel_fd;
    int wait_ms = -1;
    if (run.end == ChildRun::End::exited) {
      auto left =
          std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        stop(ChildRun::End::timed_out);
      } else {
        wait_ms = static_cast<int>(std::min<std::int64_t>(left.count(), 1 << 30));
      }
    }
    if (::poll(fds, 4, wait_ms) < 0) {
      if (errno == EINTR) continue;
      stop(ChildRun::End::cancelled);
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[1 + i].fd >= 0 && fds[1 + i].revents != 0) drain(streams[i]);
    }
    if (fds[3].fd >= 0 && fds[3].revents != 0) stop(ChildRun::End::cancelled);
    ended = fds[0].revents != 0;
  }
  for (auto& stream : streams) {
    if (stream.open) drain(stream);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (run.end == ChildRun::End::exited) {
    if (WIFSIGNALED(status)) {
      run.end = ChildRun::End::signalled;
      run.status = WTERMSIG(status);
    } else {
      run.status = WEXITSTATUS(status);
    }
  }
  return run;
}

}  // namespace rmaflow
