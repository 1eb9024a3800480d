#include "engine/api/graph_svg.hpp"

#include <graphviz/cgraph.h>
#include <graphviz/gvc.h>

#include <memory>
#include <mutex>

#include "rmaflow/errors.hpp"

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

std::string graph_svg(const Definition& definition, const GraphOverlay* overlay) {
  return dot_to_svg(render_graph(definition, GraphFormat::dot, overlay));
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
