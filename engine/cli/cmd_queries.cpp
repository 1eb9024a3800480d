// rmaflow list / show / history: read-only views of a database (the engine may be running).
#include <fmt/format.h>

#include "engine/cli/cli_support.hpp"
#include "engine/cli/commands.hpp"
#include "engine/cli/instance_view.hpp"
#include "engine/cli/stuck.hpp"
#include "engine/cli/table.hpp"
#include "rmaflow/clock.hpp"

namespace rmaflow::cli {

namespace {

struct QueryOptions {
  std::string db;
  std::string format = "text";
  std::vector<std::string> statuses;
  std::string workflow;
  std::string step;
  std::string business_key;
  std::string after;
  std::size_t limit = 100;
  std::string id;
  bool stuck = false;
};

int list_stuck(const QueryOptions& opt, InstanceFilter filter) {
  auto store = open_for_queries(opt.db);
  filter.limit = opt.limit + 1;  // one more than shown tells whether a next page exists
  auto stuck = find_stuck(*store, std::move(filter), system_clock()->now());
  bool more = stuck.size() > opt.limit;
  if (more) stuck.resize(opt.limit);
  if (opt.format == "json") {
    auto out = nlohmann::json::array();
    for (const auto& s : stuck) {
      auto j = instance_json(s.row, false);
      j["reason"] = s.reason;
      out.push_back(std::move(j));
    }
    fmt::print("{}\n", out.dump(2));
    return kExitOk;
  }
  Table table({"ID", "WORKFLOW", "KEY", "STATUS", "STEP", "REASON"});
  for (const auto& s : stuck) {
    table.add({s.row.id, fmt::format("{}@{}", s.row.workflow, s.row.version),
               s.row.business_key.empty() ? "-" : s.row.business_key,
               std::string(to_string(s.row.status)), s.row.step, s.reason});
  }
  fmt::print("{}", table.render());
  fmt::print("{} stuck instance(s)\n", stuck.size());
  if (more) fmt::print("(first {}; next page: --after {})\n", stuck.size(), stuck.back().row.id);
  return kExitOk;
}

InstanceRow must_get(Store& store, const QueryOptions& opt) {
  auto row = store.get_instance(opt.id);
  if (!row) throw Error(Errc::not_found, fmt::format("no instance {} in {}", opt.id, opt.db));
  return *row;
}

int list(const QueryOptions& opt) {
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
  filter.after_id = opt.after;
  if (opt.stuck) {
    if (!opt.statuses.empty()) {
      throw Error(Errc::invalid_argument, "--stuck and --status do not go together");
    }
    return list_stuck(opt, std::move(filter));
  }
  filter.limit = opt.limit + 1;  // one more than shown tells whether a next page exists
  auto store = open_for_queries(opt.db);
  auto rows = store->list_instances(filter);
  bool more = rows.size() > opt.limit;
  if (more) rows.resize(opt.limit);
  if (opt.format == "json") {
    fmt::print("{}\n", instances_json(rows).dump(2));
  } else {
    fmt::print("{}", instances_table(rows));
    if (more) {
      fmt::print("(first {}; next page: --after {})\n", rows.size(), rows.back().id);
    }
  }
  return kExitOk;
}

int show(const QueryOptions& opt) {
  auto store = open_for_queries(opt.db);
  auto row = must_get(*store, opt);
  if (opt.format == "json") {
    fmt::print("{}\n", instance_json(row, true).dump(2));
  } else {
    fmt::print("{}", instance_details(row));
  }
  return kExitOk;
}

int history(const QueryOptions& opt) {
  auto store = open_for_queries(opt.db);
  must_get(*store, opt);
  auto events = store->history(opt.id);
  if (opt.format == "json") {
    auto out = nlohmann::json::array();
    for (const auto& e : events) out.push_back(event_json(e));
    fmt::print("{}\n", out.dump(2));
  } else {
    fmt::print("{}", history_table(events));
  }
  return kExitOk;
}

CLI::App* add_common(CLI::App& app, const std::string& name, const std::string& help,
                     const std::shared_ptr<QueryOptions>& opt) {
  auto* cmd = app.add_subcommand(name, help);
  cmd->add_option("--db", opt->db, "Database file")->required();
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
              "past their SLA; with the reason");
  l->add_option("--after", list_opt->after, "Page after this instance id");
  l->add_option("--limit", list_opt->limit, "At most this many (default 100)")
      ->check(CLI::Range(1, 10000));
  l->callback([list_opt, &exit_code] { exit_code = list(*list_opt); });

  auto show_opt = std::make_shared<QueryOptions>();
  auto* s = add_common(app, "show", "Show one instance: status, step, incident, context", show_opt);
  s->add_option("id", show_opt->id, "Instance id")->required();
  s->callback([show_opt, &exit_code] { exit_code = show(*show_opt); });

  auto hist_opt = std::make_shared<QueryOptions>();
  auto* h = add_common(app, "history", "Show an instance's event history", hist_opt);
  h->add_option("id", hist_opt->id, "Instance id")->required();
  h->callback([hist_opt, &exit_code] { exit_code = history(*hist_opt); });
}

}  // namespace rmaflow::cli
