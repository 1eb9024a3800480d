#include "rmaflow/store.hpp"

#include "rmaflow/errors.hpp"

namespace rmaflow {

std::unique_ptr<Store> open_sqlite_store(const std::string& path, const StoreOptions&) {
  throw Error(Errc::storage, "the SQLite store is not built yet: " + path);
}

}  // namespace rmaflow
