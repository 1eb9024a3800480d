// The API's parts on their own: the routing table against docs/openapi.yaml, tokens and their
// file, times in query parameters, problems.
#include <doctest/doctest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <future>
#include <set>

#include "engine/api/auth.hpp"
#include "engine/api/definition_cache.hpp"
#include "engine/api/problem.hpp"
#include "engine/api/router.hpp"
#include "engine/api/token_file.hpp"
#include "engine/support/sha256.hpp"
#include "tests/support/hostile_yaml.hpp"
#include "tests/support/process.hpp"

using namespace rmaflow;
using namespace rmaflow::api;
using rmaflow::testing::TempDir;

TEST_CASE("Api.Docs.EveryRouteIsInTheOpenApiFile") {
  auto doc = YAML::LoadFile(testing::source_dir() + "/docs/openapi.yaml");
  REQUIRE(doc["openapi"].as<std::string>().rfind("3.", 0) == 0);
  auto paths = doc["paths"];
  std::set<std::pair<std::string, std::string>> routes;
  for (const auto& route : api_routes()) {
    std::string method = route.method;
    std::transform(method.begin(), method.end(), method.begin(), ::tolower);
    routes.insert({route.pattern, method});
    CAPTURE(route.pattern);
    CAPTURE(method);
    REQUIRE(paths[route.pattern]);
    auto operation = paths[route.pattern][method];
    REQUIRE(operation);
    CHECK(operation["summary"]);
    CHECK(operation["responses"]);
  }
  // And nothing is documented that the server does not have.
  for (const auto& path : paths) {
    for (const auto& op : path.second) {
      auto method = op.first.as<std::string>();
      if (method == "parameters") continue;
      CHECK_MESSAGE(routes.count({path.first.as<std::string>(), method}) == 1,
                    method, " ", path.first.as<std::string>(), " is documented but not served");
    }
  }
}

TEST_CASE("Api.Auth.RolesGrantWhatTheDesignSays") {
  CHECK(role_may(Role::submitter, Permission::start));
  CHECK(role_may(Role::submitter, Permission::signal));
  CHECK_FALSE(role_may(Role::submitter, Permission::read));
  CHECK_FALSE(role_may(Role::viewer, Permission::start));
  CHECK(role_may(Role::viewer, Permission::read));
  CHECK_FALSE(role_may(Role::viewer, Permission::act));
  CHECK(role_may(Role::operator_, Permission::act));
  CHECK(role_may(Role::operator_, Permission::read));
  CHECK_FALSE(role_may(Role::operator_, Permission::deploy));
  CHECK_FALSE(role_may(Role::operator_, Permission::start));
  for (auto p : {Permission::start, Permission::signal, Permission::read, Permission::act,
                 Permission::deploy}) {
    CHECK(role_may(Role::admin, p));
  }
  CHECK(parse_role("operator") == Role::operator_);
  CHECK_FALSE(parse_role("root").has_value());
}

TEST_CASE("Api.Auth.TokensAreCheckedByTheirHash") {
  auto token = new_token();
  CHECK(token.rfind("rmf_", 0) == 0);
  CHECK(token.size() == 4 + 43);
  CHECK(new_token() != token);
  Authenticator auth({TokenEntry{"ops", Role::operator_, sha256_hex(token)}});
  auto who = auth.authenticate("Bearer " + token);
  REQUIRE(who.has_value());
  CHECK(who->name == "ops");
  CHECK(who->role == Role::operator_);
  CHECK_FALSE(auth.authenticate("Bearer " + token + "x").has_value());
  CHECK_FALSE(auth.authenticate(token).has_value());
  CHECK_FALSE(auth.authenticate("Bearer " + sha256_hex(token)).has_value());  // the hash is no token
}

