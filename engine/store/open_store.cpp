// The one place that turns a `--db` value into a Store.
#include <fmt/format.h>

#include "rmaflow/errors.hpp"
#include "rmaflow/store.hpp"

namespace rmaflow {

bool is_postgres_location(std::string_view location) {
  return location.starts_with("postgresql://") || location.starts_with("postgres://");
}

std::unique_ptr<Store> open_store(const std::string& location, const StoreOptions& options) {
  if (location.empty()) throw Error(Errc::invalid_argument, "no database given");
  if (is_postgres_location(location)) return open_postgres_store(location, options);
  return open_sqlite_store(location, options);
}

}  // namespace rmaflow
