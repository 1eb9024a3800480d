#include "engine/store/sqlite_error.hpp"

#include <fmt/format.h>
#include <sqlite3.h>

namespace rmaflow::store {

Error storage_error(const std::string& path, std::string_view action, const SQLite::Exception& e) {
  if (e.getErrorCode() == SQLITE_NOTADB) {
    return Error(Errc::storage,
                 fmt::format("{} is not an rmaflow database (SQLite: {})", path, e.what()));
  }
  if ((e.getErrorCode() & 0xFF) == SQLITE_CORRUPT) {
    return Error(Errc::storage,
                 fmt::format("{} is corrupt and cannot be used (SQLite: {}); rmaflow db check "
                             "names what is damaged: restore it from a backup",
                             path, e.what()));
  }
  return Error(Errc::storage, fmt::format("cannot {} {} (SQLite: {})", action, path, e.what()));
}

}  // namespace rmaflow::store
