// Bulk jobs: an operator action (or a signal) over every instance a filter matches, stored and
// run by the engine at a bounded rate (Engine::start_job). A dry run lists what a job would
// touch without storing anything; a job's items say what it did to each instance.
#include <fmt/format.h>

#include "engine/api/api_context.hpp"
#include "engine/api/handlers.hpp"
#include "engine/api/json_body.hpp"
#include "engine/api/problem.hpp"
#include "engine/api/views.hpp"

namespace rmaflow::api {

namespace {

// The body's filter ({status, workflow, version, step, business_key, incident, paused,
// created_from, created_before, attributes}); a problem at /filter when it is malformed.
InstanceFilter body_filter(BodyFields& fields) {
  auto filter = fields.optional_object("filter");
  if (!filter) return {};
  try {
    return filter_from_json(*filter);
  } catch (const Error& e) {
    fail(422, "invalid-field", e.what(), "/filter");
  }
}

std::optional<JobRow> read_job(ApiContext& context, const std::string& id) {
  auto store = context.reads.get();
  return store->get_job(id);
}

}  // namespace

void post_job(ApiContext& context, ApiRequest& request, const Answer& answer) {
  request.query.finish();
  auto body = json_object_body(request.http);
  BodyFields fields(body);
  bool dry_run = fields.optional_bool("dry_run").value_or(false);
  JobRequest job;
  job.action = fields.required_string("action");
  job.actor = request.principal.name;
  // A dry run changes nothing: it needs no reason.
  job.reason = dry_run ? fields.optional_string("reason", kMaxTextBytes).value_or("dry run")
                       : fields.required_string("reason", kMaxTextBytes);
  job.filter = body_filter(fields);
  job.args = fields.optional_object("args").value_or(nlohmann::json::object());
  if (auto rate = fields.optional_value("per_second")) {
    if (!rate->is_number())
      fail(422, "invalid-field", "per_second must be a number", "/per_second");
    job.per_second = rate->get<double>();
  }
  auto after = fields.optional_string("cursor").value_or("");
  auto limit = static_cast<std::size_t>(fields.optional_int("limit", 1).value_or(100));
  fields.finish();
  if (limit > context.max_page) {
    fail(422, "invalid-field", fmt::format("limit may be at most {}", context.max_page), "/limit");
  }
  try {
    check_job_request(job);
  } catch (const ArgumentError& e) {
    fail(422, "invalid-field", e.what(), "/" + e.field());
  }
  if (dry_run) {
    // What the job would touch, a page at a time; nothing is stored.
    auto filter = job_scope(job.action, job.filter);
    filter.after_id = after;
    filter.limit = limit + 1;
    std::vector<InstanceRow> rows;
    {
      auto store = context.reads.get();
      rows = store->list_instances(filter);
    }
    bool more = rows.size() > limit;
    if (more) rows.resize(limit);
    nlohmann::json out = {
        {"dry_run", true},
        {"action", job.action},
        {"filter", filter_to_json(filter)},
        {"instances", instances_json(rows)},
        {"next_cursor", more ? nlohmann::json(rows.back().id) : nlohmann::json()}};
    return answer(json_response(200, out));
  }
  context.engine.start_job(std::move(job), reply_with<JobRow>(answer, [](const JobRow& row) {
                             return json_response(201, job_json(row));
                           }));
}

void list_jobs(ApiContext& context, ApiRequest& request, const Answer& answer) {
  auto& query = request.query;
  auto before = query.text("cursor").value_or("");
  auto limit = static_cast<std::size_t>(
      query.integer("limit", 1, static_cast<std::int64_t>(context.max_page)).value_or(50));
  query.finish();
  std::vector<JobRow> jobs;
  {
    auto store = context.reads.get();
    jobs = store->list_jobs(before, limit + 1);
  }
  bool more = jobs.size() > limit;
  if (more) jobs.resize(limit);
  auto out = nlohmann::json::array();
  for (const auto& job : jobs) out.push_back(job_json(job));
  answer(json_response(
      200,
      {{"jobs", out}, {"next_cursor", more ? nlohmann::json(jobs.back().id) : nlohmann::json()}}));
}

void get_job(ApiContext& context, ApiRequest& request, const Answer& answer) {
  request.query.finish();
  const auto& id = request.path.at("id");
  auto job = read_job(context, id);
  if (!job) fail(404, "not-found", fmt::format("no job {}", id));
  answer(json_response(200, job_json(*job)));
}

void get_job_items(ApiContext& context, ApiRequest& request, const Answer& answer) {
  auto& query = request.query;
  const auto& id = request.path.at("id");
  auto after = query.text("cursor").value_or("");
  auto outcome = query.text("outcome").value_or("");
  if (!outcome.empty() && outcome != "refused") {
    bad_parameter("outcome", "outcome takes only \"refused\" (the refusals alone)");
  }
  bool refused_only = outcome == "refused";
  auto limit = static_cast<std::size_t>(
      query.integer("limit", 1, static_cast<std::int64_t>(context.max_page)).value_or(100));
  query.finish();
  std::vector<JobItemRow> items;
  {
    auto store = context.reads.get();
    if (!store->get_job(id)) fail(404, "not-found", fmt::format("no job {}", id));
    items = store->job_items(id, after, refused_only, limit + 1);
  }
  bool more = items.size() > limit;
  if (more) items.resize(limit);
  auto out = nlohmann::json::array();
  for (const auto& item : items) out.push_back(job_item_json(item));
  answer(json_response(
      200, {{"items", out},
            {"next_cursor", more ? nlohmann::json(items.back().instance_id) : nlohmann::json()}}));
}

void post_job_cancel(ApiContext& context, ApiRequest& request, const Answer& answer) {
  request.query.finish();
  auto body = json_object_body(request.http);
  BodyFields fields(body);
  auto reason = fields.required_string("reason", kMaxTextBytes);
  fields.finish();
  context.engine.cancel_job(request.path.at("id"), request.principal.name, std::move(reason),
                            reply_with<JobRow>(answer, [](const JobRow& row) {
                              return json_response(200, job_json(row));
                            }));
}

}  // namespace rmaflow::api
