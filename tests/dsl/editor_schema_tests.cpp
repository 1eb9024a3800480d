// The editor schema (workflows/schemas/workflow.schema.json): every shipped workflow validates
// against it, it refuses what the loader refuses by key, and it lists exactly the keys the
// loader accepts, read from the loader's own key tables.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>

#define VALIJSON_USE_EXCEPTIONS 1
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include "engine/dsl/dsl_keys.hpp"
#include "engine/dsl/yaml_values.hpp"
#include "tests/dsl/dsl_test_support.hpp"

using namespace rmaflow;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

const json& schema_json() {
  static const json schema =
      json::parse(read(testing::source_dir() + "/workflows/schemas/workflow.schema.json"));
  return schema;
}

const valijson::Schema& schema() {
  static const std::unique_ptr<valijson::Schema> parsed = [] {
    auto s = std::make_unique<valijson::Schema>();
    valijson::SchemaParser parser;
    valijson::adapters::NlohmannJsonAdapter adapter(schema_json());
    parser.populateSchema(adapter, *s);
    return s;
  }();
  return *parsed;
}

// Every error valijson reports, one per line, for the failure message.
std::string violations(const std::string& yaml) {
  json document = dsl::to_json(YAML::Load(yaml));
  valijson::Validator validator;
  valijson::ValidationResults results;
  valijson::adapters::NlohmannJsonAdapter target(document);
  if (validator.validate(schema(), target, &results)) return "";
  std::string out;
  valijson::ValidationResults::Error error;
  while (results.popError(error)) {
    for (const auto& part : error.context) out += part;
    out += ": " + error.description + "\n";
  }
  return out.empty() ? "invalid\n" : out;
}

// The workflows the project ships (the returns pack) and the test fixtures.
std::vector<std::string> workflows_and_fixture() {
  auto files = dsl_testing::shipped_workflows();
  files.push_back(dsl_testing::fixtures_dir() + "/standard_return.yaml");
  files.push_back(dsl_testing::fixtures_dir() + "/per_line_return.yaml");
  return files;
}

std::set<std::string> keys(const json& properties) {
  std::set<std::string> out;
  for (const auto& [key, value] : properties.items()) out.insert(key);
  return out;
}

}  // namespace

TEST_CASE("Dsl.EditorSchema.EveryShippedWorkflowValidates") {
  auto files = workflows_and_fixture();
  CHECK(files.size() >= 5);  // three in the returns pack, the fixtures
  for (const auto& file : files) {
    INFO(file);
    auto text = read(file);
    REQUIRE_LOADED(load_definition_file(file));
    CHECK(violations(text) == "");
  }
}

TEST_CASE("Dsl.EditorSchema.ListsExactlyTheKeysTheLoaderAccepts") {
  const json& definitions = schema_json().at("definitions");
  std::set<std::string> tables;
  for (const auto& table : dsl::key_tables()) {
    INFO("loader table ", table.name);
    tables.insert(std::string(table.name));
    REQUIRE(definitions.contains(table.name));
    const json& def = definitions.at(std::string(table.name));
    CHECK(def.value("additionalProperties", true) == false);  // unknown keys are flagged
    std::set<std::string> loader(table.keys.begin(), table.keys.end());
    CHECK(keys(def.at("properties")) == loader);
  }
  // And the schema describes no mapping the loader does not read.
  for (const auto& [name, def] : definitions.items()) {
    if (!def.contains("properties")) continue;
    INFO("schema definition ", name);
    CHECK(tables.count(name) == 1);
  }
}

