#include "engine/dsl/flow_map.hpp"

#include <map>

namespace rmaflow::dsl {

FlowMap::FlowMap(const Definition& d) : d_(d) {
  std::map<std::string, std::size_t> by_id;
  auto add = [&](std::string id, const std::string& start) {
    by_id.emplace(id, flows_.size());
    flows_.push_back({std::move(id), start, {}});
  };
  add("", d.start);
  for (const auto& step : d.steps) {
    if (const auto* f = std::get_if<ForeachStep>(&step.body)) add(step.name, f->flow.start);
    if (const auto* p = std::get_if<ParallelStep>(&step.body))
      for (const auto& [branch, flow] : p->branches) add(step.name + "." + branch, flow.start);
  }
  for (std::size_t v = 0; v < d.steps.size(); ++v)
    if (auto it = by_id.find(d.steps[v].flow); it != by_id.end())
      flows_[it->second].steps.push_back(v);
}

const Step* FlowMap::step_in(const std::string& flow, const std::string& to) const {
  const Step* s = d_.find(to);
  return s != nullptr && s->flow == flow ? s : nullptr;
}

const Step* FlowMap::owner(const std::string& flow) const {
  if (flow.empty()) return nullptr;
  return d_.find(flow.substr(0, flow.find('.')));
}

bool FlowMap::nested_in(const Step& step, const Step& fan_out) const {
  for (const Step* s = &step; s != nullptr && !s->flow.empty();) {
    s = owner(s->flow);
    if (s == &fan_out) return true;
  }
  return false;
}

std::vector<std::vector<std::size_t>> FlowMap::successor_graph() const {
  std::vector<std::vector<std::size_t>> g(d_.steps.size());
  for (std::size_t v = 0; v < d_.steps.size(); ++v)
    for (const auto& to : d_.steps[v].successors())
      if (const Step* s = step_in(d_.steps[v].flow, to)) g[v].push_back(index(*s));
  return g;
}

}  // namespace rmaflow::dsl
