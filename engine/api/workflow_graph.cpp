#include "engine/api/workflow_graph.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace rmaflow::api {

namespace {

nlohmann::json edge(const std::string& from, const std::string& to, const char* on,
                    const std::string& label = {}) {
  nlohmann::json e = {{"from", from}, {"to", to}, {"on", on}};
  if (!label.empty()) e["label"] = label;
  return e;
}

}  // namespace

nlohmann::json workflow_graph(const Definition& def) {
  auto nodes = nlohmann::json::array();
  auto edges = nlohmann::json::array();
  for (const auto& step : def.steps) {
    nlohmann::json node = {{"id", step.name}};
    if (const auto* task = std::get_if<TaskStep>(&step.body)) {
      node["kind"] = "task";
      node["action"] = task->adapter + "." + task->operation;
      node["compensate"] = task->compensate.has_value();
      node["pivot"] = task->pivot;
      for (const auto& c : task->catches) {
        edges.push_back(edge(step.name, c.next, "catch", fmt::format("{}", fmt::join(c.errors, ", "))));
      }
    } else if (const auto* sw = std::get_if<SwitchStep>(&step.body)) {
      node["kind"] = "switch";
      for (const auto& c : sw->cases) edges.push_back(edge(step.name, c.next, "case", c.condition.source()));
      if (!sw->default_next.empty()) edges.push_back(edge(step.name, sw->default_next, "default"));
    } else if (const auto* wait = std::get_if<WaitStep>(&step.body)) {
      node["kind"] = "wait";
      if (!wait->signal.empty()) node["signal"] = wait->signal;
      if (!wait->on_timeout.empty()) edges.push_back(edge(step.name, wait->on_timeout, "timeout"));
    } else if (std::holds_alternative<SetStep>(step.body)) {
      node["kind"] = "set";
    } else if (const auto* end = std::get_if<EndStep>(&step.body)) {
      node["kind"] = "end";
      node["status"] = to_string(end->status);
      node["compensate"] = end->compensate;
    }
    if (!step.next.empty()) edges.push_back(edge(step.name, step.next, "next"));
    nodes.push_back(std::move(node));
  }
  return {{"start", def.start}, {"nodes", nodes}, {"edges", edges}};
}

}  // namespace rmaflow::api
