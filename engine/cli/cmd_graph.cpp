// rmaflow graph [FILE] [--format mermaid|dot|svg] [--instance ID --db F] [--layout-timeout D]
//
// Prints a workflow as a Mermaid flowchart (default), a Graphviz digraph, or that digraph laid
// out as SVG (as the web console shows it). With --instance the path the instance took is
// highlighted, its current step and failing step marked; without FILE the version the instance
// runs on is read from the database.
//
// rmaflow layout-graph --cpu-seconds N --memory-mib M [--parent PID] (hidden): lays out the
// Graphviz digraph on stdin as SVG on stdout, within N seconds of CPU and M MiB of address
// space; what api::layout_svg runs as a child process. Exit code kLayoutOutOfMemory when memory
// ran out; kLayoutOrphaned, at once, when PID is no longer its parent.
#include <fmt/format.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <iostream>
#include <iterator>
#include <new>

#include "engine/api/graph_svg.hpp"
#include "engine/cli/cli_support.hpp"
#include "engine/cli/commands.hpp"
#include "rmaflow/graph.hpp"
#include "rmaflow/versions.hpp"

namespace rmaflow::cli {

namespace {

struct GraphOptions {
  std::string file;
  std::string format = "mermaid";
  std::string instance;
  std::string db;
  std::string layout_timeout = "15s";
};

struct LayoutOptions {
  std::size_t cpu_seconds = 0;
  std::size_t memory_mib = 0;
  pid_t parent = 0;  // 0: not checked
};

std::shared_ptr<const Definition> stored(Store& store, const InstanceRow& row) {
  auto def = store.get_definition(row.workflow, row.version);
  if (!def)
    throw Error(Errc::not_found, fmt::format("workflow {} version {} is not in the database",
                                             row.workflow, row.version));
  return load_deployed(*def);
}

int graph(const GraphOptions& opt) {
  if (opt.file.empty() && opt.instance.empty())
    throw CLI::ValidationError("a workflow FILE, or --instance ID with --db, is required");
  if (!opt.instance.empty() && opt.db.empty())
    throw CLI::ValidationError("--instance needs --db, the database the instance is in");
  api::GraphLayoutOptions layout;
  layout.timeout = duration_option("--layout-timeout", opt.layout_timeout, api::kMaxLayoutTimeout);
  auto draw = [&](const Definition& def, const GraphOverlay* overlay) {
    if (opt.format != "svg") {
      return render_graph(def, opt.format == "dot" ? GraphFormat::dot : GraphFormat::mermaid,
                          overlay);
    }
    try {
      return api::graph_svg(def, overlay, layout);
    } catch (const api::LayoutRefused& e) {
      throw Error(Errc::refused, fmt::format("{}; --format dot or --format mermaid draw it without "
                                             "a layout, or a longer --layout-timeout may do",
                                             e.what()));
    }
  };
  if (opt.instance.empty()) {
    fmt::print("{}", draw(*load_workflow(opt.file), nullptr));
    return kExitOk;
  }
  auto store = open_for_queries(opt.db);
  auto row = store->get_instance(opt.instance);
  if (!row) throw Error(Errc::not_found, fmt::format("no instance {} in {}", opt.instance, opt.db));
  auto def = opt.file.empty() ? stored(*store, *row) : load_workflow(opt.file);
  if (def->name != row->workflow || def->version != row->version) {
    throw Error(Errc::invalid_argument,
                fmt::format("instance {} runs workflow {} version {}, but {} is workflow {} "
                            "version {}; leave out the file to draw the instance's own version",
                            row->id, row->workflow, row->version, opt.file, def->name,
                            def->version));
  }
  auto overlay = overlay_of(*row, store->history(row->id));
  fmt::print("{}", draw(*def, &overlay));
  return kExitOk;
}

// The bounds are set before the graph is read: nothing outside them runs. The child dies with
// the thread that started it, so that a killed server leaves no layout behind. A parent that
// died before the signal was asked for (between the spawn and here) is seen as a new parent.
int layout_graph(const LayoutOptions& opt) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (opt.parent != 0 && ::getppid() != opt.parent) return api::kLayoutOrphaned;
  rlimit cpu{opt.cpu_seconds, opt.cpu_seconds + 1};
  if (setrlimit(RLIMIT_CPU, &cpu) != 0) throw Error(Errc::io, "the CPU bound could not be set");
#if !defined(__SANITIZE_ADDRESS__)
  // (AddressSanitizer reserves terabytes of address space for itself: no bound fits it.)
  rlim_t bytes = static_cast<rlim_t>(opt.memory_mib) << 20;
  rlimit memory{bytes, bytes};
  if (setrlimit(RLIMIT_AS, &memory) != 0)
    throw Error(Errc::io, "the memory bound could not be set");
#endif
  try {
    std::string dot{std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};
    auto svg = api::dot_to_svg(dot);
    std::fwrite(svg.data(), 1, svg.size(), stdout);
  } catch (const std::bad_alloc&) {
    return api::kLayoutOutOfMemory;
  }
  return std::fflush(stdout) == 0 ? kExitOk : kExitFailure;
}

}  // namespace

void register_graph(CLI::App& app, int& exit_code) {
  auto opt = std::make_shared<GraphOptions>();
  auto* cmd = app.add_subcommand(
      "graph",
      "Draw a workflow as a Mermaid flowchart, a Graphviz digraph or SVG: steps, transitions, "
      "catch routes (dashed), timeouts, compensations and ends; with --instance, the path it took");
  cmd->add_option("file", opt->file, "Workflow YAML file (optional with --instance)");
  cmd->add_option("--format", opt->format, "mermaid (default), dot, or svg (laid out by Graphviz)")
      ->check(CLI::IsMember({"mermaid", "dot", "svg"}));
  cmd->add_option("--instance", opt->instance, "Highlight this instance's path and current step");
  cmd->add_option("--db", opt->db, "Database the instance is in");
  cmd->add_option("--layout-timeout", opt->layout_timeout,
                  "With --format svg: how long Graphviz may take to lay the graph out (default "
                  "15s); a graph that takes longer is refused");
  cmd->callback([opt, &exit_code] { exit_code = graph(*opt); });

  auto layout = std::make_shared<LayoutOptions>();
  auto* hidden = app.add_subcommand("layout-graph", "Lay out a Graphviz digraph (stdin) as SVG");
  hidden->group("");
  hidden->add_option("--cpu-seconds", layout->cpu_seconds)->required()->check(CLI::PositiveNumber);
  hidden->add_option("--memory-mib", layout->memory_mib)->required()->check(CLI::PositiveNumber);
  hidden->add_option("--parent", layout->parent)->check(CLI::PositiveNumber);
  hidden->callback([layout, &exit_code] { exit_code = layout_graph(*layout); });
}

}  // namespace rmaflow::cli
