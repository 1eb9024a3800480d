// Every diagnostic code, at its exact line and column. Positions are 1-based; the with_steps()
// header takes lines 1-4, so step text starts on line 5.
#include <doctest/doctest.h>

#include "tests/dsl/dsl_test_support.hpp"
#include "tests/support/process.hpp"

using namespace rmaflow;
using namespace rmaflow::dsl_testing;

namespace {
// A valid two-step tail to append after a step under test, so that it has somewhere to go.
const std::string kEnd = "  b: { end: completed }\n";
}  // namespace

TEST_CASE("Dsl.Validate.Io") {
  auto r = load_definition_file(fixtures_dir() + "/no_such_file.yaml");
  CHECK_FALSE(r.ok());
  REQUIRE(r.diagnostics.size() == 1);
  CHECK_DIAG(r, "io", 1, 1);
  CHECK(r.diagnostics[0].file == fixtures_dir() + "/no_such_file.yaml");
  CHECK(r.diagnostics[0].message ==
        "cannot read the workflow file " + fixtures_dir() + "/no_such_file.yaml: no such file");
  auto dir = load_definition_file(fixtures_dir());
  CHECK_DIAG(dir, "io", 1, 1);
  CHECK(dir.diagnostics[0].message ==
        "cannot read the workflow file " + fixtures_dir() + ": it is a directory");
}

TEST_CASE("Dsl.Validate.YamlSyntax") {
  auto r = load("workflow: t\nversion: 1\nsteps:\n  a: {end: completed\n");
  CHECK_FALSE(r.ok());
  REQUIRE(r.diagnostics.size() == 1);
  CHECK(r.diagnostics[0].code == "yaml-syntax");
  CHECK(r.diagnostics[0].where.line >= 4);
  CHECK(r.diagnostics[0].message.find("quoted") == std::string::npos);

  auto bad_indent = load("workflow: t\nversion: 1\n  start: a\n");
  CHECK_DIAG(bad_indent, "yaml-syntax", 3, 8);
}

