// The API's parts on their own: the routing table against docs/openapi.yaml, tokens and their
// file, times in query parameters, problems.
#include <doctest/doctest.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <set>

#include "engine/api/auth.hpp"
#include "engine/api/drawings.hpp"
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

namespace {

struct Drawn {
  std::string svg;
  std::exception_ptr error;
};

// What a drawing answered, waited for (the bound only keeps a failure from hanging the run).
class Answers {
 public:
  Drawings::Done done() {
    auto promise = std::make_shared<std::promise<Drawn>>();
    futures_.push_back(promise->get_future());
    return [promise](std::string svg, std::exception_ptr error) {
      promise->set_value({std::move(svg), error});
    };
  }
  Drawn get(std::size_t i) {
    REQUIRE(futures_.at(i).wait_for(std::chrono::seconds(60)) == std::future_status::ready);
    return futures_.at(i).get();
  }
  bool ready(std::size_t i) {
    return futures_.at(i).wait_for(std::chrono::seconds(0)) == std::future_status::ready;
  }

 private:
  std::vector<std::future<Drawn>> futures_;
};

Problem problem_of(const Drawn& drawn) {
  REQUIRE(drawn.error);
  return problem_for(drawn.error);
}

DefinitionRow row_of(const Definition& definition) {
  DefinitionRow row;
  row.name = definition.name;
  row.version = definition.version;
  row.content_hash = definition.content_hash;
  return row;
}

std::shared_ptr<const Definition> drawn_workflow(const std::string& name) {
  auto loaded = load_definition(
      "workflow: " + name + "\nversion: 1\nstart: a\nsteps:\n  a: { end: completed }\n",
      name + ".yaml");
  REQUIRE(loaded.ok());
  return loaded.definition;
}

}  // namespace

// A version's drawing is laid out once and kept; a version whose layout passed a bound is
// refused at once after, with its path drawn on it too, naming the bound and what to ask for
// instead.
TEST_CASE("Api.Drawings.KeptOnceMadeAndRefusedOnceRefused") {
  auto small = drawn_workflow("small");
  auto huge = drawn_workflow("huge");
  std::atomic<int> layouts = 0;
  Drawings drawings(
      [&](const std::string& dot, int) -> std::string {
        ++layouts;
        if (dot.find("huge") != std::string::npos) {
          throw LayoutRefused("Graphviz did not lay out the graph within 15s");
        }
        return "<svg/>";
      },
      1, 8);
  Answers answers;
  drawings.draw(row_of(*small), *small, nullptr, answers.done());
  CHECK(answers.get(0).svg == "<svg/>");
  drawings.draw(row_of(*small), *small, nullptr, answers.done());
  CHECK(answers.get(1).svg == "<svg/>");
  CHECK(layouts == 1);
  GraphOverlay path;  // an instance's path is drawn each time
  drawings.draw(row_of(*small), *small, &path, answers.done());
  CHECK(answers.get(2).svg == "<svg/>");
  CHECK(layouts == 2);

  drawings.draw(row_of(*huge), *huge, nullptr, answers.done());
  auto refused = problem_of(answers.get(3));
  CHECK(refused.status == 422);
  CHECK(refused.type == "graph-too-large");
  CHECK(refused.detail ==
        "workflow huge version 1 cannot be drawn as SVG: Graphviz did not lay out the graph "
        "within 15s; format=dot or format=mermaid give the graph without a layout");
  CHECK(layouts == 3);
  drawings.draw(row_of(*huge), *huge, nullptr, answers.done());
  drawings.draw(row_of(*huge), *huge, &path, answers.done());
  CHECK(answers.ready(4));  // answered on the caller's thread, with no layout
  CHECK(answers.ready(5));
  CHECK(problem_of(answers.get(4)).detail == refused.detail);
  CHECK(problem_of(answers.get(5)).detail == refused.detail);
  CHECK(layouts == 3);
}

// A layout that ends when `release` or the cancel descriptor becomes readable.
class GatedLayout {
 public:
  GatedLayout() : release_(eventfd(0, EFD_CLOEXEC)) { REQUIRE(release_ >= 0); }
  ~GatedLayout() { ::close(release_); }
  Drawings::Layout layout() {
    return [this](const std::string&, int cancel_fd) -> std::string {
      if (++layouts == 1) started_.set_value();
      pollfd wait[2] = {{release_, POLLIN, 0}, {cancel_fd, POLLIN, 0}};
      REQUIRE(::poll(wait, 2, 60'000) >= 1);
      if (wait[1].revents != 0) throw Error(Errc::io, "the graph's layout was stopped");
      return "<svg/>";
    };
  }
  void wait_started() {
    REQUIRE(started_.get_future().wait_for(std::chrono::seconds(60)) == std::future_status::ready);
  }
  void release() {
    std::uint64_t one = 1;
    REQUIRE(::write(release_, &one, sizeof one) == sizeof one);
  }
  std::atomic<int> layouts = 0;

 private:
  int release_;
  std::promise<void> started_;
};

// Layouts run off the caller's thread; requests for a version's drawing under way wait for it
// rather than lay it out again.
TEST_CASE("Api.Drawings.OneLayoutAnswersEveryRequestForIt") {
  auto definition = drawn_workflow("popular");
  GatedLayout gate;
  Drawings drawings(gate.layout(), 2, 1);
  Answers answers;
  drawings.draw(row_of(*definition), *definition, nullptr, answers.done());
  gate.wait_started();
  CHECK_FALSE(answers.ready(0));  // the caller was not held
  for (int i = 0; i < 5; ++i)
    drawings.draw(row_of(*definition), *definition, nullptr, answers.done());
  gate.release();
  for (std::size_t i = 0; i < 6; ++i) CHECK(answers.get(i).svg == "<svg/>");
  CHECK(gate.layouts == 1);
}

// A bounded number of layouts waits; stopping kills the one under way (its cancel descriptor
// is readable) and answers the rest, and whatever comes after, 503.
TEST_CASE("Api.Drawings.BoundedAndStopped") {
  auto definition = drawn_workflow("slow");
  GatedLayout gate;
  Drawings drawings(gate.layout(), 1, 1);
  Answers answers;
  GraphOverlay path;
  drawings.draw(row_of(*definition), *definition, nullptr, answers.done());  // under way
  gate.wait_started();
  drawings.draw(row_of(*definition), *definition, nullptr, answers.done());  // waits for it
  drawings.draw(row_of(*definition), *definition, &path, answers.done());    // waits its turn
  drawings.draw(row_of(*definition), *definition, &path, answers.done());    // one too many
  CHECK(answers.ready(3));
  auto busy = problem_of(answers.get(3));
  CHECK(busy.status == 503);
  CHECK(busy.type == "busy");  // nothing under way for it: it may be asked again as it is
  CHECK(busy.detail == "too many graphs are being drawn (1 wait for a layout); ask again shortly");

  drawings.stop();
  for (std::size_t i : {0, 1, 2}) {
    CAPTURE(i);
    auto stopped = problem_of(answers.get(i));
    CHECK(stopped.status == 503);
    CHECK(stopped.type == "unavailable");
    CHECK(stopped.detail == "the server is stopping");
  }
  CHECK(gate.layouts == 1);
  drawings.draw(row_of(*definition), *definition, &path, answers.done());
  CHECK(problem_of(answers.get(4)).status == 503);
}
