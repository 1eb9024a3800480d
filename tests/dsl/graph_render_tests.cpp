// `rmaflow graph` output: every shipped workflow drawn as valid DOT (Graphviz's own `dot -Tsvg`
// accepts it) and valid Mermaid (a strict checker of the flowchart subset the writer emits),
// names and conditions that would break a careless writer, and what is drawn.
#include <doctest/doctest.h>

#include <fmt/format.h>

#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "rmaflow/graph.hpp"
#include "tests/dsl/dsl_test_support.hpp"

using namespace rmaflow;
using namespace rmaflow::testing;
namespace fs = std::filesystem;

namespace {

// Checks `text` against the flowchart subset the writer uses; "" when it conforms, else the
// first problem and its line. Labels must be double-quoted with no raw `"`, `<` or `>` (other
// than <br/>) and `#` only in entity codes; ids must be declared before use and must not be
// Mermaid keywords; class and linkStyle must refer to what exists. Subgraphs nest, each closed
// by `end`; nodes are declared before any edge and no edge is inside a subgraph (where it would
// pull an undeclared node in).
std::string check_mermaid(const std::string& text) {
  static const std::string kId = "([A-Za-z][A-Za-z0-9_]*)";
  static const std::string kLabel = "\"([^\"]*)\"";
  static const std::regex kNode("^ +" + kId +
                                "(?:\\(\\(" + kLabel + "\\)\\)|\\[" + kLabel + "\\]|\\{" + kLabel +
                                "\\}|\\{\\{" + kLabel + "\\}\\}|\\[/" + kLabel + "/\\]|\\(\\[" +
                                kLabel + "\\]\\)|\\[\\[" + kLabel + "\\]\\]|\\[/" + kLabel +
                                "\\\\\\])$");
  static const std::regex kSubgraph("^ +subgraph " + kId + " \\[" + kLabel + "\\]$");
  static const std::regex kEnd("^ +end$");
  static const std::regex kEdge("^  " + kId + " (-->|-\\.->|==>)(?:\\|" + kLabel + "\\|)? " + kId +
                                "$");
  static const std::regex kClassDef("^  classDef " + kId + " [a-z-]+:[^;]+$");
  static const std::regex kClass("^  class (" + kId.substr(1, kId.size() - 2) + "(?:," +
                                 kId.substr(1, kId.size() - 2) + ")*) " + kId + "$");
  static const std::regex kLinkStyle("^  linkStyle ([0-9]+(?:,[0-9]+)*) [a-z-]+:[^;]+$");
  static const std::regex kEntity("#[a-z0-9]+;");
  static const std::set<std::string> kKeywords = {"end",   "graph", "flowchart", "subgraph",
                                                  "style", "class", "classDef",  "linkStyle",
                                                  "click", "direction", "call"};
  std::set<std::string> nodes, classes, subgraphs;
  std::size_t edges = 0;
  int depth = 0;
  std::istringstream in(text);
  std::string line;
  int number = 0;
  auto fail = [&](const std::string& why) { return "line " + std::to_string(number) + ": " + why + ": " + line; };
  auto bad_label = [&](const std::string& label) {
    std::string rest = std::regex_replace(label, std::regex("<br/>"), "");
    rest = std::regex_replace(rest, kEntity, "");
    return rest.find_first_of("\"<>#") != std::string::npos;
  };
  auto label_of = [](const std::smatch& m, std::size_t from) {
    for (std::size_t i = from; i < m.size(); ++i)
      if (m[i].matched) return m[i].str();
    return std::string();
  };
  while (std::getline(in, line)) {
    ++number;
    std::smatch m;
    if (number == 1) {
      if (line != "flowchart TD") return fail("must start with flowchart TD");
    } else if (line.rfind("  %%", 0) == 0) {
      continue;
    } else if (std::regex_match(line, m, kSubgraph)) {
      if (edges > 0) return fail("subgraph after an edge");
      if (kKeywords.count(m[1]) > 0) return fail("subgraph id is a Mermaid keyword");
      if (nodes.count(m[1]) > 0 || !subgraphs.insert(m[1]).second) return fail("subgraph id taken");
      if (bad_label(m[2])) return fail("unescaped character in subgraph title");
      ++depth;
    } else if (std::regex_match(line, kEnd)) {
      if (depth == 0) return fail("end without a subgraph");
      --depth;
    } else if (std::regex_match(line, m, kNode)) {
      if (edges > 0) return fail("node declared after an edge");
      if (kKeywords.count(m[1]) > 0) return fail("node id is a Mermaid keyword");
      if (subgraphs.count(m[1]) > 0 || !nodes.insert(m[1]).second) return fail("node declared twice");
      if (bad_label(label_of(m, 2))) return fail("unescaped character in label");
    } else if (std::regex_match(line, m, kEdge)) {
      if (depth > 0) return fail("edge inside a subgraph");
      if (nodes.count(m[1]) == 0 || nodes.count(m[4]) == 0) return fail("edge to an undeclared node");
      if (m[3].matched && bad_label(m[3])) return fail("unescaped character in edge label");
      ++edges;
    } else if (std::regex_match(line, m, kClassDef)) {
      classes.insert(m[1]);
    } else if (std::regex_match(line, m, kClass)) {
      if (classes.count(m[m.size() - 1]) == 0) return fail("class not defined");
      std::stringstream ids(m[1]);
      for (std::string id; std::getline(ids, id, ',');)
        if (nodes.count(id) == 0) return fail("class on an undeclared node");
    } else if (std::regex_match(line, m, kLinkStyle)) {
      std::stringstream list(m[1]);
      for (std::string n; std::getline(list, n, ',');)
        if (std::stoul(n) >= edges) return fail("linkStyle index past the last edge");
    } else {
      return fail("not in the flowchart subset");
    }
  }
  if (depth != 0) return "a subgraph is not closed";
  return nodes.empty() ? "no nodes" : "";
}

// Runs Graphviz on the DOT text; "" when it renders an SVG without complaint.
std::string check_dot(const std::string& text) {
  static const std::string dot = find_program("dot");
  REQUIRE_MESSAGE(!dot.empty(), "Graphviz's dot is not installed: run scripts/install-deps.sh");
  TempDir dir;
  auto file = dir.write("graph.dot", text);
  auto r = run_process({dot, "-Tsvg", file, "-o", dir.file("graph.svg")});
  if (r.exit_code != 0 || !r.err.empty()) return "dot failed (" + std::to_string(r.exit_code) + "): " + r.err;
  return fs::file_size(dir.file("graph.svg")) > 0 ? "" : "dot wrote an empty SVG";
}

// Step names and conditions chosen to break ids and labels: Mermaid keywords, dashes, quotes,
// angle brackets, #, & and backslashes.
const char* kAwkward = R"(workflow: awkward-names
version: 3
start: start
steps:
  start:
    switch:
      - if: '.input.note == "say \"hi\" <b>#1</b> & more" or .input.x > 2'
        next: end
      - if: .input.path == "C:\\tmp"
        next: graph
    default: issue-label
  issue-label:
    action: carrier.create_label
    catch:
      - errors: [any]
        next: end
    compensate:
      action: carrier.void_label
    next: issue_label
  issue_label:
    wait: { signal: a"b, timeout: 1d }
    on_timeout: graph
    next: end
  graph: { end: { status: failed, compensate: true } }
  end: { end: completed }
)";

std::shared_ptr<const Definition> definition(const std::string& yaml) {
  auto loaded = load_definition(yaml, "g.yaml", dsl_testing::fixtures_dir());
  INFO(dsl_testing::listing(loaded));
  REQUIRE(loaded.ok());
  return loaded.definition;
}

}  // namespace

