// The API's drawings of workflow graphs (GET .../graph as SVG), made off the I/O threads: a
// layout takes up to its bound (seconds, for a big graph), and a handler that waited for it
// would hold up every connection of its I/O thread. At most `at_once` layouts run at a time,
// each a child process (layout_svg); at most `max_waiting` more wait, and past that a drawing
// is refused at once as busy. Requests for a version's drawing while one is under way wait for
// that one. A version's drawing, and a version's refusal, are kept for the
// server's life: a graph that passed a bound once is refused at once after, also when an
// instance's path is drawn on it.
//
// Thread-safety: any thread.
#pragma once

#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "engine/api/graph_svg.hpp"
#include "rmaflow/store.hpp"

namespace rmaflow::api {

class Drawings {
 public:
  // How a Graphviz digraph is laid out as SVG: layout_svg, unless a test gives another. Stops
  // when `cancel_fd` becomes readable.
  using Layout = std::function<std::string(const std::string& dot, int cancel_fd)>;
  // Called once with the SVG, or with the error: a ProblemError (422 graph-too-large past a
  // bound, 503 unavailable when busy or stopping) or the layout's own Error.
  using Done = std::function<void(std::string svg, std::exception_ptr error)>;

  struct Options {
    GraphLayoutOptions layout;
    std::size_t at_once = 2;
    std::size_t max_waiting = 32;
  };
  explicit Drawings(Options options);
  Drawings(Layout layout, std::size_t at_once, std::size_t max_waiting);
  Drawings(const Drawings&) = delete;
  Drawings& operator=(const Drawings&) = delete;
  ~Drawings();

  // Draws version `row` of `definition`; with `overlay`, an instance's path on it (drawn each
  // time: an instance moves). `done` runs on a drawing thread, or on the caller's when the
  // answer is known at once (kept, refused, busy).
  void draw(const DefinitionRow& row, const Definition& definition, const GraphOverlay* overlay,
            Done done);
  // Stops the layouts that run (their child processes are killed) and answers every drawing
  // not made with 503. Idempotent.
  void stop();

 private:
  using Key = std::tuple<std::string, int, std::string>;  // name, version, content hash
  struct Kept {
    std::string svg;      // the version's drawing, once made
    std::string refusal;  // or why it is refused
  };
  struct Job {
    Key key;
    std::string version;  // "workflow returns version 3", for the refusal's sentence
    std::string dot;
    bool plain = false;  // the version's own drawing, kept once made
    Done done;
  };

  void work();
  void lay_out(Job& job);
  std::exception_ptr refused(const std::string& version, const std::string& reason) const;

  Layout layout_;
  std::size_t max_waiting_;
  int cancel_fd_ = -1;  // an eventfd, written by stop()
  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<Job> waiting_;
  std::map<Key, Kept> kept_;
  // The requests for a version's drawing that wait for the one under way (or queued) for it:
  // a viewer who reloads adds no layout.
  std::map<Key, std::vector<Done>> followers_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace rmaflow::api
