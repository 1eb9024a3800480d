#include "engine/support/open_files.hpp"

#include <sys/resource.h>

#include <fstream>

namespace rmaflow {

namespace {

// fs.nr_open: the most any process may hold; a soft limit past it is refused.
rlim_t kernel_most() {
  std::ifstream in("/proc/sys/fs/nr_open");
  rlim_t most = 0;
  if (in >> most && most > 0) return most;
  return rlim_t{1} << 20;  // the kernel's default
}

}  // namespace

std::size_t raise_open_files_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 1024;
  rlim_t wanted = limit.rlim_max == RLIM_INFINITY ? kernel_most() : limit.rlim_max;
  if (limit.rlim_cur == RLIM_INFINITY || limit.rlim_cur >= wanted) {
    return limit.rlim_cur == RLIM_INFINITY ? static_cast<std::size_t>(wanted)
                                           : static_cast<std::size_t>(limit.rlim_cur);
  }
  rlimit raised = limit;
  raised.rlim_cur = wanted;
  if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) return static_cast<std::size_t>(wanted);
  return static_cast<std::size_t>(limit.rlim_cur);
}

}  // namespace rmaflow
