#include "engine/store/instance_query.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <functional>
#include <limits>
#include <vector>

#include "engine/store/row_codec.hpp"

namespace rmaflow::store {

namespace {

using Binders = std::vector<std::function<void(SQLite::Statement&, int)>>;

// An estimate is exact up to this many matching rows; past it a condition counts as dense.
constexpr int kDenseRows = 2000;

struct AttributeGroup {
  std::string name;
  std::vector<const AttributeCondition*> tests;
  bool equality = false;
  int matches = 0;  // rows of the index it selects, counted up to kDenseRows
};

// " AND value op ? AND typeof(value) ..." for each test of a group, over `column`. The
// operator is one of a fixed set (parse_attribute_condition); a number compares with stored
// numbers only, text with stored text only.
std::string tests_sql(const AttributeGroup& g, const std::string& column) {
  std::string out;
  for (const auto* c : g.tests) {
    const std::string& op = c->op;
    bool known = op == "=" || op == ">=" || op == ">" || op == "<=" || op == "<";
    out += fmt::format(" AND {0} {1} ? AND typeof({0}) {2}", column, known ? op : "=",
                       c->value.is_number() ? "IN ('integer', 'real')" : "= 'text'");
  }
  return out;
}

void bind_group(const AttributeGroup& g, Binders& binders) {
  binders.emplace_back([name = g.name](SQLite::Statement& s, int at) { s.bind(at, name); });
  for (const auto* c : g.tests) {
    binders.emplace_back(
        [value = c->value](SQLite::Statement& s, int at) { bind_attribute_value(s, at, value); });
  }
}

std::vector<AttributeGroup> group_attributes(StatementCache& statements,
                                             const std::vector<AttributeCondition>& all) {
  std::vector<AttributeGroup> groups;
  for (const auto& condition : all) {
    auto same = std::find_if(groups.begin(), groups.end(),
                             [&](const auto& g) { return g.name == condition.name; });
    if (same == groups.end()) {
      AttributeGroup group;
      group.name = condition.name;
      same = groups.insert(groups.end(), std::move(group));
    }
    same->tests.push_back(&condition);
    same->equality = same->equality || condition.op == "=";
  }
  // How many index entries each selects, counted no further than kDenseRows: one short walk of
  // the index on (name, value) each.
  for (auto& g : groups) {
    auto count = statements.get(
        fmt::format("SELECT count(*) FROM (SELECT 1 FROM instance_attributes WHERE name = "
                    "?{} LIMIT {})",
                    tests_sql(g, "value"), kDenseRows));
    Binders binders;
    bind_group(g, binders);
    int index = 1;
    for (const auto& bind : binders) bind(*count, index++);
    count->executeStep();
    g.matches = count->getColumn(0).getInt();
  }
  std::stable_sort(groups.begin(), groups.end(),
                   [](const auto& a, const auto& b) { return a.matches < b.matches; });
  return groups;
}

}  // namespace

StatementCache::Use select_instances(StatementCache& statements, const InstanceFilter& filter) {
  check_attribute_count(filter.attributes);
  std::vector<std::string> conditions;
  Binders binders;
  // Search attributes, planned here rather than left to SQLite, which cannot tell a selective
  // condition from a dense one: the most selective group drives. An equality walks the index
  // on (name, value, instance_id), which yields its instances in id order, so the page ends
  // after its first matches however many there are; a selective range gives its few ids at
  // once; when every group is dense, instances are read in id order and each group probed.
  // The other groups are probes of the instance's own rows.
  auto groups = group_attributes(statements, filter.attributes);
  std::string from = "instances";
  std::string order = "id";
  std::size_t probes = 0;
  if (!groups.empty() && groups.front().matches < kDenseRows && !groups.front().equality) {
    conditions.push_back(
        fmt::format("id IN (SELECT instance_id FROM instance_attributes WHERE name = ?{})",
                    tests_sql(groups.front(), "value")));
    bind_group(groups.front(), binders);
    probes = 1;
  } else if (!groups.empty() && groups.front().equality &&
             (groups.front().matches < kDenseRows || groups.size() == 1)) {
    from = "instance_attributes AS a JOIN instances ON instances.id = a.instance_id";
    order = "a.instance_id";
    conditions.push_back("a.name = ?" + tests_sql(groups.front(), "a.value"));
    bind_group(groups.front(), binders);
    probes = 1;
  }
  for (std::size_t i = probes; i < groups.size(); ++i) {
    conditions.push_back(
        fmt::format("EXISTS (SELECT 1 FROM instance_attributes WHERE "
                    "instance_id = instances.id AND name = ?{})",
                    tests_sql(groups[i], "value")));
    bind_group(groups[i], binders);
  }
  auto add = [&](std::string condition, auto value) {
    conditions.push_back(std::move(condition));
    binders.emplace_back([value](SQLite::Statement& s, int i) { s.bind(i, value); });
  };

  if (!filter.statuses.empty()) {
    std::string placeholders;
    for (std::size_t i = 0; i < filter.statuses.size(); ++i) placeholders += i ? ", ?" : "?";
    conditions.push_back(fmt::format("status IN ({})", placeholders));
    for (InstanceStatus status : filter.statuses) {
      binders.emplace_back(
          [status](SQLite::Statement& s, int i) { s.bind(i, static_cast<int>(status)); });
    }
  }
  if (!filter.workflow.empty()) add("workflow = ?", filter.workflow);
  if (filter.version) add("version = ?", *filter.version);
  // Any cursor: the main line, or a branch of a fan-out step.
  if (!filter.step.empty()) {
    add("EXISTS (SELECT 1 FROM json_each(instances.cursors) AS c"
        " WHERE json_extract(c.value, '$.step') = ?)",
        filter.step);
  }
  // The literal `parent_id <> ''` lets SQLite use the partial index instances_parent; without
  // it, finding an instance's children (every GET of an instance) read every instance.
  if (!filter.parent_id.empty()) add("parent_id = ? AND parent_id <> ''", filter.parent_id);
  if (filter.with_incident) {
    conditions.push_back(
        "EXISTS (SELECT 1 FROM json_each(instances.cursors) AS c"
        " WHERE json_extract(c.value, '$.incident') IS NOT NULL)");
  }
  if (filter.paused)
    conditions.push_back(*filter.paused ? "paused_at IS NOT NULL" : "paused_at IS NULL");
  if (!filter.business_key.empty()) add("business_key = ?", filter.business_key);
  if (filter.created_from) add("created_at >= ?", to_millis(*filter.created_from));
  if (filter.created_before) add("created_at < ?", to_millis(*filter.created_before));
  if (filter.deadline_before) add("deadline <= ?", to_millis(*filter.deadline_before));
  if (!filter.after_id.empty()) add(order + " > ?", filter.after_id);

  std::string sql = fmt::format("SELECT {} FROM {}", sqlite_instance_columns(), from);
  if (!conditions.empty()) sql += fmt::format(" WHERE {}", fmt::join(conditions, " AND "));
  sql += fmt::format(" ORDER BY {} LIMIT ?", order);

  auto statement = statements.get(sql);
  int index = 1;
  for (const auto& bind : binders) bind(*statement, index++);
  // SQLite reads a negative LIMIT as "no limit"; a limit past int64 means the same.
  constexpr auto kMaxLimit = static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
  statement->bind(
      index, filter.limit > kMaxLimit ? std::int64_t{-1} : static_cast<std::int64_t>(filter.limit));
  return statement;
}

}  // namespace rmaflow::store

