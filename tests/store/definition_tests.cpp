// Definitions: insert, unchanged re-deploy, conflicting content, lookups.
#include <doctest/doctest.h>

#include "tests/store/store_rows.hpp"
#include "tests/support/process.hpp"

using namespace rmaflow;
using rmaflow::testing::TempDir;

TEST_CASE("Store.Definition.InsertedUnchangedConflict") {
  TempDir dir;
  auto s = open_sqlite_store(dir.file("defs.db"));
  const auto v1 = testing::definition_row("standard-return", 1, "aaa");

  CHECK(s->put_definition(v1) == PutResult::inserted);
  CHECK(s->put_definition(v1) == PutResult::unchanged);

  auto other = testing::definition_row("standard-return", 1, "bbb");
  try {
    s->put_definition(other);
    FAIL("conflicting content was accepted");
  } catch (const Error& e) {
    CHECK(e.code() == Errc::conflict);
    const std::string message = e.what();
    CHECK(message.find("standard-return") != std::string::npos);
    CHECK(message.find("version 1") != std::string::npos);
  }
  CHECK(s->get_definition("standard-return", 1)->content_hash == "aaa");
  CHECK(s->list_definitions().size() == 1);
}

TEST_CASE("Store.Definition.RoundTripAndLatest") {
  TempDir dir;
  auto s = open_sqlite_store(dir.file("defs.db"));
  for (int version : {2, 1, 10}) {
    s->put_definition(
        testing::definition_row("standard-return", version, "h" + std::to_string(version)));
  }
  s->put_definition(testing::definition_row("exchange", 1, "x"));

  const auto expected = testing::definition_row("standard-return", 2, "h2");
  auto got = s->get_definition("standard-return", 2);
  REQUIRE(got);
  CHECK(got->name == expected.name);
  CHECK(got->version == expected.version);
  CHECK(got->content_hash == expected.content_hash);
  CHECK(got->source == expected.source);
  CHECK(got->input_schema == expected.input_schema);
  CHECK(got->file == expected.file);
  CHECK(got->deployed_at == expected.deployed_at);

  CHECK(s->latest_definition("standard-return")->version == 10);
  CHECK_FALSE(s->latest_definition("missing").has_value());
  CHECK_FALSE(s->get_definition("standard-return", 3).has_value());

  auto all = s->list_definitions();
  REQUIRE(all.size() == 4);
  CHECK(all[0].name == "exchange");
  CHECK(all[1].version == 1);
  CHECK(all[2].version == 2);
  CHECK(all[3].version == 10);
}
