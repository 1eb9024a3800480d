// rmaflow list / show / history: read-only views, from a database (--db; the engine may be
// running) or from a running server (--server).
#include <fmt/format.h>

#include "engine/api/instance_page.hpp"
#include "engine/api/views.hpp"
#include "engine/cli/api_client.hpp"
#include "engine/cli/cli_support.hpp"
#include "engine/cli/commands.hpp"
#include "engine/cli/endpoint.hpp"
#include "engine/cli/event_text.hpp"
#include "engine/cli/instance_view.hpp"
#include "rmaflow/clock.hpp"

namespace rmaflow::cli {

namespace {

struct QueryOptions {
  Endpoint endpoint;
  std::string format = "text";
  std::vector<std::string> statuses;
  std::string workflow;
  std::string step;
  std::string business_key;
  std::string after;
  std::size_t limit = 100;
  std::string id;
  bool stuck = false;
  bool paused = false;
  std::string team;  // the stuck queue's incidents routed to this team
  std::vector<std::string> attributes;  // conditions on search attributes: value>=500
  std::optional<std::size_t> width;  // history: default the terminal's
};

// A page of instances, as the API answers it: {items, next_cursor}.
nlohmann::json list_offline(const QueryOptions& opt) {
  InstanceFilter filter;
  for (const auto& s : opt.statuses) {
    auto status = parse_instance_status(s);
    if (!status) {
      throw Error(Errc::invalid_argument,
                  fmt::format("unknown status \"{}\" (running, waiting, suspended, compensating, "
                              "completed, rejected, expired, cancelled, failed, compensated)",
                              s));
    }
    filter.statuses.push_back(*status);
  }
  filter.workflow = opt.workflow;
  filter.step = opt.step;
  filter.business_key = opt.business_key;
  if (opt.paused) filter.paused = true;
  filter.after_id = opt.after;
  for (const auto& condition : opt.attributes) {
    filter.attributes.push_back(parse_attribute_condition(condition));
  }
  auto store = open_for_queries(opt.endpoint.db);
  std::optional<api::StuckFilter> which;
  if (opt.stuck || !opt.team.empty()) which = api::StuckFilter{opt.team};
  return api::instance_page(*store, std::move(filter), opt.limit, which, system_clock()->now());
}

nlohmann::json list_online(const QueryOptions& opt) {
  std::string statuses;
  for (const auto& s : opt.statuses) statuses += (statuses.empty() ? "" : ",") + s;
  ApiClient client(opt.endpoint);
  std::map<std::string, std::string> params = {{"status", statuses},
                                               {"workflow", opt.workflow},
                                               {"step", opt.step},
                                               {"business_key", opt.business_key},
                                               {"cursor", opt.after},
                                               {"limit", std::to_string(opt.limit)},
                                               {"stuck", opt.stuck ? "true" : ""},
                                               {"paused", opt.paused ? "true" : ""},
                                               {"team", opt.team}};
  // As the API takes them: attr.NAME=VALUE, or attr.NAME=>=VALUE for a range.
  for (const auto& text : opt.attributes) {
    auto condition = parse_attribute_condition(text);
    auto at = text.find(condition.op, condition.name.size());
    auto& param = params["attr." + condition.name];
    param += (param.empty() ? "" : ",") + (condition.op == "=" ? "" : condition.op) +
             text.substr(at + condition.op.size());
  }
  return client.get("/v1/instances", params).body;
}

int list(QueryOptions& opt) {
  resolve(opt.endpoint);
  if ((opt.stuck || !opt.team.empty()) && !opt.statuses.empty()) {
    throw Error(Errc::invalid_argument,
                fmt::format("{} and --status do not go together", opt.stuck ? "--stuck" : "--team"));
  }
  auto page = opt.endpoint.offline() ? list_offline(opt) : list_online(opt);
  const auto& items = page["items"];
  if (opt.format == "json") {
    fmt::print("{}\n", page.dump(2));  // {items, next_cursor}, as the API answers
    return kExitOk;
  }
  bool stuck = opt.stuck || !opt.team.empty();
  fmt::print("{}", instances_table(items, stuck, system_clock()->now()));
  if (stuck) fmt::print("{} stuck instance(s)\n", items.size());
  if (page["next_cursor"].is_string()) {
    fmt::print("(first {}; next page: --after {})\n", items.size(),
               page["next_cursor"].get<std::string>());
  }
  return kExitOk;
}

nlohmann::json fetch_instance(const QueryOptions& opt) {
  if (!opt.endpoint.offline()) {
    return ApiClient(opt.endpoint).get("/v1/instances/" + ApiClient::encode(opt.id)).body;
  }
  auto store = open_for_queries(opt.endpoint.db);
  auto row = store->get_instance(opt.id);
  if (!row) {
    throw Error(Errc::not_found, fmt::format("no instance {} in {}", opt.id, opt.endpoint.db));
  }
  return api::instance_detail(*store, *row);
}

int show(QueryOptions& opt) {
  resolve(opt.endpoint);
  auto instance = fetch_instance(opt);
  fmt::print("{}", opt.format == "json" ? instance.dump(2) + "\n" : instance_details(instance));
  return kExitOk;
}

int history(QueryOptions& opt) {
  resolve(opt.endpoint);
  nlohmann::json events;
  if (opt.endpoint.offline()) {
    fetch_instance(opt);  // says so when there is no such instance
    auto store = open_for_queries(opt.endpoint.db);
    events = nlohmann::json::array();
    for (const auto& e : store->history(opt.id)) events.push_back(api::event_json(e));
  } else {
    events = ApiClient(opt.endpoint)
                 .get("/v1/instances/" + ApiClient::encode(opt.id) + "/history")
                 .body["events"];
  }
  fmt::print("{}", opt.format == "json" ? events.dump(2) + "\n"
                                        : history_table(events, opt.width ? *opt.width
                                                                          : terminal_width()));
  return kExitOk;
}

CLI::App* add_common(CLI::App& app, const std::string& name, const std::string& help,
                     const std::shared_ptr<QueryOptions>& opt) {
  auto* cmd = app.add_subcommand(name, help);
  add_endpoint_options(cmd, opt->endpoint, "Database: a SQLite file or a postgresql:// URI (read directly; the engine may run)");
  cmd->add_option("--format", opt->format, "Output: text (default) or json")
      ->check(CLI::IsMember({"text", "json"}));
  return cmd;
}

}  // namespace

void register_queries(CLI::App& app, int& exit_code) {
  auto list_opt = std::make_shared<QueryOptions>();
  auto* l = add_common(app, "list", "List instances, oldest first", list_opt);
  l->add_option("--status", list_opt->statuses,
                "Only these statuses (comma list, or repeat the option)")
      ->delimiter(',');
  l->add_option("--workflow", list_opt->workflow, "Only this workflow");
  l->add_option("--step", list_opt->step, "Only instances at this step");
  l->add_option("--business-key", list_opt->business_key, "Only this business key");
  l->add_flag("--stuck", list_opt->stuck,
              "Only instances that need a person: suspended, waiting past their deadline, or "
              "past their SLA; with every reason and since when");
  l->add_option("--team", list_opt->team,
                "Only stuck instances with an incident routed to this team (the workflow's "
                "incidents: routes); implies --stuck");
  l->add_flag("--paused", list_opt->paused, "Only instances an operator has paused");
  l->add_option("--attr", list_opt->attributes,
                "Only instances whose search attribute holds this (customer_id=C-105, "
                "value>=500, returned_at<2026-06-01); repeat for more, all must hold");
  l->add_option("--after", list_opt->after, "Page after this instance id (the cursor)");
  l->add_option("--limit", list_opt->limit,
                fmt::format("At most this many (default 100, at most {}, as through a server)",
                            api::kMaxPage))
      ->check(CLI::Range(std::size_t{1}, api::kMaxPage));
  l->callback([list_opt, &exit_code] { exit_code = list(*list_opt); });

  auto show_opt = std::make_shared<QueryOptions>();
  auto* s = add_common(app, "show", "Show one instance: status, step, incident, context", show_opt);
  s->add_option("id", show_opt->id, "Instance id")->required();
  s->callback([show_opt, &exit_code] { exit_code = show(*show_opt); });

  auto hist_opt = std::make_shared<QueryOptions>();
  auto* h = add_common(app, "history", "Show an instance's event history", hist_opt);
  h->add_option("id", hist_opt->id, "Instance id")->required();
  h->add_option("--width", hist_opt->width,
                "Cut each line to this many characters (default: the terminal's width; 0: "
                "never cut)");
  h->callback([hist_opt, &exit_code] { exit_code = history(*hist_opt); });
}

}  // namespace rmaflow::cli
