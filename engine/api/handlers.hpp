// The API's route handlers, one group per file; routes.cpp binds them to methods and paths.
#pragma once

#include <optional>

#include "engine/api/router.hpp"
#include "rmaflow/graph.hpp"
#include "rmaflow/store.hpp"

namespace rmaflow::api {

// routes.cpp
void get_health(ApiContext& context, ApiRequest& request, const Answer& answer);
void get_metrics(ApiContext& context, ApiRequest& request, const Answer& answer);

// logging_routes.cpp
void get_logging(ApiContext& context, ApiRequest& request, const Answer& answer);
void put_logging(ApiContext& context, ApiRequest& request, const Answer& answer);

// console_routes.cpp: the web console's page and files
void get_console(ApiContext& context, ApiRequest& request, const Answer& answer);
void get_console_file(ApiContext& context, ApiRequest& request, const Answer& answer);

// report_routes.cpp
void get_me(ApiContext& context, ApiRequest& request, const Answer& answer);
void get_overview(ApiContext& context, ApiRequest& request, const Answer& answer);
void get_audit(ApiContext& context, ApiRequest& request, const Answer& answer);

// instance_routes.cpp
void post_instance(ApiContext& context, ApiRequest& request, const Answer& answer);
void list_instances(ApiContext& context, ApiRequest& request, const Answer& answer);
void get_instance(ApiContext& context, ApiRequest& request, const Answer& answer);
// An instance's view (what GET /v1/instances/{id} answers), from `row` when the caller has its
// committed row already (an awaited end's), else from the store; what the view adds to the row
// (search attributes, pending commands, children) is read from the store. Throws
// ProblemError (404).
net::HttpResponse instance_response(ApiContext& context, const std::string& id,
                                    const std::optional<InstanceRow>& row = std::nullopt);
void get_history(ApiContext& context, ApiRequest& request, const Answer& answer);
void get_instance_graph(ApiContext& context, ApiRequest& request, const Answer& answer);

// signal_routes.cpp
void post_instance_signal(ApiContext& context, ApiRequest& request, const Answer& answer);
void post_signal(ApiContext& context, ApiRequest& request, const Answer& answer);

// action_routes.cpp
void post_action(ApiContext& context, ApiRequest& request, const Answer& answer);

// job_routes.cpp
void post_job(ApiContext& context, ApiRequest& request, const Answer& answer);
void list_jobs(ApiContext& context, ApiRequest& request, const Answer& answer);
void get_job(ApiContext& context, ApiRequest& request, const Answer& answer);
void get_job_items(ApiContext& context, ApiRequest& request, const Answer& answer);
void post_job_cancel(ApiContext& context, ApiRequest& request, const Answer& answer);

// workflow_routes.cpp
void list_workflows(ApiContext& context, ApiRequest& request, const Answer& answer);
void get_workflow(ApiContext& context, ApiRequest& request, const Answer& answer);
void get_workflow_version(ApiContext& context, ApiRequest& request, const Answer& answer);
void get_workflow_graph(ApiContext& context, ApiRequest& request, const Answer& answer);
void post_workflow(ApiContext& context, ApiRequest& request, const Answer& answer);
// A version's graph, with `overlay` (an instance's path) when given, in the request's `format`:
// svg (the default, laid out by Graphviz off the I/O thread), dot or mermaid (no layout).
void answer_graph(ApiContext& context, ApiRequest& request, const DefinitionRow& version,
                  const GraphOverlay* overlay, const Answer& answer);

}  // namespace rmaflow::api
