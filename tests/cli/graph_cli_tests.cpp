// `rmaflow graph` run as an analyst runs it: a file as Mermaid, DOT or SVG, an instance's path
// drawn over the version it runs on, and the errors.
#include <doctest/doctest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "tests/support/hostile_yaml.hpp"
#include "tests/support/process.hpp"

using namespace rmaflow::testing;
using json = nlohmann::json;

namespace {

const char* kParcel = R"(workflow: parcel
version: 1
business_key: ${ .input.rma_id }
start: label
steps:
  label:
    action: builtin.noop
    result: label
    next: await_parcel
  await_parcel:
    wait: { signal: warehouse.received, timeout: 30d }
    on_timeout: expired
    next: done
  done: { end: completed }
  expired: { end: expired }
)";

ProcessResult cli(std::vector<std::string> args) {
  args.insert(args.begin(), rmaflow_binary());
  return run_process(args);
}

}  // namespace

TEST_CASE("Cli.Graph.FileAsMermaidOrDot") {
  TempDir dir;
  auto file = dir.write("parcel.yaml", kParcel);
  auto mermaid = cli({"graph", file});
  CHECK(mermaid.exit_code == 0);
  CHECK(mermaid.out.rfind("flowchart TD\n", 0) == 0);
  CHECK(mermaid.out.find("s_await_parcel -.->|\"timeout 30d\"| s_expired") != std::string::npos);
  auto dot = cli({"graph", file, "--format", "dot"});
  CHECK(dot.exit_code == 0);
  CHECK(dot.out.rfind("digraph \"parcel v1\" {\n", 0) == 0);
  auto svg = run_process({find_program("dot"), "-Tsvg"}, {}, dot.out);
  CHECK(svg.exit_code == 0);
  CHECK(svg.out.find("<svg") != std::string::npos);
  // Laid out by the binary itself, with Graphviz's library: the same drawing, no `dot` needed.
  auto own = cli({"graph", file, "--format", "svg"});
  CHECK(own.exit_code == 0);
  CHECK(own.out.find("<svg") != std::string::npos);
  CHECK(own.out.find("class=\"node step wait\"") != std::string::npos);
  CHECK(own.out.find("<title>await_parcel</title>") != std::string::npos);
}

// Every shipped workflow draws as SVG through Graphviz's library without touching memory that is
// not its own: glibc's heap checks (and AddressSanitizer, in the sanitizer build) abort the
// process otherwise. Debian's Graphviz corrupted the heap on standard-return's labelled edges
// between steps of one rank, until the labels were drawn outside the edges (xlabel).
TEST_CASE("Cli.Graph.EveryShippedWorkflowDrawsAsSvgWithAnIntactHeap") {
  namespace fs = std::filesystem;
  int drawn = 0;
  for (const auto& entry : fs::directory_iterator(source_dir() + "/workflows")) {
    if (entry.path().extension() != ".yaml") continue;
    CAPTURE(entry.path().string());
    auto svg = run_process({rmaflow_binary(), "graph", entry.path().string(), "--format", "svg"},
                           {"MALLOC_CHECK_=3", "MALLOC_PERTURB_=165"});
    INFO(svg.err);
    CHECK(svg.exit_code == 0);
    CHECK(svg.out.find("</svg>") != std::string::npos);
    ++drawn;
  }
  CHECK(drawn >= 9);
  // The edges' conditions and events are still drawn, as text beside them.
  auto svg = run_process({rmaflow_binary(), "graph",
                          source_dir() + "/workflows/standard-return.yaml", "--format", "svg"});
  CHECK(svg.out.find("catch NotEligible") != std::string::npos);
  CHECK(svg.out.find("timeout 14d") != std::string::npos);
}

TEST_CASE("Cli.Graph.SvgCarriesConditionsAsText") {
  TempDir dir;
  auto file = dir.write("hostile.yaml", R"(workflow: hostile
version: 1
start: route
steps:
  route:
    switch:
      - if: '.input.n == "&amp;<script>alert(1)</script>"'
        next: done
    default: done
  done: { end: completed }
)");
  auto svg = cli({"graph", file, "--format", "svg"});
  REQUIRE(svg.exit_code == 0);
  INFO(svg.out);
  CHECK(svg.out.find("<script") == std::string::npos);
  CHECK(svg.out.find("&lt;script&gt;") != std::string::npos);
  CHECK(svg.out.find("&amp;amp;") != std::string::npos);
}