TEST_CASE("Dsl.EditorSchema.FlagsWhatTheLoaderRefusesByKey") {
  auto workflow = [](const std::string& steps) {
    return "workflow: t\nversion: 1\nstart: a\nsteps:\n" + steps;
  };
  CHECK(violations(workflow("  a: { end: completed }\n")) == "");
  // An unknown key, a key of another kind of step, two kinds, no kind.
  for (const char* steps : {"  a: { end: completed, retries: 3 }\n",
                            "  a: { end: completed, next: b }\n",
                            "  a: { action: x.y, wait: { duration: 1s }, next: b }\n",
                            "  a: { next: b }\n",
                            "  a: { wait: { signal: s, duration: 1s }, next: b }\n",
                            "  a: { wait: { duration: 1s, timeout: 2s }, next: b }\n",
                            "  a: { action: x.y, result: input, next: b }\n",
                            "  a: { action: x.y, timeout: 30, next: b }\n",
                            "  a: { end: compensated }\n",
                            // Fan-out, call, match and branch ends (issue 13).
                            "  a: { end: restocked }\n",
                            "  a: { foreach: lines, start: x, steps: { x: { end: done } }, next: b }\n",
                            "  a: { foreach: [1], steps: { x: { end: done } }, next: b }\n",
                            "  a: { foreach: [1], as: branch, start: x, steps: { x: { end: done } }, next: b }\n",
                            "  a: { foreach: [1], key: L1, start: x, steps: { x: { end: done } }, next: b }\n",
                            "  a: { foreach: [1], concurrency: 0, start: x, steps: { x: { end: done } }, next: b }\n",
                            "  a: { foreach: [1], on_branch_failure: stop, start: x, steps: { x: { end: done } }, next: b }\n",
                            "  a: { foreach: [1], start: x, steps: { x: { end: Done } }, next: b }\n",
                            "  a: { foreach: [1], start: x, steps: { x: { end: done } }, pivot: true, next: b }\n",
                            "  a: { parallel: {}, next: b }\n",
                            "  a: { parallel: { one: { steps: { x: { end: done } } } }, next: b }\n",
                            "  a: { parallel: { one: { start: x, steps: { x: { end: done } }, next: b } }, next: b }\n",
                            "  a: { call: { workflow: child }, next: b }\n",
                            "  a: { call: { workflow: Child, input: {} }, next: b }\n",
                            "  a: { call: { workflow: child, input: {}, version: 0 }, next: b }\n",
                            "  a: { wait: { duration: 1s, match: x }, next: b }\n"}) {
    INFO(steps);
    CHECK(violations(workflow(steps)) != "");
    CHECK_FALSE(dsl_testing::load(workflow(steps + std::string("  b: { end: completed }\n"))).ok());
  }
  CHECK(violations("workflow: t\nversion: 1\nstart: a\nsteps: { a: { end: completed } }\n"
                   "retry: {}\n") != "");
  // And accepts what the loader accepts: a branch end that compensates, a call without version.
  for (const char* steps :
       {"  a: { foreach: [1], start: x, steps: { x: { end: { status: done, compensate: true } } }, next: b }\n",
        "  a: { call: { workflow: child, input: \"${ .input }\" }, next: b }\n"}) {
    INFO(steps);
    CHECK(violations(workflow(steps)) == "");
    REQUIRE_LOADED(dsl_testing::load(workflow(steps + std::string("  b: { end: completed }\n"))));
  }
}

namespace {

// The ```yaml blocks of a Markdown file that are whole workflows (start with `workflow:`), each
// with the line it starts on.
std::vector<std::pair<int, std::string>> workflow_examples(const std::string& markdown) {
  std::vector<std::pair<int, std::string>> out;
  std::istringstream in(markdown);
  std::string line, block;
  int number = 0, start = 0;
  bool inside = false;
  while (std::getline(in, line)) {
    ++number;
    if (!inside && line == "```yaml") {
      inside = true;
      start = number + 1;
      block.clear();
    } else if (inside && line == "```") {
      inside = false;
      if (block.rfind("workflow:", 0) == 0) out.emplace_back(start, block);
    } else if (inside) {
      block += line + "\n";
    }
  }
  return out;
}

}  // namespace

TEST_CASE("Dsl.Docs.Issue13.EveryWorkflowInTheReferenceLoadsCleanly") {
  auto examples = workflow_examples(read(testing::source_dir() + "/docs/dsl.md"));
  CHECK(examples.size() >= 4);  // the file, foreach, parallel and call, match
  for (const auto& [line, yaml] : examples) {
    INFO("docs/dsl.md line ", line);
    auto r = load_definition(yaml, "docs/dsl.md", testing::source_dir() + "/workflows");
    INFO(dsl_testing::listing(r));
    CHECK(r.ok());
    CHECK(r.diagnostics.empty());  // no lint either: examples show the way to write it
    CHECK(violations(yaml) == "");
  }
}
