#include "engine/api/graph_svg.hpp"

#include <fmt/format.h>
#include <graphviz/cgraph.h>
#include <graphviz/gvc.h>
#include <unistd.h>

#include <csignal>
#include <memory>
#include <mutex>

#include "engine/support/child_process.hpp"
#include "rmaflow/errors.hpp"
#include "rmaflow/time.hpp"

namespace rmaflow::api {

namespace {

struct ContextDeleter {
  void operator()(GVC_t* context) const { gvFreeContext(context); }
};
struct GraphDeleter {
  void operator()(Agraph_t* graph) const { agclose(graph); }
};

// Graphviz's state (its plugins, their caches, error reporting) is global: one drawing at a time.
std::mutex graphviz_mutex;

GVC_t* graphviz_context() {
  static std::unique_ptr<GVC_t, ContextDeleter> gvc = [] {
    agseterr(AGERR);  // layout warnings are Graphviz's business, not the server log's
    return std::unique_ptr<GVC_t, ContextDeleter>(gvContext());
  }();
  return gvc.get();
}

// Edge labels become external labels (xlabel), placed after the layout. Debian's Graphviz
// (2.42) frees memory that is not its own when it cleans up a layout in which a labelled edge
// joins two nodes of one rank (its "flat edge" label code): the shipped standard-return drew
// such a graph, and the server's heap was corrupted. External labels never take that path.
void move_edge_labels_out(Agraph_t* graph) {
  for (Agnode_t* node = agfstnode(graph); node != nullptr; node = agnxtnode(graph, node)) {
    for (Agedge_t* edge = agfstout(graph, node); edge != nullptr; edge = agnxtout(graph, edge)) {
      char* label = agget(edge, const_cast<char*>("label"));
      if (label == nullptr || *label == '\0') continue;
      std::string text = label;
      agsafeset(edge, const_cast<char*>("xlabel"), text.data(), const_cast<char*>(""));
      agset(edge, const_cast<char*>("label"), const_cast<char*>(""));
    }
  }
}

// The first line of what the child wrote to stderr: its one sentence.
std::string first_line(const std::string& text) {
  auto line = text.substr(0, text.find('\n'));
  return line.empty() ? std::string("it ended without saying why") : line;
}

}  // namespace

std::string dot_to_svg(const std::string& dot) {
  std::lock_guard lock(graphviz_mutex);
  GVC_t* gvc = graphviz_context();
  if (gvc == nullptr) throw Error(Errc::io, "Graphviz could not start: its plugins are missing");
  std::unique_ptr<Agraph_t, GraphDeleter> graph(agmemread(dot.c_str()));
  if (!graph) throw Error(Errc::io, "Graphviz could not read the workflow's graph");
  move_edge_labels_out(graph.get());
  if (gvLayout(gvc, graph.get(), "dot") != 0) {
    throw Error(Errc::io, "Graphviz could not lay out the workflow's graph");
  }
  char* data = nullptr;
  unsigned int length = 0;
  int rendered = gvRenderData(gvc, graph.get(), "svg", &data, &length);
  std::string svg = rendered == 0 && data != nullptr ? std::string(data, length) : std::string();
  if (data != nullptr) gvFreeRenderData(data);
  gvFreeLayout(gvc, graph.get());
  if (svg.empty()) throw Error(Errc::io, "Graphviz could not draw the workflow's graph as SVG");
  return svg;
}

std::string graph_svg(const Definition& definition, const GraphOverlay* overlay,
                      const GraphLayoutOptions& options) {
  return layout_svg(render_graph(definition, GraphFormat::dot, overlay), options);
}

std::string layout_svg(const std::string& dot, const GraphLayoutOptions& options) {
  auto seconds = std::chrono::ceil<std::chrono::seconds>(options.timeout).count();
  ChildLimits limits;
  limits.timeout = options.timeout;
  limits.cancel_fd = options.cancel_fd;
  auto run = run_child(
      {options.program, "layout-graph", "--cpu-seconds", std::to_string(seconds + 1),
       "--memory-mib", std::to_string(options.memory_mib), "--parent", std::to_string(::getpid())},
      dot, limits);
  using End = ChildRun::End;
  // Graphviz says "out of memory" and may then crash; the command itself exits with
  // kLayoutOutOfMemory.
  bool out_of_memory = run.err.find("out of memory") != std::string::npos ||
                       (run.end == End::exited && run.status == kLayoutOutOfMemory);
  if (out_of_memory) {
    throw LayoutRefused(
        fmt::format("Graphviz needed more than {} MiB to lay out the graph", options.memory_mib));
  }
  switch (run.end) {
    case End::exited:
      if (run.status == 0) return std::move(run.out);
      throw Error(Errc::io,
                  fmt::format("Graphviz could not draw the graph: {}", first_line(run.err)));
    case End::timed_out:
      throw LayoutRefused(fmt::format("Graphviz did not lay out the graph within {}",
                                      format_duration(options.timeout)));
    case End::output_too_large:
      throw LayoutRefused(fmt::format("Graphviz's drawing of the graph is larger than {} MiB",
                                      limits.max_output >> 20));
    case End::signalled:
      if (run.status == SIGXCPU || run.status == SIGKILL) {
        throw LayoutRefused(
            fmt::format("Graphviz did not lay out the graph within {} s of CPU", seconds + 1));
      }
      throw Error(Errc::io, fmt::format("Graphviz failed on the graph (signal {})", run.status));
    case End::cancelled:
      break;
  }
  throw Error(Errc::io, "the graph's layout was stopped");
}

}  // namespace rmaflow::api

#if defined(__SANITIZE_ADDRESS__)
// Graphviz and fontconfig keep some allocations for the life of the process (plugin tables,
// font caches): the same 31 KB after one drawing or fifty, never freed, not ours to free.
// LeakSanitizer is told so, and says nothing about it, so that it still fails on our leaks.
extern "C" const char* __lsan_default_suppressions() {
  return "leak:libfontconfig.so\nleak:libgvc.so\n";
}
extern "C" const char* __lsan_default_options() { return "print_suppressions=0"; }
#endif
