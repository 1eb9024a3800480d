// The raw SQLite append measurement: it returns rates and leaves nothing behind.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>

#include "engine/store/raw_append_bench.hpp"
#include "rmaflow/errors.hpp"
#include "tests/support/process.hpp"

using namespace rmaflow;
using rmaflow::testing::TempDir;

TEST_CASE("Store.RawAppend.MeasuresAndCleansUp") {
  TempDir dir;
  RawAppendOptions options{dir.path(), SyncMode::normal, std::chrono::milliseconds(50), 500, 100};
  auto rates = measure_raw_append(options);
  CHECK(rates.single_row_commits_per_s > 0);
  CHECK(rates.batched_rows_per_s > 0);
  // One duration per single-row commit (at most the 500 rows allowed), sorted.
  const auto& took = rates.single_row_commit_ms;
  REQUIRE_FALSE(took.empty());
  CHECK(took.size() <= 500);
  CHECK(std::is_sorted(took.begin(), took.end()));
  CHECK(took.front() > 0);
  CHECK(std::filesystem::is_empty(dir.path()));
}

TEST_CASE("Store.RawAppend.MissingDirectoryIsStorageError") {
  TempDir dir;
  CHECK_THROWS_AS(measure_raw_append(RawAppendOptions{dir.file("missing/deeper")}), Error);
}

// Not a timed test: run by hand (store_tests -tc=Store.Bench.* --no-skip) to see the rates.
TEST_CASE("Store.Bench.RawAppend" * doctest::skip()) {
  TempDir dir;
  for (SyncMode sync : {SyncMode::full, SyncMode::normal}) {
    auto rates = measure_raw_append(RawAppendOptions{dir.path(), sync});
    const std::string mode = sync == SyncMode::full ? "FULL" : "NORMAL";
    MESSAGE(mode << ": single-row commits/s " << rates.single_row_commits_per_s
                 << ", rows/s at 100 per commit " << rates.batched_rows_per_s);
  }
}
