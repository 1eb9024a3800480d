// Instances: submission (idempotent on the business key), lists with keyset pagination, one
// instance (with the commands queued for it), its history, its graph as SVG.
#include <fmt/format.h>

#include "engine/api/api_context.hpp"
#include "engine/api/end_waits.hpp"
#include "engine/api/handlers.hpp"
#include "engine/api/instance_page.hpp"
#include "engine/api/json_body.hpp"
#include "engine/api/problem.hpp"
#include "engine/api/views.hpp"
#include "engine/support/trace_id.hpp"
#include "rmaflow/graph.hpp"

namespace rmaflow::api {

namespace {

// An instance's view lists at most this many of its pending commands, the newest.
constexpr std::size_t kPendingCommandsRead = 1000;

// The statuses of a `status=a,b` parameter.
std::vector<InstanceStatus> statuses(QueryParams& query) {
  std::vector<InstanceStatus> out;
  for (const auto& name : query.list("status")) {
    auto status = parse_instance_status(name);
    if (!status) {
      Problem problem = make_problem(
          400, "invalid-parameter",
          fmt::format("unknown status \"{}\" (running, waiting, suspended, compensating, "
                      "completed, rejected, expired, cancelled, failed, compensated)",
                      name));
      problem.extra["parameter"] = "status";
      throw ProblemError(std::move(problem));
    }
    out.push_back(*status);
  }
  return out;
}

InstanceRow must_get(Store& store, const std::string& id) {
  auto row = store.get_instance(id);
  if (!row) fail(404, "not-found", fmt::format("no instance {}", id));
  return *row;
}

// The caller's correlation id, when the body names none: its X-Correlation-Id, else the trace id
// of its W3C traceparent, so that the instance's spans, log lines and outgoing calls continue
// the caller's trace. Empty: the engine uses the instance id. A malformed traceparent is
// ignored (as the W3C specification asks); an unusable X-Correlation-Id is refused.
std::string caller_correlation_id(const net::HttpRequest& http) {
  if (auto header = http.headers.find("x-correlation-id")) {
    if (header->empty() || header->size() > kMaxKeyBytes) {
      fail(400, "invalid-header",
           fmt::format("X-Correlation-Id must be 1 to {} bytes", kMaxKeyBytes));
    }
    return std::string(*header);
  }
  if (auto header = http.headers.find("traceparent")) {
    if (auto parent = parse_traceparent(*header)) return parent->trace_id;
  }
  return "";
}

}  // namespace

// The longest `wait` a start or a GET of an instance takes, in seconds.
constexpr std::int64_t kMaxWaitSeconds = 60;

void post_instance(ApiContext& context, ApiRequest& request, const Answer& answer) {
  // wait=N: answer with the instance's view once it has ended, or after N seconds as it then
  // stands (a start and GET /v1/instances/{id}?wait=N in one request).
  auto wait = request.query.integer("wait", 0, kMaxWaitSeconds).value_or(0);
  request.query.finish();
  auto body = json_object_body(request.http);
  BodyFields fields(body);
  StartRequest start;
  start.workflow = fields.required_string("workflow");
  start.input = fields.required_object("input");
  start.business_key = fields.optional_string("business_key");
  start.version = fields.optional_int("version", 1);
  start.correlation_id = fields.optional_string("correlation_id").value_or("");
  fields.finish();
  if (start.correlation_id.empty()) start.correlation_id = caller_correlation_id(request.http);
  auto started = [](const StartResult& r, net::HttpResponse response) {
    response.status = r.created ? 201 : 200;
    response.headers.set("Location", "/v1/instances/" + r.instance_id);
    return response;
  };
  EndWaits::Later waits;  // none: answered at once
  if (context.end_waits != nullptr && wait > 0) waits = context.end_waits->later();
  Engine& engine = context.engine;
  engine.start(std::move(start), [answer, started, waits, wait, &engine](Reply<StartResult> reply) {
    if (!reply.ok()) {
      answer(problem_response(problem_for(reply.error)));
      return;
    }
    const StartResult& r = *reply.result;
    // Its view once it has ended; a problem (it was removed meanwhile) stays as it is.
    Answer on_end([answer, started, r](net::Producer view) {
      answer.produce([view = std::move(view), started, r] {
        auto page = view();
        return page.status == 200 ? started(r, std::move(page)) : page;
      });
    });
    if (waits.begin(engine, r.instance_id, Duration(wait * 1000), on_end)) return;
    answer(started(
        r, json_response(200,
                         {{"id", r.instance_id}, {"version", r.version}, {"created", r.created}})));
  });
}

void list_instances(ApiContext& context, ApiRequest& request, const Answer& answer) {
  auto& query = request.query;
  InstanceFilter filter;
  filter.statuses = statuses(query);
  filter.workflow = query.text("workflow").value_or("");
  if (auto v = query.integer("version", 1, std::numeric_limits<int>::max())) {
    filter.version = static_cast<int>(*v);
  }
  filter.step = query.text("step").value_or("");
  filter.business_key = query.text("business_key").value_or("");
  filter.parent_id = query.text("parent").value_or("");
  filter.paused = query.boolean("paused");
  filter.created_from = query.time("created_after");
  filter.created_before = query.time("created_before");
  filter.after_id = query.text("cursor").value_or("");
  // Conditions on search attributes: attr.customer_id=C-105 (equal), attr.value=>=500 (a
  // comparison), attr.value=>=100,<500 (a range: comparisons separated by commas).
  for (const auto& [name, value] : query.prefixed("attr.")) {
    bool compares = !value.empty() && (value[0] == '<' || value[0] == '>' || value[0] == '=');
    std::vector<std::string> parts = {value};
    if (compares) {
      parts.clear();
      for (std::size_t start = 0;;) {
        auto comma = value.find(',', start);
        parts.push_back(value.substr(start, comma - start));
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
    }
    try {
      for (const auto& part : parts) {
        filter.attributes.push_back(parse_attribute_condition(name + (compares ? "" : "=") + part));
      }
    } catch (const Error& e) {
      bad_parameter("attr." + name, e.what());
    }
    if (filter.attributes.size() > kMaxAttributeConditions) {
      bad_parameter("attr." + name,
                    fmt::format("a list takes at most {} conditions on search attributes",
                                kMaxAttributeConditions));
    }
  }
  auto limit = static_cast<std::size_t>(
      query.integer("limit", 1, static_cast<std::int64_t>(context.max_page)).value_or(100));
  bool stuck = query.boolean("stuck").value_or(false);
  // A team is where an incident was routed: asking for one asks for the stuck queue.
  auto team = query.text("team");
  query.finish();
  if ((stuck || team) && !filter.statuses.empty()) {
    fail(400, "invalid-parameter",
         fmt::format("{} and status do not go together", team ? "team" : "stuck"));
  }
  std::optional<StuckFilter> which;
  if (stuck || team) which = StuckFilter{team.value_or("")};
  nlohmann::json page;
  {
    auto store = context.reads.get();
    page = instance_page(*store, std::move(filter), limit, which, system_clock()->now(),
                         &context.definitions);
  }
  answer(json_response(200, std::move(page)));
}

// An instance's view lists its children (call steps) up to this many; `GET
// /v1/instances?parent=ID` pages through all of them.
constexpr std::size_t kMaxChildrenShown = 100;

void get_instance(ApiContext& context, ApiRequest& request, const Answer& answer) {
  // wait=N: answer once the instance has ended, or after N seconds as it then stands.
  auto wait = request.query.integer("wait", 0, kMaxWaitSeconds);
  request.query.finish();
  const auto& id = request.path.at("id");
  if (!wait || *wait == 0 || context.end_waits == nullptr) {
    answer(instance_response(context, id));
    return;
  }
  {
    auto store = context.reads.get();
    must_get(*store, id);  // an unknown instance is refused at once, not after the wait
  }
  context.end_waits->wait(context.engine, id, Duration(*wait * 1000), answer);
}

namespace {

// An instance's view: `row` and what is read beside it through `store` (in the caller's read
// transaction, so that they agree with each other).
nlohmann::json instance_view(ApiContext& context, Store& store, const InstanceRow& row) {
  auto out = instance_detail(store, row, &context.definitions);
  // The engine applies queued commands within a moment, so an instance's pending ones are few.
  out["pending_commands"] = commands_json(store.list_commands(row.id, true, kPendingCommandsRead));
  InstanceFilter filter;
  filter.parent_id = row.id;
  filter.limit = kMaxChildrenShown;
  auto list = nlohmann::json::array();
  for (const auto& child : store.list_instances(filter)) {
    list.push_back({{"id", child.id},
                    {"workflow", child.workflow},
                    {"status", to_string(child.status)},
                    {"step", child.step},
                    {"branch", child.parent ? child.parent->branch : std::string()}});
  }
  out["children"] = std::move(list);
  return out;
}

}  // namespace

net::HttpResponse instance_response(ApiContext& context, const std::string& id,
                                    const std::optional<InstanceRow>& row) {
  nlohmann::json view;
  {
    auto store = context.reads.get();
    store->read_together([&] {
      view = row ? instance_view(context, *store, *row)
                 : instance_view(context, *store, must_get(*store, id));
    });
  }
  // A call waiting its turn behind its adapter's limits (the engine's, not the database's).
  if (auto queued = context.engine.queued_call(id)) {
    view["queued_call"] = {{"adapter", queued->adapter},
                           {"operation", queued->operation},
                           {"branch", queued->branch},
                           {"since", format_time(queued->since)},
                           {"position", queued->position}};
  }
  return json_response(200, view);
}

void get_instance_graph(ApiContext& context, ApiRequest& request, const Answer& answer) {
  InstanceRow row;
  std::vector<EventRow> history;
  std::optional<DefinitionRow> definition;
  {
    auto store = context.reads.get();
    row = must_get(*store, request.path.at("id"));
    history = store->history(row.id);
    definition = store->get_definition(row.workflow, row.version);
  }
  if (!definition) {
    fail(409, "refused", fmt::format("instance {} runs workflow {} version {}, which is not stored",
                                     row.id, row.workflow, row.version));
  }
  auto overlay = overlay_of(row, history);
  answer_graph(context, request, *definition, &overlay, answer);
}

void get_history(ApiContext& context, ApiRequest& request, const Answer& answer) {
  request.query.finish();
  const auto& id = request.path.at("id");
  auto events = nlohmann::json::array();
  {
    auto store = context.reads.get();
    must_get(*store, id);
    for (const auto& e : store->history(id)) events.push_back(event_json(e));
  }
  answer(json_response(200, {{"instance_id", id}, {"events", events}}));
}

}  // namespace rmaflow::api