TEST_CASE("Api.Tokens.FileRoundTripAndErrors") {
  TempDir dir;
  auto path = dir.file("tokens.yaml");
  std::vector<TokenEntry> tokens = {{"platform", Role::submitter, sha256_hex("a")},
                                    {"ops@example", Role::operator_, sha256_hex("b")}};
  save_token_file(path, tokens);
  auto loaded = load_token_file(path);
  REQUIRE(loaded.size() == 2);
  CHECK(loaded[1].name == "ops@example");
  CHECK(loaded[1].role == Role::operator_);
  CHECK(loaded[1].sha256 == sha256_hex("b"));

  auto bad = [&](const std::string& text, const std::string& expected) {
    dir.write("bad.yaml", text);
    CAPTURE(text);
    CHECK_THROWS_WITH_AS(load_token_file(dir.file("bad.yaml")), doctest::Contains(expected.c_str()), Error);
  };
  auto hash = sha256_hex("x");
  bad("tokens:\n  - { name: a, role: root, sha256: " + hash + " }\n", "bad.yaml:2:");
  bad("tokens:\n  - { name: a, role: root, sha256: " + hash + " }\n", "unknown role \"root\"");
  bad("tokens:\n  - { name: a, role: viewer, sha256: abc }\n", "64 lower-case hex");
  bad("tokens:\n  - { name: a, role: viewer }\n", "no sha256");
  bad("tokens:\n  - { name: a, role: viewer, sha256: " + hash + ", token: t }\n", "unknown key");
  bad("tokens:\n  - { name: a, role: viewer, sha256: " + hash + " }\n  - { name: a, role: admin, sha256: " +
          hash + " }\n",
      "a second token is named a");
  bad("users: []\n", "one key, tokens");
  // Aliases expanding past a million nodes: refused before anything walks them.
  bad(testing::yaml_alias_bomb() + "tokens: *h\n", "the most a tokens file may hold");
  CHECK_THROWS_AS(load_token_file(dir.file("missing.yaml")), Error);
}

TEST_CASE("Api.Problem.EngineErrorsMapToStatuses") {
  CHECK(problem_from(Error(Errc::not_found, "x")).status == 404);
  CHECK(problem_from(Error(Errc::conflict, "x")).status == 409);
  CHECK(problem_from(Error(Errc::refused, "x")).status == 409);
  auto input = problem_from(InvalidInput("bad", "/lines/0/qty"));
  CHECK(input.status == 422);
  CHECK(input.pointer == "/input/lines/0/qty");
  CHECK(problem_from(Error(Errc::storage, "x")).status == 503);
  auto body = problem_json(make_problem(422, "invalid-field", "reason is required", "/reason"));
  CHECK(body["type"] == "urn:rmaflow:problem:invalid-field");
  CHECK(body["pointer"] == "/reason");
  CHECK(json_pointer({"patch", "a/b~c"}) == "/patch/a~1b~0c");
}

// A version's drawing is made without the cache held: while one is being laid out (Graphviz
// takes minutes over some graphs), another thread gets its definitions at once, and the
// drawing, once made, is kept.
TEST_CASE("Api.DefinitionCache.ADrawingHoldsUpNoOtherQuery") {
  auto loaded = load_definition(
      "workflow: drawn\nversion: 1\nstart: a\nsteps:\n  a: { end: completed }\n", "drawn.yaml");
  REQUIRE(loaded.ok());
  std::promise<void> started;
  std::promise<void> finish;
  std::shared_future<void> finishing = finish.get_future().share();
  int drawings = 0;
  DefinitionCache cache([&](const Definition&) {
    ++drawings;
    started.set_value();
    finishing.wait();
    return std::string("<svg/>");
  });
  cache.add(loaded.definition);
  DefinitionRow row;
  row.name = "drawn";
  row.version = 1;
  row.content_hash = loaded.definition->content_hash;
  auto drawing = std::async(std::launch::async, [&] { return cache.svg(row); });
  started.get_future().wait();
  // Answered while the drawing is under way (with the cache held through it, this waited for
  // the drawing: the bound only keeps a failure from hanging the run).
  auto got = std::async(std::launch::async, [&] { return cache.get(row); });
  bool answered = got.wait_for(std::chrono::seconds(60)) == std::future_status::ready;
  finish.set_value();
  CHECK(answered);
  CHECK(got.get() == loaded.definition);
  CHECK(drawing.get() == "<svg/>");
  CHECK(cache.svg(row) == "<svg/>");
  CHECK(drawings == 1);
}