TEST_CASE("Dsl.GraphRender.ShippedWorkflowsAreValidMermaidAndDot") {
  auto files = dsl_testing::shipped_workflows();
  REQUIRE(files.size() >= 3);
  for (const auto& file : files) {
    INFO(file);
    auto loaded = load_definition_file(file);
    REQUIRE(loaded.ok());
    auto mermaid = render_graph(*loaded.definition, GraphFormat::mermaid);
    CHECK(check_mermaid(mermaid) == "");
    CHECK(check_dot(render_graph(*loaded.definition, GraphFormat::dot)) == "");
    // Every step is drawn.
    for (const auto& step : loaded.definition->steps)
      CHECK(mermaid.find("\"" + step.name + "<br/>") != std::string::npos);
  }
}

TEST_CASE("Dsl.GraphRender.AwkwardNamesAndLabelsStayValid") {
  auto d = definition(kAwkward);
  auto mermaid = render_graph(*d, GraphFormat::mermaid);
  INFO(mermaid);
  CHECK(check_mermaid(mermaid) == "");
  CHECK(mermaid.find("s_end([\"end<br/>end: completed\"])") != std::string::npos);
  CHECK(mermaid.find("s_issue_label_") != std::string::npos);  // issue-label and issue_label differ
  auto dot = render_graph(*d, GraphFormat::dot);
  INFO(dot);
  CHECK(check_dot(dot) == "");
  CHECK(dot.find("say \\\\\\\"hi\\\\\\\"") != std::string::npos);
}

