// The API's routing table (the web console's page and files among its routes), and its two
// operational endpoints.
#include <fmt/format.h>

#include <functional>
#include <limits>
#include <set>

#include "engine/api/api_context.hpp"
#include "engine/api/handlers.hpp"
#include "engine/api/problem.hpp"
#include "engine/api/stuck.hpp"
#include "engine/observe/prometheus_text.hpp"
#include "rmaflow/clock.hpp"

namespace rmaflow::api {

namespace {

// A heartbeat older than this (the engine renews it every second) reports the engine stalled.
constexpr std::chrono::milliseconds kEngineStalledAfter{10'000};
// Due timers are counted up to this many: more says the same (the engine is far behind).
constexpr std::size_t kMaxTimersCounted = 10'000;

}  // namespace

const std::vector<Route>& api_routes() {
  using P = Permission;
  // clang-format off
  static const std::vector<Route> routes = {
    {"GET",  "/",                                             P::anyone,   get_console},
    {"GET",  "/console/{file}",                               P::anyone,   get_console_file},
    {"GET",  "/healthz",                                      P::anyone,   get_health},
    {"GET",  "/metrics",                                      P::read,     get_metrics},
    {"GET",  "/v1/logging",                                   P::read,     get_logging},
    {"PUT",  "/v1/logging",                                   P::deploy,   put_logging},
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
    {"POST", "/v1/jobs",                                      P::act,      post_job},
    {"GET",  "/v1/jobs",                                      P::read,     list_jobs},
    {"GET",  "/v1/jobs/{id}",                                 P::read,     get_job},
    {"GET",  "/v1/jobs/{id}/items",                           P::read,     get_job_items},
    {"POST", "/v1/jobs/{id}/cancel",                          P::act,      post_job_cancel},
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
  // Answered here, on the I/O thread, from what the engine publishes: a health check never
  // waits for an engine that may be stuck.
  auto stats = context.engine.stats();
  auto silent = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - stats.heartbeat);
  nlohmann::json engine = {{"running", context.engine_running()},
                           {"heartbeat_age_ms", silent.count()},
                           {"commits", stats.commits},
                           {"in_flight", stats.in_flight},
                           {"storage", stats.storage_failing ? "failing" : "ok"}};
  if (!stats.node.name.empty()) {
    nlohmann::json shards = nlohmann::json::array();
    for (int s = 0; s < kShards; ++s)
      if (holds(stats.node.held, s)) shards.push_back(s);
    engine["node"] = {{"name", stats.node.name},
                      {"session", stats.node.session},
                      {"shards", std::move(shards)},
                      {"takeovers", stats.node.takeovers}};
  }
  std::string status = "ok";
  std::string detail;
  if (!context.engine_running()) {
    status = "stopped";
    detail = "the engine has stopped; see the server's log";
  } else if (silent > kEngineStalledAfter) {
    status = "stalled";
    detail = fmt::format("the engine's thread has not come round for {} s; it is stuck on "
                         "something (see the server's log)",
                         silent.count() / 1000);
  } else if (stats.storage_failing) {
    status = "degraded";
    engine["storage_error"] = stats.storage_error;
    detail = fmt::format("commits are failing and being retried: {}", stats.storage_error);
  }
  if (status == "ok") return answer(json_response(200, {{"status", status}, {"engine", engine}}));
  Problem problem = make_problem(503, "unavailable", detail);
  problem.extra["status_of_engine"] = status;
  problem.extra["engine"] = engine;
  answer(problem_response(problem));
}

namespace {

// What needs a person, as gauges: open incidents by workflow, step, error code and team;
// instances stuck by reason; paused instances; durable timers already due (none while the
// engine keeps up: a paused instance's are not counted, they wait for its resume).
void append_stuck_metrics(ApiContext& context, std::string& out) {
  using observe::labels;
  auto now = system_clock()->now();
  std::map<std::tuple<std::string, std::string, std::string, std::string>, std::int64_t> incidents;
  std::map<std::string, std::int64_t> stuck;
  std::map<std::string, std::int64_t> past_team_sla;  // by team
  std::size_t due = 0;
  std::size_t paused = 0;
  {
    auto store = context.reads.get();
    InstanceFilter filter;
    filter.limit = std::numeric_limits<std::size_t>::max();  // only stuck rows are read
    for (const auto& s : find_stuck(*store, filter, now, &context.definitions)) {
      ++stuck[s.kind];
      if (s.kind == "incident" || s.kind == "compensation") {
        ++incidents[{s.row.workflow, s.row.step, s.code, s.team}];
      }
      if (s.past_team_sla) ++past_team_sla[s.team];
    }
    InstanceFilter held;
    held.paused = true;
    held.limit = std::numeric_limits<std::size_t>::max();
    std::set<std::string> paused_ids;
    for (auto& row : store->list_instances(held)) {
      if (!is_final(row.status)) paused_ids.insert(std::move(row.id));
    }
    paused = paused_ids.size();
    for (const auto& timer : store->due_timers(now, kMaxTimersCounted))
      due += paused_ids.count(timer.instance_id) == 0 ? 1 : 0;
  }
  observe::write_family(out, "rmaflow_incidents_open", "gauge",
                        "Suspended instances by workflow, step, error code and team.");
  for (const auto& [key, count] : incidents) {
    const auto& [workflow, step, code, team] = key;
    out += fmt::format("rmaflow_incidents_open{{{}}} {}\n",
                       labels({{"workflow", workflow}, {"step", step}, {"code", code}, {"team", team}}),
                       count);
  }
  observe::write_family(out, "rmaflow_incidents_past_team_sla", "gauge",
                        "Incidents open past the SLA of the team their workflow routes them to.");
  for (const auto& [team, count] : past_team_sla) {
    out += fmt::format("rmaflow_incidents_past_team_sla{{{}}} {}\n", labels({{"team", team}}), count);
  }
  observe::write_family(out, "rmaflow_instances_stuck", "gauge",
                        "Instances that need a person, by reason: incident, compensation, "
                        "paused, deadline, sla.");
  for (const char* kind : {"incident", "compensation", "paused", "deadline", "sla"}) {
    out += fmt::format("rmaflow_instances_stuck{{reason=\"{}\"}} {}\n", kind, stuck[kind]);
  }
  observe::write_family(out, "rmaflow_timers_due", "gauge",
                        "Durable timers due now and not fired yet (the engine is behind).");
  out += fmt::format("rmaflow_timers_due {}\n", due);
  observe::write_family(out, "rmaflow_instances_paused", "gauge",
                        "Unfinished instances an operator has paused.");
  out += fmt::format("rmaflow_instances_paused {}\n", paused);
}

// The adapters' call limits: calls out and waiting per limit (an adapter's, or one operation's:
// operation=""), and how many waited and for how long in all.
void append_limit_metrics(ApiContext& context, std::string& out) {
  using observe::labels;
  auto limits = context.engine.call_limits();
  struct Family {
    const char* name;
    const char* type;
    const char* help;
    std::function<std::string(const LimitState&)> value;
  };
  const Family families[] = {
      {"rmaflow_adapter_limit_in_flight", "gauge",
       "Adapter calls out under a limit of the adapters file (operation=\"\": the adapter's).",
       [](const LimitState& s) { return std::to_string(s.in_flight); }},
      {"rmaflow_adapter_calls_queued", "gauge",
       "Adapter calls waiting for their turn behind a limit.",
       [](const LimitState& s) { return std::to_string(s.queued); }},
      {"rmaflow_adapter_calls_waited_total", "counter",
       "Adapter calls that waited for their turn behind a limit.",
       [](const LimitState& s) { return std::to_string(s.waited); }},
      {"rmaflow_adapter_call_wait_seconds_total", "counter",
       "The time adapter calls waited behind a limit, in all.",
       [](const LimitState& s) { return fmt::format("{:.6f}", s.waited_seconds); }},
  };
  for (const auto& family : families) {
    observe::write_family(out, family.name, family.type, family.help);
    for (const auto& s : limits) {
      out += fmt::format("{}{{{}}} {}\n", family.name,
                         labels({{"adapter", s.adapter}, {"operation", s.operation}}),
                         family.value(s));
    }
  }
}

}  // namespace

void get_metrics(ApiContext& context, ApiRequest& request, const Answer& answer) {
  request.query.finish();
  std::map<InstanceStatus, std::int64_t> counts;
  {
    auto store = context.reads.get();
    counts = store->count_by_status();
  }
  auto text = context.metrics->exposition(context.engine.stats(), context.engine_running(), counts);
  append_stuck_metrics(context, text);
  append_limit_metrics(context, text);
  if (context.observability) context.observability->write_metrics(text);
  answer(net::HttpResponse::with_body(200, std::move(text), "text/plain; version=0.0.4"));
}

}  // namespace rmaflow::api
