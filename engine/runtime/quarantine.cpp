#include "engine/runtime/quarantine.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "engine/support/db_file.hpp"
#include "engine/support/sha256.hpp"
#include "rmaflow/errors.hpp"
#include "rmaflow/store.hpp"

namespace rmaflow {

// The file's layout; ids are NUL-terminated (instance ids are 26 characters).
struct QuarantineRecord::Layout {
  char magic[8];        // "rmfq0001": anything else is a fresh record
  char current[128];    // the instance being processed now; "" when none
  char suspect[128];    // the instance being processed at the last deaths in a row
  std::uint32_t deaths;  // how many deaths in a row found `suspect` being processed
};

namespace {

constexpr char kMagic[8] = {'r', 'm', 'f', 'q', '0', '0', '0', '1'};

std::string read_id(const char* field) { return std::string(field, ::strnlen(field, 127)); }

void write_id(char* field, const std::string& id) {
  auto n = std::min<std::size_t>(id.size(), 127);
  std::memcpy(field, id.data(), n);
  field[n] = '\0';
}

}  // namespace

std::string quarantine_record_path(const std::string& db_location, const std::string& node) {
  if (!is_postgres_location(db_location)) return canonical_db_path(db_location) + ".processing";
  const char* runtime = std::getenv("XDG_RUNTIME_DIR");
  std::string dir = runtime != nullptr && *runtime != '\0'
                        ? std::string(runtime) + "/rmaflow"
                        : fmt::format("/tmp/rmaflow-{}", ::getuid());
  ::mkdir(dir.c_str(), 0700);  // or there already: checked below
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != ::getuid()) {
    throw Error(Errc::io, fmt::format("cannot keep the quarantine record in {}: it is not a "
                                      "directory of this user's",
                                      dir));
  }
  // The digest names the database (the URI, password and all, which the name does not show).
  return fmt::format("{}/{}.processing", dir, sha256_hex(db_location + '\n' + node).substr(0, 32));
}

QuarantineRecord::QuarantineRecord(const std::string& path) {
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0 || ::ftruncate(fd_, sizeof(Layout)) != 0) {
    auto why = std::strerror(errno);
    if (fd_ >= 0) ::close(fd_);
    throw Error(Errc::io, fmt::format("cannot create the quarantine record {}: {}", path, why));
  }
  void* mapped = ::mmap(nullptr, sizeof(Layout), PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
  if (mapped == MAP_FAILED) {
    auto why = std::strerror(errno);
    ::close(fd_);
    throw Error(Errc::io, fmt::format("cannot map the quarantine record {}: {}", path, why));
  }
  layout_ = static_cast<Layout*>(mapped);
  if (std::memcmp(layout_->magic, kMagic, sizeof kMagic) != 0) {
    std::memset(layout_, 0, sizeof(Layout));
    std::memcpy(layout_->magic, kMagic, sizeof kMagic);
  }
  std::string current = read_id(layout_->current);
  if (current.empty()) {
    // The last process ended cleanly, or died between instances: no streak.
    layout_->deaths = 0;
    layout_->suspect[0] = '\0';
  } else {
    bool again = current == read_id(layout_->suspect);
    layout_->deaths = again ? layout_->deaths + 1 : 1;
    write_id(layout_->suspect, current);
  }
  layout_->current[0] = '\0';
}

QuarantineRecord::~QuarantineRecord() {
  if (layout_ != nullptr) ::munmap(layout_, sizeof(Layout));
  if (fd_ >= 0) ::close(fd_);
}

std::optional<std::string> QuarantineRecord::suspect() const {
  if (layout_->deaths < 2) return std::nullopt;
  return read_id(layout_->suspect);
}

void QuarantineRecord::cleared() {
  layout_->deaths = 0;
  layout_->suspect[0] = '\0';
}

void QuarantineRecord::set_current(const std::string& id) { write_id(layout_->current, id); }

QuarantineRecord::Scope::Scope(QuarantineRecord* record, const std::string& instance_id)
    : record_(record) {
  if (record_ == nullptr) return;
  previous_ = read_id(record_->layout_->current);
  record_->set_current(instance_id);
}

QuarantineRecord::Scope::~Scope() {
  if (record_ != nullptr) record_->set_current(previous_);
}

}  // namespace rmaflow
