// The API's routing table (the web console's page and files among its routes), and its two
// operational endpoints.
#include "engine/api/api_context.hpp"
#include "engine/api/handlers.hpp"
#include "engine/api/problem.hpp"

namespace rmaflow::api {

const std::vector<Route>& api_routes() {
  using P = Permission;
  // clang-format off
  static const std::vector<Route> routes = {
    {"GET",  "/",                                             P::anyone,   get_console},
    {"GET",  "/console/{file}",                               P::anyone,   get_console_file},
    {"GET",  "/healthz",                                      P::anyone,   get_health},
    {"GET",  "/metrics",                                      P::read,     get_metrics},
    {"GET",  "/v1/me",                                        P::identify, get_me},
    {"GET",  "/v1/overview",                                  P::read,     get_overview},
    {"GET",  "/v1/audit",                                     P::read,     get_audit},
    {"POST", "/v1/instances",                                 P::start,    post_instance},
    {"GET",  "/v1/instances",                                 P::read,     list_instances},
    {"GET",  "/v1/instances/{id}",                            P::read,     get_instance},
    {"GET",  "/v1/instances/{id}/history",                    P::read,     get_history},
    {"GET",  "/v1/instances/{id}/graph",                      P::read,     get_instance_graph},
    {"POST", "/v1/instances/{id}/signals/{name}",             P::signal,   post_instance_signal},
    {"POST", "/v1/signals",                                   P::signal,   post_signal},
    {"POST", "/v1/instances/{id}/actions/{action}",           P::act,      post_action},
    {"POST", "/v1/actions/retry",                             P::act,      post_bulk_retry},
    {"GET",  "/v1/workflows",                                 P::read,     list_workflows},
    {"POST", "/v1/workflows",                                 P::deploy,   post_workflow},
    {"GET",  "/v1/workflows/{name}",                          P::read,     get_workflow},
    {"GET",  "/v1/workflows/{name}/versions/{version}",       P::read,     get_workflow_version},
    {"GET",  "/v1/workflows/{name}/versions/{version}/graph", P::read,     get_workflow_graph},
  };
  // clang-format on
  return routes;
}

void get_health(ApiContext& context, ApiRequest& request, const Answer& answer) {
  request.query.finish();
  if (!context.engine_running()) {
    fail(503, "unavailable", "the engine has stopped; see the server's log");
  }
  answer(json_response(200, {{"status", "ok"}}));
}

void get_metrics(ApiContext& context, ApiRequest& request, const Answer& answer) {
  request.query.finish();
  std::map<InstanceStatus, std::int64_t> counts;
  {
    auto store = context.reads.get();
    counts = store->count_by_status();
  }
  auto text = context.metrics->exposition(context.engine.stats(), context.engine_running(), counts);
  answer(net::HttpResponse::with_body(200, std::move(text), "text/plain; version=0.0.4"));
}

}  // namespace rmaflow::api