TEST_CASE("Dsl.Validate.YamlSyntaxHintsQuotingTemplatesInFlow") {
  auto r = load(with_steps(R"(  a:
    action: x.y
    with: { label_id: ${ .label.label_id } }
    next: b
)" + kEnd));
  REQUIRE(r.diagnostics.size() == 1);
  CHECK_DIAG(r, "yaml-syntax", 7, 24);
  CHECK(r.diagnostics[0].message.find("must be quoted") != std::string::npos);

  auto in_list = load(with_steps("  a:\n    action: x.y\n    with:\n      ids: [ ${ .a }, 2 ]\n"));
  REQUIRE(in_list.diagnostics.size() == 1);
  CHECK(in_list.diagnostics[0].code == "yaml-syntax");
  CHECK(in_list.diagnostics[0].where.line == 8);
  CHECK(in_list.diagnostics[0].message.find("must be quoted") != std::string::npos);
}

TEST_CASE("Dsl.Validate.UnknownKey") {
  auto r = load(R"(workflow: t
version: 1
descripton: typo
defaults:
  timeout: 1s
  retries: {}
  retry: { max_attempts: 2, jiter: none }
start: a
steps:
  a:
    action: x.y
    retires: 3
    catch:
      - errors: [any]
        next: b
        when: x
    compensate:
      action: x.undo
      params: {}
    next: b
  b:
    switch:
      - if: .x
        next: c
        else: d
    default: c
    timeout: 1s
  c:
    wait: { signal: s, timout: 1s }
    next: d
  d:
    end: { status: completed, compensated: true }
)");
  CHECK_FALSE(r.ok());
  CHECK_DIAG(r, "unknown-key", 3, 1);    // top level
  CHECK_DIAG(r, "unknown-key", 6, 3);    // defaults
  CHECK_DIAG(r, "unknown-key", 7, 29);   // retry
  CHECK_DIAG(r, "unknown-key", 12, 5);   // step
  CHECK_DIAG(r, "unknown-key", 16, 9);   // catch entry
  CHECK_DIAG(r, "unknown-key", 19, 7);   // compensate
  CHECK_DIAG(r, "unknown-key", 25, 9);   // switch case
  CHECK_DIAG(r, "unknown-key", 27, 5);   // a task key on a switch step
  CHECK_DIAG(r, "unknown-key", 29, 24);  // wait
  CHECK_DIAG(r, "unknown-key", 32, 31);  // end
  CHECK(count(r, "unknown-key") == 10);
  std::vector<std::string> messages;
  for (const auto& d : r.diagnostics) messages.push_back(d.message);
  CHECK(std::find(messages.begin(), messages.end(),
                  "unknown key \"retires\" in step \"a\"; did you mean \"retry\"?") !=
        messages.end());
  CHECK(std::find(messages.begin(), messages.end(),
                  "unknown key \"descripton\" in the workflow; did you mean \"description\"?") !=
        messages.end());
  const Diagnostic* params = nullptr;
  for (const auto& d : r.diagnostics)
    if (d.where.line == 19) params = &d;
  REQUIRE(params);
  CHECK(params->message.find("allowed keys: action, with, retry, timeout") != std::string::npos);
}

TEST_CASE("Dsl.Validate.MissingKey") {
  auto top = load("description: nothing else\n");
  CHECK(count(top, "missing-key") == 4);  // workflow, version, start, steps
  CHECK_DIAG(top, "missing-key", 1, 1);

  auto r = load(with_steps(R"(  a:
    action: x.y
    catch:
      - errors: [any]
      - next: b
  c:
    switch:
      - next: b
      - if: .x
  d:
    set: { x: 1 }
  e:
    wait: { timeout: 1s }
    next: b
  f:
    end: { compensate: true }
  g:
    action: x.y
    compensate: { with: {} }
    next: b
)" + kEnd));
  CHECK_DIAG(r, "missing-key", 5, 3);   // task without next
  CHECK_DIAG(r, "missing-key", 8, 9);   // catch entry without next
  CHECK_DIAG(r, "missing-key", 9, 9);   // catch entry without errors
  CHECK_DIAG(r, "missing-key", 12, 9);  // switch case without if
  CHECK_DIAG(r, "missing-key", 13, 9);  // switch case without next
  CHECK_DIAG(r, "missing-key", 14, 3);  // set without next
  CHECK_DIAG(r, "missing-key", 17, 5);  // wait without signal or duration
  CHECK_DIAG(r, "missing-key", 20, 5);  // end mapping without status
  CHECK_DIAG(r, "missing-key", 23, 5);  // compensate without action
  for (const auto& d : r.diagnostics)
    if (d.where.line == 5) CHECK(d.message == "missing key \"next\" in step \"a\"");
}

TEST_CASE("Dsl.Validate.WrongType") {
  auto r = load(R"(workflow: t
version: "1"
defaults:
  retry: { max_attempts: 1.5, errors: any }
start: a
steps:
  a:
    action: x.y
    pivot: yes
    catch: { errors: [any], next: b }
    next: b
  b: [ end ]
)");
  CHECK_DIAG(r, "wrong-type", 2, 10);   // version not an integer
  CHECK_DIAG(r, "wrong-type", 4, 26);   // max_attempts not an integer
  CHECK_DIAG(r, "wrong-type", 4, 39);   // errors not a list
  CHECK_DIAG(r, "wrong-type", 9, 12);   // pivot not a bool
  CHECK_DIAG(r, "wrong-type", 10, 12);  // catch not a list
  CHECK_DIAG(r, "wrong-type", 12, 6);   // step not a mapping
  for (const auto& d : r.diagnostics)
    if (d.where.line == 2)
      CHECK(d.message == "\"version\" in the workflow must be an integer, not a string");

  auto description = load(with_steps("  a:\n    end: completed\n    description: [x]\n"));
  CHECK_DIAG(description, "wrong-type", 7, 18);
  auto steps = load("workflow: t\nversion: 1\nstart: a\nsteps: [a, b]\n");
  CHECK_DIAG(steps, "wrong-type", 4, 8);
  auto document = load("- just\n- a list\n");
  CHECK_DIAG(document, "wrong-type", 1, 1);
}

TEST_CASE("Dsl.Validate.BadDuration") {
  auto r = load(R"(workflow: t
version: 1
sla: 2 weeks
defaults:
  timeout: 30
  retry: { interval: 1.5s, max_interval: -5m }
start: a
steps:
  a:
    action: x.y
    timeout: 10S
    next: w
  w:
    wait: { signal: s, timeout: 1w }
    next: d
  d:
    wait: { duration: soon }
    next: b
  b: { end: completed }
)");
  CHECK_DIAG(r, "bad-duration", 3, 6);
  CHECK_DIAG(r, "bad-duration", 5, 12);
  CHECK_DIAG(r, "bad-duration", 6, 22);
  CHECK_DIAG(r, "bad-duration", 6, 42);
  CHECK_DIAG(r, "bad-duration", 11, 14);
  CHECK_DIAG(r, "bad-duration", 14, 33);
  CHECK_DIAG(r, "bad-duration", 17, 23);
  CHECK(count(r, "bad-duration") == 7);
}

TEST_CASE("Dsl.Validate.BadValue") {
  auto r = load(R"(workflow: Standard_Return
version: 0
on_failure: retry
defaults:
  retry: { max_attempts: 0, backoff: 0.5, jitter: some }
start: a
steps:
  a:
    action: erp
    result: input
    next: b
  b:
    action: erp.x.y
    next: c
  c:
    action: 1erp.op
    catch:
      - errors: []
        next: d
    next: d
  d:
    end: done
  Bad:
    end: compensated
  w:
    wait: { signal: s, duration: 1s }
    next: d
  x:
    wait: { duration: 1s }
    on_timeout: d
    next: d
  y:
    set: { input: 1, 2bad: 2 }
    next: d
  z:
    switch: []
)");
  CHECK_DIAG(r, "bad-value", 1, 11);   // workflow name
  CHECK_DIAG(r, "bad-value", 2, 10);   // version < 1
  CHECK_DIAG(r, "bad-value", 3, 13);   // on_failure
  CHECK_DIAG(r, "bad-value", 5, 26);   // max_attempts < 1
  CHECK_DIAG(r, "bad-value", 5, 38);   // backoff < 1
  CHECK_DIAG(r, "bad-value", 5, 51);   // jitter
  CHECK_DIAG(r, "bad-value", 9, 13);   // action without an operation
  CHECK_DIAG(r, "result-overwrites", 10, 13);  // result shadows .input (an error)
  CHECK_DIAG(r, "bad-value", 13, 13);  // operation not an identifier
  CHECK_DIAG(r, "bad-value", 16, 13);  // adapter not an identifier
  CHECK_DIAG(r, "bad-value", 18, 17);  // catch errors empty
  CHECK_DIAG(r, "bad-value", 22, 10);  // end status
  CHECK_DIAG(r, "bad-value", 23, 3);   // step name
  CHECK_DIAG(r, "bad-value", 24, 10);  // compensated is not an end status
  CHECK_DIAG(r, "bad-value", 26, 34);  // signal and duration
  CHECK_DIAG(r, "bad-value", 30, 17);  // on_timeout without timeout
  CHECK_DIAG(r, "result-overwrites", 33, 12);  // set key shadows .input (an error)
  CHECK_DIAG(r, "bad-value", 33, 22);  // set key not an identifier
  CHECK_DIAG(r, "bad-value", 36, 13);  // empty switch
  for (const auto& d : r.diagnostics)
    if (d.where.line == 1)
      CHECK(d.message ==
            "\"workflow\" in the workflow must match [a-z][a-z0-9-]* in at most 200 bytes, not "
            "\"Standard_Return\"");

  auto timeout =
      load(with_steps("  a:\n    wait: { duration: 1s, timeout: 2s }\n    next: b\n" + kEnd));
  CHECK_DIAG(timeout, "bad-value", 6, 36);  // a timeout needs a signal wait
}

TEST_CASE("Dsl.Validate.MissingKind") {
  auto r = load(with_steps("  a:\n    next: b\n    description: nothing to do\n" + kEnd));
  REQUIRE(count(r, "missing-kind") == 1);
  CHECK_DIAG(r, "missing-kind", 5, 3);
  CHECK(find(r, "missing-kind")->message.find("step \"a\"") != std::string::npos);
}

TEST_CASE("Dsl.Validate.AmbiguousKind") {
  auto r = load(with_steps("  a:\n    action: x.y\n    set: { v: 1 }\n    next: b\n" + kEnd));
  REQUIRE(count(r, "ambiguous-kind") == 1);
  CHECK_DIAG(r, "ambiguous-kind", 5, 3);
  CHECK(find(r, "ambiguous-kind")->message.find("\"action\" and \"set\"") != std::string::npos);
  CHECK(count(r, "unknown-target") == 0);  // "a" is still a step the others may name
}

TEST_CASE("Dsl.Validate.DuplicateStep") {
  auto r =
      load(with_steps("  a:\n    action: x.y\n    next: b\n" + kEnd + "  a: { end: failed }\n"));
  REQUIRE(count(r, "duplicate-step") == 1);
  CHECK_DIAG(r, "duplicate-step", 9, 3);
  CHECK(find(r, "duplicate-step")->message == "duplicate step \"a\" in steps (first at line 5)");
}

TEST_CASE("Dsl.Validate.DuplicateKey") {
  auto r = load(R"(workflow: t
version: 1
workflow: u
start: a
steps:
  a:
    action: x.y
    with:
      id: 1
      nested: { k: 1, k: 2 }
      id: 2
    next: b
    next: b
  b: { end: completed }
)");
  CHECK_DIAG(r, "duplicate-key", 3, 1);
  CHECK_DIAG(r, "duplicate-key", 10, 23);
  CHECK_DIAG(r, "duplicate-key", 11, 7);
  CHECK_DIAG(r, "duplicate-key", 13, 5);
  CHECK(count(r, "duplicate-key") == 4);
}

TEST_CASE("Dsl.Validate.UnknownTarget") {
  auto r = load(R"(workflow: t
version: 1
start: authorise
steps:
  authorize:
    action: x.y
    catch:
      - errors: [any]
        next: rejectd
    next: route
  route:
    switch:
      - if: .x
        next: nowhere
    default: nowhere_else
  w:
    wait: { signal: s, timeout: 1s }
    on_timeout: expird
    next: rejected
  rejected: { end: rejected }
)");
  CHECK_DIAG(r, "unknown-target", 3, 8);
  CHECK_DIAG(r, "unknown-target", 9, 15);
  CHECK_DIAG(r, "unknown-target", 14, 15);
  CHECK_DIAG(r, "unknown-target", 15, 14);
  CHECK_DIAG(r, "unknown-target", 18, 17);
  CHECK(count(r, "unknown-target") == 5);
  CHECK(find(r, "unknown-target")->message ==
        "\"start\" names \"authorise\", which is not a step; did you mean \"authorize\"?");
  CHECK(count(r, "unreachable-step") == 0);  // no start to reach from
}

TEST_CASE("Dsl.Validate.JqCompile") {
  auto r = load(R"(workflow: t
version: 1
business_key: ${ .input.rma_id | }
start: a
steps:
  a:
    action: x.y
    with:
      ok: ${ .input }
      bad: ${ .input | nosuch }
      list: [1, "${ .x[ }"]
    compensate:
      action: x.undo
      with: { id: "${ .a + }" }
    next: s
  s:
    switch:
      - if: .x ==
        next: v
    default: v
  v:
    set:
      total: ${ [.a[] | }
    next: b
  b: { end: completed }
)");
  CHECK_DIAG(r, "jq-compile", 3, 15);
  CHECK_DIAG(r, "jq-compile", 10, 12);
  CHECK_DIAG(r, "jq-compile", 11, 17);
  CHECK_DIAG(r, "jq-compile", 14, 19);
  CHECK_DIAG(r, "jq-compile", 18, 13);
  CHECK_DIAG(r, "jq-compile", 23, 14);
  CHECK(count(r, "jq-compile") == 6);
  for (const auto& d : r.diagnostics) {
    if (d.where.line == 10) {
      CHECK(d.message.find("nosuch/0 is not defined") != std::string::npos);
      CHECK(d.message.find("with/bad of step \"a\"") != std::string::npos);
    }
  }
}

TEST_CASE("Dsl.Validate.JqUnbounded") {
  auto r = load(with_steps(R"(  a:
    action: x.y
    with:
      n: ${ [.input | recurse(.next)] }
      m: ${ [range(0; .input.count)] }
      ok: ${ [range(3)] }
    next: s
  s:
    switch:
      - if: "def f: f; f"
        next: b
    default: b
)" + kEnd));
  CHECK_DIAG(r, "jq-unbounded", 8, 10);
  CHECK_DIAG(r, "jq-unbounded", 9, 10);
  CHECK_DIAG(r, "jq-unbounded", 14, 13);
  CHECK(count(r, "jq-unbounded") == 3);
  CHECK(count(r, "jq-compile") == 0);
}

namespace {

// A workflow whose input schema is `input` (a path, or a schema inline), read from `base_dir`.
LoadResult with_schema(const std::string& input, const std::string& base_dir = fixtures_dir()) {
  return load_definition(
      "workflow: t\nversion: 1\ninput: " + input + "\nstart: a\nsteps:\n  a: { end: completed }\n",
      "test.yaml", base_dir);
}

}  // namespace

TEST_CASE("Dsl.Validate.BadInputSchema") {
  auto missing = with_schema("schemas/nope.json");
  CHECK_DIAG(missing, "bad-input-schema", 3, 8);
  CHECK(find(missing, "bad-input-schema")->message.find("cannot be read") != std::string::npos);
  CHECK(find(missing, "bad-input-schema")->message.ends_with(": no such file"));
  auto not_json = with_schema("schemas/not_json.txt");
  CHECK_DIAG(not_json, "bad-input-schema", 3, 8);
  CHECK(find(not_json, "bad-input-schema")->message.find("not valid JSON") != std::string::npos);
  auto array = with_schema("schemas/array.json");
  CHECK_DIAG(array, "bad-input-schema", 3, 8);
  auto inline_list = with_schema("[a, b]");
  CHECK_DIAG(inline_list, "bad-input-schema", 3, 8);
}

// A schema file is read as JSON from outside is: bounded in depth (the validator recurses,
// and 80,000 levels, within the size bound, overflowed its stack), in size, and with no key
// given twice.
TEST_CASE("Dsl.Validate.InputSchemaFilesAreBounded") {
  testing::TempDir dir;
  std::string deep = "{\"type\": \"object\", \"properties\": {\"a\": ";
  for (int i = 0; i < 80'000; ++i) deep += "{\"items\": ";
  deep += "{}" + std::string(80'000, '}') + "}}";
  dir.write("deep.json", deep);
  dir.write("twice.json", R"({"type": "object", "type": "array"})");
  dir.write("huge.json", "{\"description\": \"" + std::string(2 << 20, 'x') + "\"}");
  auto with = [&](const std::string& file) { return with_schema(file, dir.path()); };
  auto too_deep = with("deep.json");
  CHECK_DIAG(too_deep, "bad-input-schema", 3, 8);
  CHECK(find(too_deep, "bad-input-schema")->message ==
        "input schema \"deep.json\" nests objects or arrays more than 100 levels deep");
  auto twice = with("twice.json");
  CHECK_DIAG(twice, "bad-input-schema", 3, 8);
  CHECK(find(twice, "bad-input-schema")->message.find("\"type\"") != std::string::npos);
  auto huge = with("huge.json");
  CHECK_DIAG(huge, "bad-input-schema", 3, 8);
  CHECK(find(huge, "bad-input-schema")->message ==
        "input schema \"huge.json\" holds 2097171 bytes, more than the 1048576 an input schema "
        "file may hold");
}

TEST_CASE("Dsl.Validate.TemplateInStringIsAWarning") {
  auto r = load(with_steps(
      "  a:\n    action: x.y\n    with:\n      note: \"RMA ${ .input.rma_id }\"\n    next: b\n" +
      kEnd));
  REQUIRE_LOADED(r);
  REQUIRE(r.diagnostics.size() == 1);
  CHECK(r.diagnostics[0].severity == Severity::warning);
  CHECK_DIAG(r, "template-in-string", 8, 13);
  CHECK(format_diagnostic(r.diagnostics[0])
            .starts_with("test.yaml:8:13: warning[template-in-string]: "));
}

TEST_CASE("Dsl.Validate.ReportsEveryProblemSortedByPosition") {
  auto r = load(R"(workflow: T
version: 0
start: a
steps:
  a:
    action: x
    retires: 1
    next: zz
)");
  CHECK(r.diagnostics.size() == 5);
  for (std::size_t i = 1; i < r.diagnostics.size(); ++i) {
    const auto& before = r.diagnostics[i - 1].where;
    const auto& after = r.diagnostics[i].where;
    CHECK(
        (before.line < after.line || (before.line == after.line && before.column <= after.column)));
  }
  for (const auto& d : r.diagnostics) {
    CHECK(d.file == "test.yaml");
    CHECK(d.where.line > 0);
    CHECK(d.where.column > 0);
  }
}

TEST_CASE("Dsl.Validate.NeverThrowsOnGarbage") {
  for (const char* text :
       {"", "42", "[1, 2]", "{", "\t- x", "workflow: t\nsteps: ~\n", "steps:\n  a:\n",
        "steps:\n  a: ~\n", "? [1, 2]\n: 3\n", "a: &x [*x]\n", "\xff\xfe\x00garbage",
        "steps: {a: {action: [1]}}", "workflow: t\nversion: 1\nstart: a\nsteps:\n  a: {end: {}}\n",
        "workflow: t\nversion: 1\nstart: a\nsteps:\n  a: {switch: [1], default: [x]}\n"}) {
    INFO(text);
    LoadResult r;
    CHECK_NOTHROW(r = load(text));
    CHECK_FALSE(r.ok());
    CHECK_FALSE(r.diagnostics.empty());
  }
}

TEST_CASE("Dsl.Validate.BadInputSchemaThatIsNotAUsableSchema") {
  auto r = rmaflow::load_definition(R"(workflow: s
version: 1
input: { type: 5 }
start: done
steps:
  done: { end: completed }
)", "s.yaml");
  CHECK_FALSE(r.ok());
  bool found = false;
  for (const auto& d : r.diagnostics) {
    if (d.code == "bad-input-schema") {
      found = true;
      CHECK(d.where.line == 3);
      CHECK(d.message.find("not a usable JSON Schema") != std::string::npos);
    }
  }
  CHECK(found);
}

// A misspelt `next` breaks the only way to the steps after it; reporting each of them as
// unreachable as well would bury the one mistake under consequences of it.
TEST_CASE("Dsl.Validate.Issue11.UnknownNextDoesNotMakeLaterStepsUnreachable") {
  auto r = load(with_steps(R"(  a:
    action: erp.authorize
    next: isue_label
  issue_label:
    action: carrier.create_label
    next: await_receipt
  await_receipt:
    wait: { signal: warehouse.received, timeout: 30d }
    next: done
  done: { end: completed }
)"));
  INFO(listing(r));
  CHECK(count(r, "unknown-target") == 1);
  CHECK_DIAG(r, "unknown-target", 7, 11);
  CHECK(find(r, "unknown-target")->message.find("did you mean \"issue_label\"") != std::string::npos);
  CHECK(count(r, "unreachable-step") == 0);
  CHECK(r.diagnostics.size() == 1);

  // A step that no transition could lead to, even a broken one, is still reported.
  auto island = load(with_steps(R"(  a:
    action: erp.authorize
    next: done
  orphan:
    action: erp.other
    next: nowhere
  done: { end: completed }
)"));
  INFO(listing(island));
  CHECK(count(island, "unknown-target") == 1);
  CHECK_DIAG(island, "unreachable-step", 8, 3);
}

// Names and numbers of any length are checked by loops, not std::regex (which recursed per
// character: a 300,000-character workflow name or number crashed `validate`), and names are
// bounded as the engine bounds them.
TEST_CASE("Dsl.Validate.LongNamesAndNumbers") {
  const std::string long_name(300'000, 'a');
  auto named =
      load("workflow: " + long_name + "\nversion: 1\nstart: a\nsteps:\n  a: { end: completed }\n");
  CHECK_DIAG(named, "bad-value", 1, 11);
  auto message = find(named, "bad-value")->message;
  CHECK(message.size() < 400);
  CHECK(message.find("must match [a-z][a-z0-9-]* in at most 200 bytes") != std::string::npos);
  auto step = load("workflow: t\nversion: 1\nstart: a\nsteps:\n  a: { end: completed }\n  " +
                   std::string(201, 's') + ": { end: completed }\n");
  CHECK(find(step, "bad-value") != nullptr);
  auto number =
      load("workflow: t\nversion: 1\nstart: a\nsteps:\n  a: { action: builtin.noop, with: { x: " +
           std::string(300'000, '1') + " }, next: b }\n  b: { end: completed }\n");
  CHECK(number.ok());
}
