// rmaflow report sla: how long instances took to reach their workflows' business milestones
// (return-to-credit time), as percentiles by workflow, milestone and a start-input attribute,
// with the instances breaching a milestone's SLA. rmaflow audit: the operator actions and the
// financial postings and stock movements across instances, for an auditor. Both read a
// database's histories.
#include <fmt/format.h>

#include "engine/cli/cli_support.hpp"
#include "engine/cli/commands.hpp"
#include "engine/cli/table.hpp"
#include "engine/observe/audit_report.hpp"
#include "engine/observe/sla_report.hpp"
#include "rmaflow/clock.hpp"

namespace rmaflow::cli {

namespace {

struct ReportOptions {
  std::string db;
  std::string from;
  std::string to;
  std::string workflow;
  std::string by;
  std::string now;
  std::string format = "text";
};

TimePoint time_option(const char* option, const std::string& text) {
  auto t = parse_time(text);
  if (!t) {
    throw Error(Errc::invalid_argument,
                fmt::format("{} must be a time such as 2025-06-02T00:00:00Z, not \"{}\"", option, text));
  }
  return *t;
}

// "8d 2h", "5h 07m", "12m 30s", "850ms": two units are enough to compare.
std::string human(Duration d) {
  auto ms = d.count();
  constexpr std::int64_t kSecond = 1000, kMinute = 60 * kSecond, kHour = 60 * kMinute, kDay = 24 * kHour;
  if (ms >= kDay) return fmt::format("{}d {}h", ms / kDay, ms % kDay / kHour);
  if (ms >= kHour) return fmt::format("{}h {:02}m", ms / kHour, ms % kHour / kMinute);
  if (ms >= kMinute) return fmt::format("{}m {:02}s", ms / kMinute, ms % kMinute / kSecond);
  if (ms >= kSecond) return fmt::format("{}.{:03}s", ms / kSecond, ms % kSecond);
  return fmt::format("{}ms", ms);
}

std::string text_report(const observe::SlaReport& report, const ReportOptions& opt) {
  if (report.rows.empty()) {
    return fmt::format("{} instances in the period; none of their workflows declares milestones\n",
                       report.instances);
  }
  Table table({"WORKFLOW", "MILESTONE", opt.by.empty() ? "ALL" : fmt::format("{}", opt.by),
               "STARTED", "REACHED", "P50", "P90", "P95", "P99", "MAX", "SLA", "BREACHING"});
  for (const auto& r : report.rows) {
    bool any = r.reached > 0;
    table.add({r.workflow, r.milestone, r.group, std::to_string(r.started), std::to_string(r.reached),
               any ? human(r.p50) : "-", any ? human(r.p90) : "-", any ? human(r.p95) : "-",
               any ? human(r.p99) : "-", any ? human(r.max) : "-",
               r.sla ? format_duration(*r.sla) : "-", std::to_string(r.breaching)});
  }
  std::string out = table.render();
  if (report.breaches.empty()) return out + "\nNo instance breaches a milestone's SLA.\n";
  Table breaches({"INSTANCE", "BUSINESS KEY", "WORKFLOW", "MILESTONE", "TOOK", "SLA", "STATUS"});
  for (const auto& b : report.breaches) {
    breaches.add({b.instance_id, b.business_key.empty() ? "-" : b.business_key, b.workflow,
                  b.milestone, b.took ? human(*b.took) : "not reached", format_duration(b.sla),
                  b.status});
  }
  return out + fmt::format("\nBreaching the SLA ({}):\n", report.breaches.size()) + breaches.render();
}

int report_sla(const ReportOptions& opt) {
  observe::SlaQuery query;
  if (!opt.from.empty()) query.from = time_option("--from", opt.from);
  if (!opt.to.empty()) query.before = time_option("--to", opt.to);
  query.workflow = opt.workflow;
  query.by = opt.by;
  query.now = opt.now.empty() ? system_clock()->now() : time_option("--now", opt.now);
  auto store = open_for_queries(opt.db);
  auto report = observe::sla_report(*store, query);
  fmt::print("{}", opt.format == "json" ? observe::to_json(report).dump(2) + "\n"
                                        : text_report(report, opt));
  return kExitOk;
}

struct AuditOptions {
  std::string db;
  std::string from;
  std::string to;
  std::string actor;
  std::string customer;
  std::string kind;
  std::string workflow;
  std::string format = "text";
};

// One line of the details column: a posting's fields (reference, amount, ...) or an operator
// action's reason.
std::string details_text(const observe::AuditLine& line) {
  if (!line.posting) {
    auto reason = line.details.value("reason", nlohmann::json(""));
    return reason.is_string() ? reason.get<std::string>() : reason.dump();
  }
  std::string out;
  for (const auto& [key, value] : line.details.items()) {
    if (!out.empty()) out += " ";
    out += key + "=" + (value.is_string() ? value.get<std::string>() : value.dump());
  }
  return out;
}

std::string kind_text(const observe::AuditLine& line) {
  if (!line.posting) return "action:" + line.kind;
  return line.reversal ? line.kind + " (reversed)" : line.kind;
}

// RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled. A text that a
// spreadsheet would take for a formula (=, +, -, @, tab or carriage return first; a negative
// number is left alone) is prefixed with ' so that it is shown, not run: business keys and
// reasons come from outside.
std::string csv_field(const std::string& text) {
  std::string value = text;
  bool formula = !value.empty() && (value[0] == '=' || value[0] == '+' || value[0] == '@' ||
                                    value[0] == '\t' || value[0] == '\r' ||
                                    (value[0] == '-' && value.find_first_not_of("-0123456789.") != std::string::npos));
  if (formula) value.insert(0, "'");
  if (value.find_first_of(",\"\r\n") == std::string::npos) return value;
  std::string quoted = "\"";
  for (char ch : value) quoted += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return quoted + "\"";
}

std::string csv_listing(const observe::AuditListing& listing) {
  std::string out = "at,type,kind,reversal,instance,business_key,workflow,step,branch,actor,customer,details\r\n";
  for (const auto& line : listing.lines) {
    std::vector<std::string> fields = {format_time(line.at), line.posting ? "posting" : "operator_action",
                                       line.kind, line.reversal ? "true" : "false", line.instance_id,
                                       line.business_key, line.workflow, line.step, line.branch,
                                       line.actor, line.customer, line.details.dump()};
    for (std::size_t i = 0; i < fields.size(); ++i) {
      out += (i ? "," : "") + csv_field(fields[i]);
    }
    out += "\r\n";
  }
  return out;
}

std::string text_listing(const observe::AuditListing& listing) {
  if (listing.lines.empty()) {
    return fmt::format("Nothing to list: no operator action or posting matches ({} histories read).\n",
                       listing.instances);
  }
  Table table({"AT", "KIND", "INSTANCE", "BUSINESS KEY", "STEP", "ACTOR", "CUSTOMER", "DETAILS"});
  for (const auto& line : listing.lines) {
    std::string step = line.branch.empty() ? line.step : line.branch + " " + line.step;
    table.add({format_time(line.at), kind_text(line), line.instance_id,
               line.business_key.empty() ? "-" : line.business_key, step, line.actor,
               line.customer.empty() ? "-" : line.customer, details_text(line)});
  }
  return table.render();
}

int audit(const AuditOptions& opt) {
  observe::AuditQuery query;
  if (!opt.from.empty()) query.from = time_option("--from", opt.from);
  if (!opt.to.empty()) query.before = time_option("--to", opt.to);
  query.actor = opt.actor;
  query.customer = opt.customer;
  query.kind = opt.kind;
  query.workflow = opt.workflow;
  if (!query.actor.empty() && !query.customer.empty()) {
    throw Error(Errc::invalid_argument,
                "--actor lists operator actions and --customer lists postings: give one of them");
  }
  auto store = open_for_queries(opt.db);
  auto listing = observe::audit_listing(*store, query);
  if (opt.format == "json") {
    auto lines = nlohmann::json::array();
    for (const auto& line : listing.lines) lines.push_back(observe::to_json(line));
    fmt::print("{}\n", lines.dump(2));
  } else if (opt.format == "csv") {
    fmt::print("{}", csv_listing(listing));
  } else {
    fmt::print("{}", text_listing(listing));
  }
  return kExitOk;
}

}  // namespace

void register_audit(CLI::App& app, int& exit_code) {
  auto opt = std::make_shared<AuditOptions>();
  auto* audit_cmd = app.add_subcommand(
      "audit", "Operator actions and the financial postings and stock movements the workflows "
               "recorded (credit memos, refunds, restocks), across instances, oldest first");
  audit_cmd->add_option("--db", opt->db, "Database: a SQLite file or a postgresql:// URI (read directly; the engine may run)")->required();
  audit_cmd->add_option("--from", opt->from, "Only what happened at or after this time (UTC)");
  audit_cmd->add_option("--to", opt->to, "Only what happened before this time (UTC)");
  audit_cmd->add_option("--actor", opt->actor, "Only operator actions of this actor");
  audit_cmd->add_option("--customer", opt->customer, "Only postings for this customer");
  audit_cmd->add_option("--kind", opt->kind,
                        "Only this kind: a posting kind (credit_memo, refund, restock, ...), an "
                        "operator action (retry, skip, ...), or operator for every action");
  audit_cmd->add_option("--workflow", opt->workflow, "Only instances of this workflow");
  audit_cmd->add_option("--format", opt->format, "Output: text (default), json or csv")
      ->check(CLI::IsMember({"text", "json", "csv"}));
  audit_cmd->callback([opt, &exit_code] { exit_code = audit(*opt); });
}

void register_report(CLI::App& app, int& exit_code) {
  auto* report = app.add_subcommand("report", "Business reports from a database");
  report->require_subcommand(1);
  auto opt = std::make_shared<ReportOptions>();
  auto* sla = report->add_subcommand(
      "sla", "Time from start to each business milestone (e.g. return-to-credit), as "
             "percentiles by workflow and milestone, with the instances breaching its SLA");
  sla->add_option("--db", opt->db, "Database: a SQLite file or a postgresql:// URI (read directly; the engine may run)")->required();
  sla->add_option("--from", opt->from, "Only instances started at or after this time (UTC)");
  sla->add_option("--to", opt->to, "Only instances started before this time (UTC)");
  sla->add_option("--workflow", opt->workflow, "Only this workflow");
  sla->add_option("--by", opt->by,
                  "Group by this field of the start input, e.g. channel (default: no grouping)");
  sla->add_option("--now", opt->now,
                  "Judge unfinished instances at this time (default: now; for virtual-time runs)");
  sla->add_option("--format", opt->format, "Output: text (default) or json")
      ->check(CLI::IsMember({"text", "json"}));
  sla->callback([opt, &exit_code] { exit_code = report_sla(*opt); });
}

}  // namespace rmaflow::cli