TEST_CASE("Dsl.GraphRender.CheckersRejectBrokenOutput") {
  CHECK(check_mermaid("flowchart TD\n  a[\"x\"]\n  a --> b\n") != "");         // undeclared id
  CHECK(check_mermaid("flowchart TD\n  a[\"say \"hi\"\"]\n") != "");            // raw quote
  CHECK(check_mermaid("flowchart TD\n  end[\"x\"]\n") != "");                   // keyword id
  CHECK(check_mermaid("flowchart TD\n  a[\"x > y\"]\n") != "");                 // raw >
  CHECK(check_mermaid("flowchart TD\n  a[\"x\"]\n  linkStyle 0 stroke:#000\n") != "");
  CHECK(check_dot("digraph { \"a\" -> \"b\" [label=\"x\"] ") != "");
  CHECK(check_dot("digraph g { a -> b; }") == "");
}

TEST_CASE("Dsl.GraphRender.DrawsCatchesTimeoutsCompensationsAndEnds") {
  auto d = definition(kAwkward);
  auto mermaid = render_graph(*d, GraphFormat::mermaid);
  CHECK(mermaid.find("s_issue_label -.->|\"catch any\"| s_end") != std::string::npos);
  CHECK(mermaid.find("-.->|\"timeout 1d\"| s_graph") != std::string::npos);
  CHECK(mermaid.find("s_issue_label -.->|\"compensate\"| s_undo_issue_label") != std::string::npos);
  CHECK(mermaid.find("[[\"undo issue-label<br/>carrier.void_label\"]]") != std::string::npos);
  CHECK(mermaid.find("end: failed, compensates") != std::string::npos);
  CHECK(mermaid.find("-->|\"default\"| s_issue_label") != std::string::npos);
  auto dot = render_graph(*d, GraphFormat::dot);
  CHECK(dot.find("\"issue-label\" -> \"end\" [label=\"catch any\", style=dashed") !=
        std::string::npos);
  CHECK(dot.find("\"issue_label\" -> \"graph\" [label=\"timeout 1d\", style=dashed") !=
        std::string::npos);
  CHECK(dot.find("\"issue-label\" -> \"undo issue-label\" [label=\"compensate\", style=dotted") !=
        std::string::npos);
  CHECK(dot.find("peripheries=2") != std::string::npos);  // the end that compensates
}

