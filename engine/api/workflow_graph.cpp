#include "engine/api/workflow_graph.hpp"

#include "engine/dsl/workflow_graph.hpp"
#include "engine/support/name_table.hpp"

namespace rmaflow::api {

namespace {

using Shape = dsl::GraphNode::Shape;
using Kind = dsl::GraphEdge::Kind;

constexpr NameTable<Shape, 7> kShapes{{
    {Shape::start, "start"},
    {Shape::task, "task"},
    {Shape::switch_, "switch"},
    {Shape::wait, "wait"},
    {Shape::set, "set"},
    {Shape::end, "end"},
    {Shape::compensation, "compensation"},
}};

constexpr NameTable<Kind, 7> kKinds{{
    {Kind::start, "start"},
    {Kind::next, "next"},
    {Kind::branch, "branch"},
    {Kind::fallback, "fallback"},
    {Kind::catch_, "catch"},
    {Kind::timeout, "timeout"},
    {Kind::compensation, "compensation"},
}};

}  // namespace

nlohmann::json workflow_graph(const Definition& definition) {
  auto graph = dsl::build_graph(definition, nullptr);
  auto nodes = nlohmann::json::array();
  for (const auto& n : graph.nodes) {
    nodes.push_back({{"id", n.name},
                     {"kind", name_of(kShapes, n.shape)},
                     {"title", n.title},
                     {"detail", n.detail},
                     {"pivot", n.pivot},
                     {"compensates", n.compensates}});
  }
  auto edges = nlohmann::json::array();
  for (const auto& e : graph.edges) {
    edges.push_back({{"from", graph.nodes.at(e.from).name},
                     {"to", graph.nodes.at(e.to).name},
                     {"kind", name_of(kKinds, e.kind)},
                     {"label", e.label}});
  }
  return {{"nodes", nodes}, {"edges", edges}};
}

}  // namespace rmaflow::api
