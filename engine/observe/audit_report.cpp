#include "engine/observe/audit_report.hpp"

#include <algorithm>
#include <map>
#include <tuple>
#include <utility>

namespace rmaflow::observe {

namespace {

bool in_period(TimePoint at, const AuditQuery& q) {
  return (!q.from || at >= *q.from) && (!q.before || at < *q.before);
}

std::string text_of(const nlohmann::json& value) {
  if (value.is_null()) return {};
  return value.is_string() ? value.get<std::string>() : value.dump();
}

nlohmann::json parsed(const EventRow& e) {
  auto data = nlohmann::json::parse(e.data, nullptr, false);
  return data.is_object() ? data : nlohmann::json::object();
}

bool wants_operator_actions(const AuditQuery& q) { return q.customer.empty(); }
bool wants_postings(const AuditQuery& q) { return q.actor.empty() && q.kind != "operator"; }

bool kind_matches(const AuditLine& line, const AuditQuery& q) {
  if (q.kind.empty() || (q.kind == "operator" && !line.posting)) return true;
  return line.kind == q.kind;
}

// The postings and operator actions of one history, in its order.
void read_history(const InstanceRow& row, const std::vector<EventRow>& history,
                  const AuditQuery& q, std::vector<AuditLine>& out) {
  // The posting each (step, branch) recorded last: what its compensation reverses.
  std::map<std::pair<std::string, std::string>, AuditLine> posted;
  auto line_for = [&](const EventRow& e) {
    AuditLine line;
    line.at = e.at;
    line.instance_id = row.id;
    line.business_key = row.business_key;
    line.workflow = row.workflow;
    line.step = e.step;
    line.branch = e.branch;
    return line;
  };
  for (const auto& e : history) {
    if (e.type == EventType::operator_action && wants_operator_actions(q)) {
      auto data = parsed(e);
      auto line = line_for(e);
      line.kind = text_of(data.value("action", nlohmann::json()));
      line.actor = text_of(data.value("actor", nlohmann::json()));
      line.details = {{"reason", data.value("reason", nlohmann::json(""))},
                      {"args", data.value("args", nlohmann::json::object())}};
      bool actor_matches = q.actor.empty() || line.actor == q.actor;
      if (actor_matches && kind_matches(line, q) && in_period(e.at, q)) out.push_back(std::move(line));
    } else if (e.type == EventType::step_completed && wants_postings(q) &&
               e.data.find("\"posting\"") != std::string::npos) {
      auto data = parsed(e);
      auto posting = data.value("posting", nlohmann::json::object());
      if (!posting.is_object()) continue;
      auto line = line_for(e);
      line.posting = true;
      line.actor = "workflow";
      line.kind = text_of(posting.value("kind", nlohmann::json()));
      line.customer = text_of(posting.value("customer", nlohmann::json()));
      posting.erase("kind");
      posting.erase("customer");
      line.details = std::move(posting);
      posted[{e.step, e.branch}] = line;
      bool customer_matches = q.customer.empty() || line.customer == q.customer;
      if (customer_matches && kind_matches(line, q) && in_period(e.at, q)) out.push_back(std::move(line));
    } else if (e.type == EventType::compensation_step_completed && wants_postings(q)) {
      auto original = posted.find({e.step, e.branch});
      if (original == posted.end()) continue;
      AuditLine line = original->second;
      line.at = e.at;
      line.reversal = true;
      posted.erase(original);
      bool customer_matches = q.customer.empty() || line.customer == q.customer;
      if (customer_matches && kind_matches(line, q) && in_period(e.at, q)) out.push_back(std::move(line));
    }
  }
}

}  // namespace

AuditListing audit_listing(Store& store, const AuditQuery& query) {
  AuditListing listing;
  InstanceFilter filter;
  filter.workflow = query.workflow;
  filter.created_before = query.before;  // an instance started later did nothing in the period
  for_each_instance(store, filter, [&](InstanceRow& row) {
    ++listing.instances;
    read_history(row, store.history(row.id), query, listing.lines);
    return true;
  });
  std::stable_sort(listing.lines.begin(), listing.lines.end(),
                   [](const AuditLine& a, const AuditLine& b) {
                     return std::tie(a.at, a.instance_id) < std::tie(b.at, b.instance_id);
                   });
  return listing;
}

nlohmann::json to_json(const AuditLine& line) {
  return {{"at", format_time(line.at)},
          {"instance", line.instance_id},
          {"business_key", line.business_key},
          {"workflow", line.workflow},
          {"step", line.step},
          {"branch", line.branch},
          {"type", line.posting ? "posting" : "operator_action"},
          {"kind", line.kind},
          {"reversal", line.reversal},
          {"actor", line.actor},
          {"customer", line.customer},
          {"details", line.details}};
}

}  // namespace rmaflow::observe