TEST_CASE("Dsl.GraphRender.OverlayHighlightsThePathAndWhereItStands") {
  auto d = definition(kAwkward);
  GraphOverlay overlay;
  overlay.visited = {"start", "issue-label", "issue_label"};
  overlay.current = {"issue_label"};
  overlay.status = InstanceStatus::waiting;
  auto mermaid = render_graph(*d, GraphFormat::mermaid, &overlay);
  INFO(mermaid);
  CHECK(check_mermaid(mermaid) == "");
  CHECK(mermaid.find("start_ ==> s_start") != std::string::npos);
  CHECK(mermaid.find("s_start ==>|\"default\"| s_issue_label") != std::string::npos);
  CHECK(mermaid.find("s_issue_label ==> s_issue_label_") != std::string::npos);
  CHECK(mermaid.find("s_issue_label_3 -->|\"a#quot;b\"| s_end") != std::string::npos);  // not taken
  CHECK(mermaid.find("class s_start,s_issue_label,s_issue_label_") != std::string::npos);
  CHECK(mermaid.find("visited\n  class s_issue_label_3 current\n") != std::string::npos);
  auto dot = render_graph(*d, GraphFormat::dot, &overlay);
  CHECK(check_dot(dot) == "");
  CHECK(dot.find("xlabel=\"waiting\"") != std::string::npos);
  CHECK(dot.find("\"start\" -> \"issue-label\" [label=\"default\", penwidth=3") != std::string::npos);
}

namespace {

// The innermost subgraph of the Mermaid text in which `node` is declared; "" at the top level,
// "(none)" when it is not declared.
std::string subgraph_of(const std::string& mermaid, const std::string& node) {
  std::vector<std::string> open;
  std::istringstream in(mermaid);
  static const std::regex kSubgraph("^ +subgraph ([A-Za-z0-9_]+) .*$");
  static const std::regex kEnd("^ +end$");
  std::smatch m;
  for (std::string line; std::getline(in, line);) {
    if (std::regex_match(line, m, kSubgraph)) open.push_back(m[1]);
    else if (std::regex_match(line, kEnd)) open.pop_back();
    else if (line.find(" " + node + "[") != std::string::npos ||
             line.find(" " + node + "{") != std::string::npos ||
             line.find(" " + node + "(") != std::string::npos)
      return open.empty() ? "" : open.back();
  }
  return "(none)";
}

std::shared_ptr<const Definition> per_line_return() {
  auto loaded = load_definition_file(dsl_testing::fixtures_dir() + "/per_line_return.yaml");
  INFO(dsl_testing::listing(loaded));
  REQUIRE(loaded.ok());
  return loaded.definition;
}

}  // namespace

TEST_CASE("Dsl.GraphRender.Issue13.ForeachBranchesAreASubgraph") {
  auto d = per_line_return();
  auto mermaid = render_graph(*d, GraphFormat::mermaid);
  INFO(mermaid);
  CHECK(check_mermaid(mermaid) == "");
  CHECK(mermaid.find("  subgraph sg_inspect_lines [\"inspect_lines: each .line\"]\n") !=
        std::string::npos);
  CHECK(mermaid.find("s_inspect_lines[/\"inspect_lines<br/>foreach .authorization.lines, 10 at "
                     "a time\"\\]") != std::string::npos);
  for (const char* step : {"s_await_line", "s_inspect", "s_dispose", "s_restocked", "s_repair",
                           "s_not_received", "s_undo_restock"})
    CHECK(subgraph_of(mermaid, step) == "sg_inspect_lines");
  CHECK(subgraph_of(mermaid, "s_inspect_lines") == "");
  CHECK(subgraph_of(mermaid, "s_price_credit") == "");
  // Entered from the fan-out step, joined back to it from every end of the branch.
  CHECK(mermaid.find("  s_inspect_lines -->|\"each .line\"| s_await_line\n") != std::string::npos);
  for (const char* end : {"restocked", "repaired", "scrapped", "not_received"})
    CHECK(mermaid.find(fmt::format("  s_{} -.->|\"{}\"| s_inspect_lines\n", end, end)) !=
          std::string::npos);
  CHECK(mermaid.find("  s_inspect_lines --> s_price_credit\n") != std::string::npos);
  CHECK(mermaid.find("s_not_received([\"not_received<br/>end: not_received\"])") !=
        std::string::npos);

  auto dot = render_graph(*d, GraphFormat::dot);
  INFO(dot);
  CHECK(check_dot(dot) == "");
  auto cluster = dot.find("  subgraph \"cluster_inspect_lines\" {\n");
  REQUIRE(cluster != std::string::npos);
  auto inside = dot.find("    \"await_line\" [", cluster);
  CHECK(inside != std::string::npos);
  CHECK(inside < dot.find("\n  }\n", cluster));
  CHECK(dot.find("\"inspect_lines\" [shape=box3d") != std::string::npos);
  CHECK(dot.find("\"inspect_lines\" -> \"await_line\" [label=\"each .line\", color=\"#0f766e\"]") !=
        std::string::npos);
  CHECK(dot.find("\"scrapped\" -> \"inspect_lines\" [label=\"scrapped\", style=dashed") !=
        std::string::npos);
}

