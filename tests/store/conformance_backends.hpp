// The backends the store conformance suite runs every test against: each gives a fresh,
// empty database location that open_store() accepts. TEST_CASE_TEMPLATE over kBackends.
#pragma once

#include <doctest/doctest.h>

#include <string>

#include "tests/support/pg_cluster.hpp"
#include "tests/support/process.hpp"

namespace rmaflow::testing {

// A SQLite file in its own temporary directory.
struct SqliteBackend {
  TempDir dir;
  std::string location = dir.file("store.db");
  // Makes the location an empty database, as a new PostgreSQL database is.
  void create_empty() const { dir.write("store.db", ""); }
};

// A new database on the process's throwaway PostgreSQL 15 cluster.
struct PostgresBackend {
  std::string location = PgCluster::shared().create_database();
  void create_empty() const {}
};

}  // namespace rmaflow::testing

TYPE_TO_STRING(rmaflow::testing::SqliteBackend);
TYPE_TO_STRING(rmaflow::testing::PostgresBackend);

#define RMAFLOW_BACKENDS rmaflow::testing::SqliteBackend, rmaflow::testing::PostgresBackend
