// Test helper: runs a program (usually the real rmaflow binary) and captures what it did.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace rmaflow::testing {

struct ProcessResult {
  int exit_code = -1;   // -1 when killed by a signal
  int signal = 0;       // the signal that ended it, 0 when it exited
  std::string out;
  std::string err;
};

// Runs argv[0] with the given arguments, extra environment entries ("NAME=value") added to
// the current environment, and `input` on its standard input. Waits for it to end.
// `files`, when set, is the process's limit on open files (RLIMIT_NOFILE, soft and hard).
struct OpenFilesLimit {
  std::size_t soft = 0;  // 0: the limit is left as it is
  std::size_t hard = 0;
};
ProcessResult run_process(const std::vector<std::string>& argv,
                          const std::vector<std::string>& env = {}, const std::string& input = "",
                          OpenFilesLimit files = {});

// What a forked child needs to exec argv[0] with the current environment and `env` added
// ("NAME=value" sets NAME; "NAME" alone removes it), all built before the fork: the child of a
// threaded process may call nothing that allocates before it execs (another thread may have
// held the allocator's lock when the process forked, and the child would wait for it forever).
class ExecImage {
 public:
  ExecImage(const std::vector<std::string>& argv, const std::vector<std::string>& env,
            OpenFilesLimit files = {});
  // Async-signal-safe: sets the limit on open files, execve(), then _exit(127) if either
  // failed.
  [[noreturn]] void exec() const;

 private:
  OpenFilesLimit files_;
  std::vector<std::string> args_;
  std::vector<std::string> env_;
  std::vector<char*> argv_;
  std::vector<char*> envp_;
};

// The full path of `program` found on $PATH, or "" when it is not installed.
std::string find_program(const std::string& program);

// The real binary and the source tree, as the build registered them.
std::string rmaflow_binary();
std::string source_dir();

// A fresh, empty directory under the system temp dir, removed when the object dies.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  // Writes `content` to `name` inside the directory and returns the full path.
  std::string write(const std::string& name, const std::string& content) const;

 private:
  std::string path_;
};

}  // namespace rmaflow::testing
