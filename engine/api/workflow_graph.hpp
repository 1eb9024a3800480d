// A workflow as JSON for API clients (a console draws it): the same nodes and edges the Mermaid
// and DOT writers draw (engine/dsl/workflow_graph.hpp), spelled as JSON.
#pragma once

#include <nlohmann/json.hpp>

#include "rmaflow/definition.hpp"

namespace rmaflow::api {

// {"nodes": [{"id", "kind": start|task|switch|wait|set|end|compensation, "title", "detail",
//             "pivot", "compensates"}],
//  "edges": [{"from", "to", "kind": start|next|branch|fallback|catch|timeout|compensation,
//             "label"}]}
// Node ids are step names ("(start)" for the start, "undo <step>" for a compensation).
nlohmann::json workflow_graph(const Definition& definition);

}  // namespace rmaflow::api