TEST_CASE("Dsl.GraphRender.Issue13.ParallelBranchesAndACall") {
  auto d = per_line_return();
  auto mermaid = render_graph(*d, GraphFormat::mermaid);
  INFO(mermaid);
  CHECK(mermaid.find("  subgraph sg_close_and_notify_close [\"close_and_notify: close\"]\n") !=
        std::string::npos);
  CHECK(subgraph_of(mermaid, "s_close_rma") == "sg_close_and_notify_close");
  CHECK(subgraph_of(mermaid, "s_send_email") == "sg_close_and_notify_notify");
  CHECK(mermaid.find("  s_close_and_notify -->|\"close\"| s_close_rma\n") != std::string::npos);
  CHECK(mermaid.find("  s_close_and_notify -->|\"notify\"| s_send_email\n") != std::string::npos);
  CHECK(mermaid.find("  s_sent -.->|\"sent\"| s_close_and_notify\n") != std::string::npos);
  CHECK(mermaid.find("parallel: close, notify") != std::string::npos);
  // The call step shows the child workflow it starts.
  CHECK(mermaid.find("s_repair[[\"repair<br/>call vendor-repair v2\"]]") != std::string::npos);
  CHECK(mermaid.find("  s_repair -.->|\"catch ChildFailed\"| s_scrapped\n") != std::string::npos);
  CHECK(mermaid.find("  class s_repair child\n") != std::string::npos);
  auto dot = render_graph(*d, GraphFormat::dot);
  CHECK(dot.find("  subgraph \"cluster_close_and_notify.notify\" {\n") != std::string::npos);
  CHECK(dot.find("\"repair\" [shape=component, style=\"filled\", fillcolor=\"#f0fdfa\", "
                 "label=\"repair\\ncall vendor-repair v2\"") != std::string::npos);
}

TEST_CASE("Dsl.GraphRender.Issue13.NestedBranchesNest") {
  auto loaded = load_definition_file(dsl_testing::fixtures_dir() + "/nested_branches.yaml");
  REQUIRE(loaded.ok());
  auto d = loaded.definition;
  auto mermaid = render_graph(*d, GraphFormat::mermaid);
  INFO(mermaid);
  CHECK(check_mermaid(mermaid) == "");
  CHECK(subgraph_of(mermaid, "s_each") == "sg_a_left");
  CHECK(subgraph_of(mermaid, "s_check") == "sg_each");
  CHECK(mermaid.find("    subgraph sg_each [\"each: each .part\"]\n") != std::string::npos);
  CHECK(mermaid.find("s_each[/\"each<br/>foreach .input.parts\"\\]") != std::string::npos);
  auto literal = definition("workflow: l\nversion: 1\nstart: a\nsteps:\n  a:\n    foreach: [1, 2]\n"
                            "    start: x\n    steps:\n      x: { end: done }\n    next: b\n"
                            "  b: { end: completed }\n");
  CHECK(render_graph(*literal, GraphFormat::mermaid).find("a<br/>foreach 2 items") !=
        std::string::npos);
  auto dot = render_graph(*d, GraphFormat::dot);
  INFO(dot);
  CHECK(check_dot(dot) == "");
  auto outer = dot.find("subgraph \"cluster_a.left\"");
  auto inner = dot.find("subgraph \"cluster_each\"");
  REQUIRE(outer != std::string::npos);
  REQUIRE(inner != std::string::npos);
  CHECK(outer < inner);
  CHECK(dot.find("\n    subgraph \"cluster_each\" {\n      label=") != std::string::npos);
}

