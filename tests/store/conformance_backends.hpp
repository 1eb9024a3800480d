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
  // Known divergence: instance_attributes.value is declared ANY in a table that is not STRICT,
  // which SQLite gives NUMERIC affinity, so the text "500" (or "00123") is stored, compared
  // and read back as the number 500 (123), against the contract of AttributeCondition.
  static constexpr bool kTextAttributesStayText = false;
};

// A new database on the process's throwaway PostgreSQL 15 cluster.
struct PostgresBackend {
  std::string location = PgCluster::shared().create_database();
  void create_empty() const {}
  static constexpr bool kTextAttributesStayText = true;
};

}  // namespace rmaflow::testing

TYPE_TO_STRING(rmaflow::testing::SqliteBackend);
TYPE_TO_STRING(rmaflow::testing::PostgresBackend);

#define RMAFLOW_BACKENDS rmaflow::testing::SqliteBackend, rmaflow::testing::PostgresBackend
