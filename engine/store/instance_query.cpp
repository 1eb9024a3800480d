#include "engine/store/instance_query.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <functional>
#include <limits>
#include <vector>

#include "engine/store/row_codec.hpp"

namespace rmaflow::store {

SQLite::Statement select_instances(SQLite::Database& db, const InstanceFilter& filter) {
  std::vector<std::string> conditions;
  std::vector<std::function<void(SQLite::Statement&, int)>> binders;
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
  if (!filter.parent_id.empty()) add("parent_id = ?", filter.parent_id);
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
  if (!filter.after_id.empty()) add("id > ?", filter.after_id);

  std::string sql = fmt::format("SELECT {} FROM instances", kInstanceColumns);
  if (!conditions.empty()) sql += fmt::format(" WHERE {}", fmt::join(conditions, " AND "));
  sql += " ORDER BY id LIMIT ?";

  SQLite::Statement statement(db, sql);
  int index = 1;
  for (const auto& bind : binders) bind(statement, index++);
  // SQLite reads a negative LIMIT as "no limit"; a limit past int64 means the same.
  constexpr auto kMaxLimit = static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
  statement.bind(
      index, filter.limit > kMaxLimit ? std::int64_t{-1} : static_cast<std::int64_t>(filter.limit));
  return statement;
}

}  // namespace rmaflow::store

namespace rmaflow {

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
