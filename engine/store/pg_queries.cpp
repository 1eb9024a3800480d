#include "engine/store/pg_queries.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <limits>
#include <vector>

#include "engine/store/pg_rows.hpp"

namespace rmaflow::store {

namespace {

// A WHERE clause and its parameters, numbered as they are added.
class Conditions {
 public:
  // `condition` with each {} replaced by the next parameter's $N, taking `values` in order.
  template <class... Values>
  void add(std::string_view condition, const Values&... values) {
    (params_.add(values), ...);
    add_numbered(condition, sizeof...(values));
  }
  // As add(), for a value pg_add_attribute_value gives (three parameters: its kind, number
  // and text); the condition reads the number as {number} and the text as {text}.
  void add_attribute(const AttributeCondition& condition);

  std::string where() const {
    return conditions_.empty() ? "" : fmt::format(" WHERE {}", fmt::join(conditions_, " AND "));
  }
  PgParams& params() { return params_; }

 private:
  void add_numbered(std::string_view condition, std::size_t count) {
    std::string out;
    std::size_t next = params_.size() - count + 1;
    for (std::size_t i = 0; i < condition.size(); ++i) {
      if (condition.substr(i, 2) == "{}") {
        out += fmt::format("${}", next++);
        ++i;
      } else {
        out += condition[i];
      }
    }
    conditions_.push_back(std::move(out));
  }

  std::vector<std::string> conditions_;
  PgParams params_;
};

// A number compares with stored numbers only, text with stored text only (the columns hold
// one or the other), as in SQLite. The operator is one of a fixed set
// (parse_attribute_condition), never a value.
void Conditions::add_attribute(const AttributeCondition& c) {
  const std::string& op = c.op;
  bool known = op == "=" || op == ">=" || op == ">" || op == "<=" || op == "<";
  params_.add(c.name);
  std::size_t name = params_.size();
  std::string test;
  if (c.value.is_number()) {
    params_.add(c.value.is_number_integer() ? std::to_string(c.value.get<std::int64_t>())
                                            : fmt::format("{}", c.value.get<double>()));
    test = fmt::format("a.number_value {} ${}::numeric", known ? op : "=", params_.size());
  } else {
    params_.add(c.value.is_string() ? c.value.get<std::string>() : c.value.dump());
    test = fmt::format("a.text_value {} ${}::text", known ? op : "=", params_.size());
  }
  conditions_.push_back(
      fmt::format("EXISTS (SELECT 1 FROM instance_attributes AS a WHERE a.instance_id = "
                  "instances.id AND a.name = ${} AND {})",
                  name, test));
}

}  // namespace

void pg_add_limit(PgParams& params, std::size_t limit) {
  constexpr auto kMax = static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
  if (limit > kMax) {
    params.add_null();
  } else {
    params.add(static_cast<std::int64_t>(limit));
  }
}

PgQuery pg_select_instances(const InstanceFilter& filter) {
  Conditions where;
  for (const auto& condition : filter.attributes) where.add_attribute(condition);
  if (!filter.statuses.empty()) {
    std::vector<int> statuses;
    for (InstanceStatus status : filter.statuses) statuses.push_back(static_cast<int>(status));
    where.add("status = ANY({}::integer[])", fmt::format("{{{}}}", fmt::join(statuses, ",")));
  }
  if (!filter.workflow.empty()) where.add("workflow = {}", filter.workflow);
  if (filter.version) where.add("version = {}::integer", *filter.version);
  // Any cursor: the main line, or a branch of a fan-out step.
  if (!filter.step.empty()) {
    where.add(
        "EXISTS (SELECT 1 FROM jsonb_array_elements(instances.cursors::jsonb) AS c(value)"
        " WHERE c.value ->> 'step' = {})",
        filter.step);
  }
  // The literal lets the planner use the partial index instances_parent for any parameter.
  if (!filter.parent_id.empty()) where.add("parent_id = {} AND parent_id <> ''", filter.parent_id);
  if (filter.with_incident) {
    where.add(
        "EXISTS (SELECT 1 FROM jsonb_array_elements(instances.cursors::jsonb) AS c(value)"
        " WHERE jsonb_typeof(c.value -> 'incident') = 'object')");
  }
  if (filter.paused) where.add(*filter.paused ? "paused_at IS NOT NULL" : "paused_at IS NULL");
  if (!filter.business_key.empty()) where.add("business_key = {}", filter.business_key);
  if (filter.created_from) where.add("created_at >= {}::bigint", *filter.created_from);
  if (filter.created_before) where.add("created_at < {}::bigint", *filter.created_before);
  if (filter.deadline_before) where.add("deadline <= {}::bigint", *filter.deadline_before);
  if (!filter.after_id.empty()) where.add("id > {}", filter.after_id);

  PgQuery query;
  query.sql = fmt::format("SELECT {} FROM instances{} ORDER BY id LIMIT ${}", kInstanceColumns,
                          where.where(), where.params().size() + 1);
  pg_add_limit(where.params(), filter.limit);
  query.params = std::move(where.params());
  return query;
}

PgQuery pg_select_audit_trail(const AuditFilter& filter) {
  Conditions where;
  // The type is written into the SQL, not bound: the planner uses the partial index only when
  // the query's own WHERE implies the index's.
  where.add(fmt::format("type = {}", static_cast<int>(EventType::operator_action)));
  if (!filter.actor.empty()) where.add("data::jsonb ->> 'actor' = {}", filter.actor);
  if (!filter.action.empty()) where.add("data::jsonb ->> 'action' = {}", filter.action);
  if (!filter.instance_id.empty()) where.add("instance_id = {}", filter.instance_id);
  if (filter.from) where.add("at >= {}::bigint", *filter.from);
  if (filter.before) where.add("at < {}::bigint", *filter.before);
  if (const auto& cursor = filter.older_than) {
    where.add("(at, instance_id, seq) < ({}::bigint, {}, {}::bigint)", cursor->at,
              cursor->instance_id, cursor->seq);
  }
  PgQuery query;
  query.sql =
      fmt::format("SELECT {} FROM events{} ORDER BY at DESC, instance_id DESC, seq DESC LIMIT {}",
                  kEventColumns, where.where(), std::min<std::size_t>(filter.limit, 100000));
  query.params = std::move(where.params());
  return query;
}

}  // namespace rmaflow::store
