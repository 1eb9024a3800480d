// FlowMap: a definition seen flow by flow, for the checks that work per flow: the top level and
// each branch's sub-flow, with its start and its own steps (by index into Definition::steps).
// Transitions never leave their flow, so each flow is a graph of its own; a fan-out step links
// a flow to the sub-flows its branches run.
#pragma once

#include <string>
#include <vector>

#include "rmaflow/definition.hpp"

namespace rmaflow::dsl {

class FlowMap {
 public:
  struct Entry {
    std::string id;                  // Step::flow: "" for the top level
    std::string start;               // as written; may name no step
    std::vector<std::size_t> steps;  // its own steps, in file order
  };

  // `d` has its steps indexed and must outlive the map.
  explicit FlowMap(const Definition& d);

  // The top level first, then every sub-flow in file order.
  const std::vector<Entry>& flows() const { return flows_; }
  // The step of flow `flow` named `to`; null when that flow has no such step.
  const Step* step_in(const std::string& flow, const std::string& to) const;
  std::size_t index(const Step& step) const {
    return static_cast<std::size_t>(&step - d_.steps.data());
  }
  // The fan-out step whose branches run `flow`; null for the top level.
  const Step* owner(const std::string& flow) const;
  // Whether `step` runs inside the branches of `fan_out`, at any depth.
  bool nested_in(const Step& step, const Step& fan_out) const;
  // Steps of the same flow that each step can go to (its successors that are in its flow).
  std::vector<std::vector<std::size_t>> successor_graph() const;

 private:
  const Definition& d_;
  std::vector<Entry> flows_;
};

}  // namespace rmaflow::dsl
