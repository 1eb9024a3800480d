#include "engine/support/db_file.hpp"

#include <sys/stat.h>

#include <filesystem>

#include <fmt/format.h>

#include "rmaflow/errors.hpp"

namespace rmaflow {

std::string canonical_db_path(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path canonical = fs::weakly_canonical(fs::absolute(path, ec), ec);
  if (ec) throw Error(Errc::io, fmt::format("cannot resolve the path {}: {}", path, ec.message()));
  struct stat st {};
  if (::stat(canonical.c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink > 1) {
    throw Error(Errc::storage,
                fmt::format("the database {} has {} hard links; SQLite keeps a write-ahead log per "
                            "name, so a database opened under two names gets corrupted: remove "
                            "the other links and open it by one name",
                            path, st.st_nlink));
  }
  return canonical.string();
}

}  // namespace rmaflow