TEST_CASE("Cli.Graph.InstancePathOverItsOwnVersion") {
  TempDir dir;
  auto file = dir.write("wf/parcel.yaml", kParcel);
  auto db = dir.file("g.db");
  auto run = cli({"run", "--db", db, "--workflows", dir.path() + "/wf",
                      dir.write("in.json", R"({"rma_id": "R1"})")});
  REQUIRE(run.exit_code == 0);
  auto id = json::parse(cli({"list", "--db", db, "--format", "json"}).out)["items"][0]["id"].get<std::string>();

  auto r = cli({"graph", file, "--instance", id, "--db", db});
  INFO(r.out, r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("start_ ==> s_label") != std::string::npos);
  CHECK(r.out.find("s_label ==> s_await_parcel") != std::string::npos);
  CHECK(r.out.find("s_await_parcel -->|\"warehouse.received\"| s_done") != std::string::npos);
  CHECK(r.out.find("class s_label,s_await_parcel visited\n  class s_await_parcel current\n") !=
        std::string::npos);
  // Without the file the version the instance runs on is drawn from the database.
  auto stored = cli({"graph", "--instance", id, "--db", db, "--format", "dot"});
  CHECK(stored.exit_code == 0);
  CHECK(stored.out.find("xlabel=\"waiting\"") != std::string::npos);

  std::string v2 = kParcel;
  v2.replace(v2.find("version: 1"), 10, "version: 2");
  auto other = dir.write("v2/parcel.yaml", v2);
  auto mismatch = cli({"graph", other, "--instance", id, "--db", db});
  CHECK(mismatch.exit_code == 1);
  CHECK(mismatch.err == "rmaflow: instance " + id + " runs workflow parcel version 1, but " +
                            other +
                            " is workflow parcel version 2; leave out the file to draw the "
                            "instance's own version\n");
}

TEST_CASE("Cli.Graph.Errors") {
  TempDir dir;
  auto none = cli({"graph"});
  CHECK(none.exit_code == 2);
  CHECK(none.err == "rmaflow graph: a workflow FILE, or --instance ID with --db, is required "
                    "(see rmaflow graph --help)\n");
  auto no_db = cli({"graph", "--instance", "X"});
  CHECK(no_db.exit_code == 2);
  auto bad = dir.write("bad.yaml", "workflow: t\nversion: 1\nstart: a\nsteps:\n  a: {}\n");
  auto invalid = cli({"graph", bad});
  CHECK(invalid.exit_code == 1);
  CHECK(invalid.err.rfind("rmaflow: " + bad + ":5:3: error[missing-kind]", 0) == 0);
  auto db = dir.file("empty.db");
  REQUIRE(cli({"deploy", dir.write("wf/p.yaml", kParcel), "--db", db}).exit_code == 0);
  auto unknown = cli({"graph", "--instance", "NOPE", "--db", db});
  CHECK(unknown.exit_code == 1);
  CHECK(unknown.err == "rmaflow: no instance NOPE in " + db + "\n");
}

// Graphviz's layout runs in a process of its own, killed past --layout-timeout: a workflow whose
// layout takes half a minute is refused in one sentence that says what draws it instead.
TEST_CASE("Cli.Graph.ALayoutPastItsTimeIsRefused") {
  TempDir dir;
  auto file = dir.write("tangle.yaml", slow_layout_workflow("tangle"));
  auto svg = cli({"graph", file, "--format", "svg", "--layout-timeout", "1s"});
  CHECK(svg.exit_code == 1);
  CHECK(svg.out.empty());
  CHECK(svg.err ==
        "rmaflow: Graphviz did not lay out the graph within 1s; --format dot or "
        "--format mermaid draw it without a layout, or a longer --layout-timeout "
        "may do\n");
  auto dot = cli({"graph", file, "--format", "dot"});
  CHECK(dot.exit_code == 0);
  CHECK(dot.out.find("\"s199\" -> \"done\"") != std::string::npos);
  auto never = cli({"graph", file, "--format", "svg", "--layout-timeout", "0s"});
  CHECK(never.exit_code == 1);
  CHECK(never.err ==
        "rmaflow: --layout-timeout must be a duration such as 10s or 500ms, not \"0s\"\n");
  auto forever = cli({"graph", file, "--format", "svg", "--layout-timeout", "100000000d"});
  CHECK(forever.exit_code == 1);
  CHECK(forever.err == "rmaflow: --layout-timeout may be at most 1h, not \"100000000d\"\n");
  // The command that lays out is the binary's own business: not offered, not listed.
  auto help = cli({"--help"});
  CHECK(help.out.find("graph") != std::string::npos);
  CHECK(help.out.find("layout-graph") == std::string::npos);
  auto unknown = cli({"nope"});
  CHECK(unknown.err.find("layout-graph") == std::string::npos);
}
