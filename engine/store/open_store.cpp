// The one place that turns a `--db` value into a Store.
#include <fmt/format.h>

#include "engine/store/pg_connection.hpp"
#include "rmaflow/errors.hpp"
#include "rmaflow/store.hpp"

namespace rmaflow {

bool is_postgres_location(std::string_view location) {
  return location.starts_with("postgresql://") || location.starts_with("postgres://");
}

std::string display_location(std::string_view location) {
  return is_postgres_location(location) ? store::redact_password(location) : std::string(location);
}

std::unique_ptr<Store> open_store(const std::string& location, const StoreOptions& options) {
  if (location.empty()) throw Error(Errc::invalid_argument, "no database given");
  if (is_postgres_location(location)) return open_postgres_store(location, options);
  if (!options.node.empty()) {
    throw Error(Errc::invalid_argument,
                fmt::format("nodes share a PostgreSQL database, and {} is a SQLite file, which "
                            "one engine serves alone: leave --node out, or give a "
                            "postgresql:// URI",
                            location));
  }
  return open_sqlite_store(location, options);
}

}  // namespace rmaflow