namespace rmaflow {

void check_attribute_count(const std::vector<AttributeCondition>& conditions) {
  if (conditions.size() <= kMaxAttributeConditions) return;
  throw Error(Errc::invalid_argument,
              fmt::format("a filter takes at most {} conditions on search attributes, and this "
                          "one has {}",
                          kMaxAttributeConditions, conditions.size()));
}

AttributeCondition parse_attribute_condition(std::string_view text) {
  auto at = text.find_first_of("<>=");
  if (at == std::string_view::npos || at == 0) {
    throw Error(Errc::invalid_argument,
                fmt::format("\"{}\" is not an attribute condition such as customer_id=C-105 or "
                            "value>=500",
                            text));
  }
  AttributeCondition out;
  out.name = std::string(text.substr(0, at));
  std::size_t length = 1;
  if (text[at] != '=' && at + 1 < text.size() && text[at + 1] == '=') length = 2;
  out.op = std::string(text.substr(at, length));
  std::string value(text.substr(at + length));
  for (char ch : out.name) {
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_')) {
      throw Error(
          Errc::invalid_argument,
          fmt::format("\"{}\" is not an attribute name (they match [a-z][a-z0-9_]*)", out.name));
    }
  }
  if (value.empty()) {
    throw Error(Errc::invalid_argument,
                fmt::format("the condition on {} has no value after {}", out.name, out.op));
  }
  auto parsed = nlohmann::json::parse(value, nullptr, false);
  // A number or a JSON string as written; anything else (true, words, times) is text.
  out.value = parsed.is_number() || parsed.is_string() ? parsed : nlohmann::json(value);
  // An integer past int64 (which both stores bind as one) compares as the double it is near.
  if (out.value.is_number_unsigned() &&
      out.value.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)) {
    out.value = out.value.get<double>();
  }
  if (out.value.is_string() && out.value.get<std::string>().size() > kMaxAttributeBytes) {
    throw Error(Errc::invalid_argument,
                fmt::format("the value compared with {} is longer than {} bytes", out.name,
                            kMaxAttributeBytes));
  }
  return out;
}

void for_each_instance(Store& store, InstanceFilter filter,
                       const std::function<bool(InstanceRow& row)>& visit) {
  filter.limit = 1000;
  for (;;) {
    auto page = store.list_instances(filter);
    for (auto& row : page)
      if (!visit(row)) return;
    if (page.size() < filter.limit) return;
    filter.after_id = page.back().id;
  }
}

}  // namespace rmaflow
