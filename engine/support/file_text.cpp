#include "engine/support/file_text.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace rmaflow {

namespace {

FileText fault(FileText::Fault kind, int error = 0) {
  FileText out;
  out.fault = kind;
  if (error != 0) out.why = std::strerror(error);
  return out;
}

FileText too_large(std::uintmax_t size, std::size_t bound) {
  FileText out;
  out.fault = FileText::Fault::too_large;
  out.size = size;
  out.bound = bound;
  return out;
}

}  // namespace

FileText read_file_text(const std::string& path, std::size_t max_bytes) {
  using Fault = FileText::Fault;
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) {
    int error = errno;
    return fault(error == ENOENT || error == ENOTDIR ? Fault::missing : Fault::unreadable, error);
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat facts {};
  if (::fstat(fd, &facts) != 0) return fault(Fault::unreadable, errno);
  if (S_ISDIR(facts.st_mode)) return fault(Fault::directory);
  if (!S_ISREG(facts.st_mode)) return fault(Fault::not_regular);
  auto size = static_cast<std::uintmax_t>(facts.st_size);
  if (size > max_bytes) return too_large(size, max_bytes);
  FileText out;
  out.bound = max_bytes;
  out.text.resize(static_cast<std::size_t>(size));
  std::size_t have = 0;
  for (;;) {
    if (have == out.text.size()) {
      if (have > max_bytes) return too_large(have, max_bytes);  // grown since fstat
      out.text.resize(
          have + std::min<std::size_t>(std::max<std::size_t>(have, 4096), max_bytes + 1 - have));
    }
    auto got = ::read(fd, out.text.data() + have, out.text.size() - have);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return fault(Fault::unreadable, errno);
    if (got == 0) break;
    have += static_cast<std::size_t>(got);
  }
  out.text.resize(have);
  out.size = have;
  return out;
}

std::string past_bound(std::uintmax_t bytes, std::size_t bound, std::string_view kind) {
  return fmt::format("holds {} bytes, more than the {} {} may hold", bytes, bound, kind);
}

std::string unread_reason(const FileText& file) {
  switch (file.fault) {
    case FileText::Fault::missing:
      return "no such file";
    case FileText::Fault::directory:
      return "it is a directory";
    case FileText::Fault::not_regular:
      return "it is not a regular file";
    case FileText::Fault::too_large:
      return "it " + past_bound(file.size, file.bound, "it");
    default:
      return file.why.empty() ? "unknown error" : file.why;
  }
}

std::string unread_sentence(const std::string& path, const FileText& file, std::string_view role) {
  return fmt::format("cannot read {}{}{}: {}", role, role.empty() ? "" : " ", path,
                     unread_reason(file));
}

}  // namespace rmaflow
