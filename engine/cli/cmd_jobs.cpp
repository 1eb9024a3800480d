// rmaflow job start / list / show / cancel: bulk jobs on a running server (POST /v1/jobs and
// the rest). A job applies one action (retry, skip, cancel, resolve, pause, resume) or a signal
// to every instance a filter matches, at a bounded rate, in the engine; it outlives the command
// and a restart of the server. --dry-run lists what it would touch and stores nothing.
#include <fmt/format.h>

#include "engine/cli/api_client.hpp"
#include "engine/cli/cli_support.hpp"
#include "engine/cli/commands.hpp"
#include "engine/cli/endpoint.hpp"
#include "engine/cli/table.hpp"
#include "engine/support/strict_json.hpp"
#include "rmaflow/engine.hpp"

namespace rmaflow::cli {

namespace {

struct JobOptions {
  Endpoint endpoint;
  std::string action;
  std::string id;
  std::string reason;
  std::vector<std::string> statuses;
  std::string workflow;
  int version = 0;
  std::string step;
  std::string business_key;
  std::vector<std::string> attributes;
  bool incident = false;
  bool compensate = false;
  std::string signal;
  std::string data;  // JSON
  double per_second = 10;
  bool dry_run = false;
  bool items = false;
  bool refused = false;
  std::string format = "text";
};

std::string progress_of(const nlohmann::json& job) {
  return fmt::format("{} {}: {} applied, {} refused", job.value("state", "?"),
                     job.value("action", "?"), job.value("applied", 0), job.value("refused", 0));
}

nlohmann::json job_body(const JobOptions& opt) {
  nlohmann::json filter = nlohmann::json::object();
  if (!opt.statuses.empty()) filter["status"] = opt.statuses;
  if (!opt.workflow.empty()) filter["workflow"] = opt.workflow;
  if (opt.version > 0) filter["version"] = opt.version;
  if (!opt.step.empty()) filter["step"] = opt.step;
  if (!opt.business_key.empty()) filter["business_key"] = opt.business_key;
  if (opt.incident) filter["incident"] = true;
  if (!opt.attributes.empty()) filter["attributes"] = opt.attributes;
  nlohmann::json args = nlohmann::json::object();
  if (opt.compensate) args["compensate"] = true;
  if (!opt.signal.empty()) {
    args["name"] = opt.signal;
    if (!opt.data.empty()) {
      args["payload"] = parse_strict_json(opt.data, "--data");
    }
  }
  nlohmann::json body = {
      {"action", opt.action}, {"filter", filter}, {"args", args}, {"per_second", opt.per_second}};
  if (opt.dry_run) {
    body["dry_run"] = true;
    body["limit"] = 1000;
  } else {
    body["reason"] = opt.reason;
  }
  return body;
}

int start_job(JobOptions& opt) {
  resolve(opt.endpoint, false);
  if (!opt.dry_run && opt.reason.empty()) {
    throw Error(Errc::invalid_argument, "a job needs --reason: it is recorded for each instance");
  }
  if (opt.action == "signal" && opt.signal.empty()) {
    throw Error(Errc::invalid_argument, "a signal job needs --signal NAME");
  }
  ApiClient client(opt.endpoint);
  auto answer = client.post("/v1/jobs", job_body(opt));
  if (opt.format == "json") {
    fmt::print("{}\n", answer.body.dump(2));
    return kExitOk;
  }
  if (opt.dry_run) {
    Table table({"ID", "WORKFLOW", "BUSINESS KEY", "STATUS", "STEP"});
    for (const auto& i : answer.body["instances"]) {
      table.add({i.value("id", ""), i.value("workflow", ""), i.value("business_key", ""),
                 i.value("status", ""), i.value("step", "")});
    }
    fmt::print("{}", table.render());
    auto count = answer.body["instances"].size();
    fmt::print("{} {} would touch {} instance(s){}; nothing was changed\n", opt.action,
               answer.body["filter"].dump(), count,
               answer.body["next_cursor"].is_null() ? "" : " or more (the first 1000 shown)");
    return kExitOk;
  }
  fmt::print("job {} started: {} at most {} a second (rmaflow job show {})\n",
             answer.body.value("id", ""), opt.action, opt.per_second, answer.body.value("id", ""));
  return kExitOk;
}

int list_jobs(JobOptions& opt) {
  resolve(opt.endpoint, false);
  ApiClient client(opt.endpoint);
  auto answer = client.get("/v1/jobs");
  if (opt.format == "json") {
    fmt::print("{}\n", answer.body.dump(2));
    return kExitOk;
  }
  Table table({"ID", "ACTION", "STATE", "APPLIED", "REFUSED", "ACTOR", "CREATED", "REASON"});
  for (const auto& j : answer.body["jobs"]) {
    table.add({j.value("id", ""), j.value("action", ""), j.value("state", ""),
               std::to_string(j.value("applied", 0)), std::to_string(j.value("refused", 0)),
               j.value("actor", ""), j.value("created_at", ""), j.value("reason", "")});
  }
  fmt::print("{}", table.render());
  return kExitOk;
}

int show_job(JobOptions& opt) {
  resolve(opt.endpoint, false);
  ApiClient client(opt.endpoint);
  auto path = "/v1/jobs/" + ApiClient::encode(opt.id);
  auto job = client.get(path).body;
  nlohmann::json items;
  if (opt.items || opt.refused) {
    std::map<std::string, std::string> query = {{"limit", "1000"}};
    if (opt.refused) query["outcome"] = "refused";
    items = client.get(path + "/items", query).body["items"];
  }
  if (opt.format == "json") {
    if (!items.is_null()) job["items"] = items;
    fmt::print("{}\n", job.dump(2));
    return kExitOk;
  }
  fmt::print("job {}: {}\n", printable(opt.id), printable(progress_of(job)));
  fmt::print("  by {} at {}: {}\n", printable(job.value("actor", "")), job.value("created_at", ""),
             printable(job.value("reason", "")));
  fmt::print("  filter {}, at most {} a second\n", printable(job["filter"].dump()),
             job.value("per_second", 0.0));
  if (job.value("state", "") == "cancelled") {
    fmt::print("  cancelled by {}: {}\n", printable(job.value("cancelled_by", "")),
               printable(job.value("cancel_reason", "")));
  }
  if (!items.is_null()) {
    Table table({"INSTANCE", "OUTCOME", "AT", "DETAIL"});
    for (const auto& i : items) {
      table.add({i.value("instance_id", ""), i.value("outcome", ""), i.value("at", ""),
                 i.value("detail", "")});
    }
    fmt::print("{}", table.render());
  }
  return kExitOk;
}

int cancel_job(JobOptions& opt) {
  resolve(opt.endpoint, false);
  ApiClient client(opt.endpoint);
  auto job =
      client.post("/v1/jobs/" + ApiClient::encode(opt.id) + "/cancel", {{"reason", opt.reason}})
          .body;
  fmt::print("job {} cancelled: {}\n", printable(opt.id), printable(progress_of(job)));
  return kExitOk;
}

}  // namespace

void register_jobs(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "job",
      "Bulk jobs on a running server: an action or a signal over every instance a filter "
      "matches, at a bounded rate, durably");
  cmd->require_subcommand(1);

