// Workflow graphs as SVG, laid out by Graphviz's library (cgraph and gvc) in-process: the
// console shows what `rmaflow graph --format dot` describes, without a `dot` program at run
// time. Labels reach the SVG escaped by Graphviz (text, never markup), and every node carries
// the classes write_dot gives it ("step", its kind, visited, current, failing).
//
// Graphviz's layout takes time and memory past any bound on some graphs of a few hundred
// steps (minutes and gigabytes, in its crossing minimisation, whatever its own iteration limits
// say), so a server or a command never lays out in its own process: layout_svg runs the
// rmaflow binary's hidden `layout-graph` command as a child, bounded in wall-clock time, CPU
// and memory, and refuses the graph when the child passes a bound.
//
// Thread-safety: any thread; Graphviz keeps global state, so dot_to_svg draws one at a time.
#pragma once

#include <chrono>
#include <string>

#include "rmaflow/definition.hpp"
#include "rmaflow/graph.hpp"

namespace rmaflow::api {

// The exit code of `layout-graph` when its layout runs out of the memory it may take.
inline constexpr int kLayoutOutOfMemory = 3;
// Its exit code when the process that started it died before it could ask to die with it.
inline constexpr int kLayoutOrphaned = 4;

// The longest --layout-timeout taken: a layout that takes longer helps no one.
inline constexpr std::chrono::milliseconds kMaxLayoutTimeout = std::chrono::hours(1);

// How a layout is bounded, and what runs it.
struct GraphLayoutOptions {
  // An rmaflow binary, run as `program layout-graph`: this process's own unless a test says.
  std::string program = "/proc/self/exe";
  std::chrono::milliseconds timeout{15'000};  // wall clock; the CPU bound is a second more
  std::size_t memory_mib = 1024;              // the child's address space
  int cancel_fd = -1;                         // readable: stop (see ChildLimits::cancel_fd)
};

// A graph whose layout passed a bound of GraphLayoutOptions; the sentence names which.
class LayoutRefused : public Error {
 public:
  explicit LayoutRefused(const std::string& message) : Error(Errc::refused, message) {}
};

// The workflow drawn as `rmaflow graph --format dot` draws it (with `overlay`, an instance's
// path and where it stands), laid out as SVG by a child process. Throws LayoutRefused past a
// bound, Error(io) when the child cannot run or fails, or was cancelled.
std::string graph_svg(const Definition& definition, const GraphOverlay* overlay,
                      const GraphLayoutOptions& options);
std::string layout_svg(const std::string& dot, const GraphLayoutOptions& options);

// The SVG document for a Graphviz digraph, laid out in this process, unbounded: what the
// `layout-graph` command runs. Throws Error(io) when Graphviz refuses it (write_dot's output
// always parses).
std::string dot_to_svg(const std::string& dot);

}  // namespace rmaflow::api