TEST_CASE("Dsl.GraphRender.Issue13.OverlayFollowsEachBranch") {
  auto d = per_line_return();
  GraphOverlay overlay;
  overlay.visited = {"authorize", "inspect_lines"};
  overlay.branches["inspect_lines[L1]"] = {"await_line", "inspect", "dispose", "restock",
                                           "restocked"};
  overlay.branches["inspect_lines[L2]"] = {"await_line"};
  overlay.branches["inspect_lines[L3]"] = {"await_line"};
  overlay.current = {"inspect_lines", "await_line", "await_line"};
  overlay.status = InstanceStatus::waiting;
  auto mermaid = render_graph(*d, GraphFormat::mermaid, &overlay);
  INFO(mermaid);
  CHECK(check_mermaid(mermaid) == "");
  CHECK(mermaid.find("  s_authorize ==> s_inspect_lines\n") != std::string::npos);
  CHECK(mermaid.find("  s_inspect_lines ==>|\"each .line\"| s_await_line\n") != std::string::npos);
  CHECK(mermaid.find("  s_inspect ==> s_dispose\n") != std::string::npos);
  CHECK(mermaid.find("  s_restocked ==>|\"restocked\"| s_inspect_lines\n") != std::string::npos);
  CHECK(mermaid.find("  s_scrapped -.->|\"scrapped\"| s_inspect_lines\n") != std::string::npos);
  CHECK(mermaid.find("  s_inspect_lines --> s_price_credit\n") != std::string::npos);  // not yet
  CHECK(mermaid.find("  class s_inspect_lines,s_await_line current\n") != std::string::npos);
  auto dot = render_graph(*d, GraphFormat::dot, &overlay);
  INFO(dot);
  CHECK(check_dot(dot) == "");
  CHECK(dot.find("xlabel=\"waiting (2 branches)\"") != std::string::npos);  // await_line
  CHECK(dot.find("xlabel=\"waiting\"") != std::string::npos);               // inspect_lines
}

TEST_CASE("Dsl.GraphRender.FailingStepsAndSeveralPositionsAreMarked") {
  auto d = definition(kAwkward);
  GraphOverlay overlay;
  overlay.visited = {"start", "issue-label", "issue_label"};
  overlay.current = {"issue-label", "issue_label"};  // an instance holding two positions
  overlay.failing = {"issue-label"};
  overlay.status = InstanceStatus::suspended;
  auto dot = render_graph(*d, GraphFormat::dot, &overlay);
  INFO(dot);
  CHECK(check_dot(dot) == "");
  CHECK(dot.find("class=\"step task visited current failing\"") != std::string::npos);
  CHECK(dot.find("class=\"step wait visited current\"") != std::string::npos);
  CHECK(dot.find("class=\"step end\"") != std::string::npos);  // neither visited nor current
  auto mermaid = render_graph(*d, GraphFormat::mermaid, &overlay);
  INFO(mermaid);
  CHECK(check_mermaid(mermaid) == "");
  CHECK(mermaid.find("classDef failing") != std::string::npos);
  CHECK(std::regex_search(mermaid, std::regex("class s_issue_label,s_issue_label_[0-9]* current\n")));
  CHECK(std::regex_search(mermaid, std::regex("class s_issue_label failing\n")));
}