  auto s = std::make_shared<JobOptions>();
  auto* start = cmd->add_subcommand("start", "Start a job (--dry-run: list what it would touch)");
  start->add_option("action", s->action, "retry, skip, cancel, resolve, pause, resume or signal")
      ->required()
      ->check(CLI::IsMember(std::vector<std::string>(kJobActions.begin(), kJobActions.end())));
  start->add_option("--reason", s->reason, "Why (recorded on every instance it touches)");
  start
      ->add_option("--status", s->statuses,
                   "Only instances with these statuses (default: "
                   "those the action applies to)")
      ->delimiter(',');
  start->add_option("--workflow", s->workflow, "Only this workflow's instances");
  start->add_option("--version", s->version, "Only this version's")->check(CLI::PositiveNumber);
  start->add_option("--step", s->step, "Only instances at this step");
  start->add_option("--business-key", s->business_key, "Only the instance with this key");
  start->add_option("--attr", s->attributes,
                    "A condition on a search attribute (customer_id=C-105, value>=500); "
                    "repeatable");
  start->add_flag("--incident", s->incident, "Only instances with an open incident");
  start->add_flag("--compensate", s->compensate, "cancel: run their compensations first");
  start->add_option("--signal", s->signal, "signal: the signal's name");
  start->add_option("--data", s->data, "signal: its payload (JSON)");
  start
      ->add_option("--per-second", s->per_second,
                   "At most this many instances a second "
                   "(default 10)")
      ->check(CLI::Range(0.1, 1000.0));
  start->add_flag("--dry-run", s->dry_run, "List what it would touch; store nothing");
  start->add_option("--format", s->format, "Output: text (default) or json")
      ->check(CLI::IsMember({"text", "json"}));
  add_server_options(start, s->endpoint);
  start->callback([s, &exit_code] { exit_code = start_job(*s); });

  auto l = std::make_shared<JobOptions>();
  auto* ls = cmd->add_subcommand("list", "List jobs, newest first");
  ls->add_option("--format", l->format, "Output: text (default) or json")
      ->check(CLI::IsMember({"text", "json"}));
  add_server_options(ls, l->endpoint);
  ls->callback([l, &exit_code] { exit_code = list_jobs(*l); });

  auto w = std::make_shared<JobOptions>();
  auto* show = cmd->add_subcommand("show",
                                   "A job's progress (--items: what it did to each "
                                   "instance)");
  show->add_option("id", w->id, "The job's id")->required();
  show->add_flag("--items", w->items, "Also each instance it dealt with");
  show->add_flag("--refused", w->refused, "Also the instances it was refused for, and why");
  show->add_option("--format", w->format, "Output: text (default) or json")
      ->check(CLI::IsMember({"text", "json"}));
  add_server_options(show, w->endpoint);
  show->callback([w, &exit_code] { exit_code = show_job(*w); });

  auto c = std::make_shared<JobOptions>();
  auto* cancel = cmd->add_subcommand("cancel", "Stop a running job after its current instance");
  cancel->add_option("id", c->id, "The job's id")->required();
  cancel->add_option("--reason", c->reason, "Why (recorded on the job)")->required();
  add_server_options(cancel, c->endpoint);
  cancel->callback([c, &exit_code] { exit_code = cancel_job(*c); });
}

}  // namespace rmaflow::cli
