// A workflow as a graph for API clients (a console draws it): one node per step and one edge per
// transition, each edge saying why it is taken.
#pragma once

#include <nlohmann/json.hpp>

#include "rmaflow/definition.hpp"

namespace rmaflow::api {

// {"start": step,
//  "nodes": [{"id", "kind": task|switch|wait|set|end, "action"?, "signal"?, "status"?,
//             "compensate"?, "pivot"?}],
//  "edges": [{"from", "to", "on": next|catch|case|default|timeout, "label"?}]}
nlohmann::json workflow_graph(const Definition& definition);

}  // namespace rmaflow::api
