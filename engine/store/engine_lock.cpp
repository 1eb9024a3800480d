#include "engine/store/engine_lock.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "engine/support/db_file.hpp"
#include "rmaflow/errors.hpp"

namespace rmaflow {

EngineLock::EngineLock(const std::string& db_path) {
  // By the file's one name: through a symbolic link, a relative path or another spelling the
  // second engine finds the same lock (a file with other hard links is refused outright).
  auto path = canonical_db_path(db_path) + ".lock";
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    throw Error(Errc::io,
                fmt::format("cannot create the lock file {}: {}", path, std::strerror(errno)));
  }
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    char holder[32] = {};
    auto n = ::pread(fd_, holder, sizeof holder - 1, 0);
    ::close(fd_);
    fd_ = -1;
    std::string pid = n > 0 ? std::string(holder, static_cast<std::size_t>(n)) : "unknown";
    while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
    throw Error(Errc::conflict,
                fmt::format("another rmaflow engine (pid {}) is running on {}", pid, db_path));
  }
  auto pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd_, 0) == 0) {
    [[maybe_unused]] auto written = ::pwrite(fd_, pid.data(), pid.size(), 0);
  }
}

EngineLock::~EngineLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the flock
}

}  // namespace rmaflow
