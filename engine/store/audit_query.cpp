#include "engine/store/audit_query.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <variant>
#include <vector>

#include "engine/store/row_codec.hpp"

namespace rmaflow::store {

StatementCache::Use select_audit_trail(StatementCache& statements, const AuditFilter& filter) {
  // The type is written into the SQL, not bound: SQLite uses a partial index only when the
  // query's own WHERE implies the index's.
  std::vector<std::string> conditions = {
      fmt::format("type = {}", static_cast<int>(EventType::operator_action))};
  std::vector<std::variant<std::int64_t, std::string>> values;  // the ?s, in order
  auto millis = [](TimePoint t) { return static_cast<std::int64_t>(to_millis(t)); };
  if (!filter.actor.empty()) {
    conditions.emplace_back("json_extract(data, '$.actor') = ?");
    values.emplace_back(filter.actor);
  }
  if (!filter.action.empty()) {
    conditions.emplace_back("json_extract(data, '$.action') = ?");
    values.emplace_back(filter.action);
  }
  if (!filter.instance_id.empty()) {
    conditions.emplace_back("instance_id = ?");
    values.emplace_back(filter.instance_id);
  }
  if (filter.from) {
    conditions.emplace_back("at >= ?");
    values.emplace_back(millis(*filter.from));
  }
  if (filter.before) {
    conditions.emplace_back("at < ?");
    values.emplace_back(millis(*filter.before));
  }
  if (const auto& cursor = filter.older_than) {
    conditions.emplace_back("(at, instance_id, seq) < (?, ?, ?)");
    values.emplace_back(millis(cursor->at));
    values.emplace_back(cursor->instance_id);
    values.emplace_back(cursor->seq);
  }
  auto sql = fmt::format(
      "SELECT {} FROM events WHERE {} ORDER BY at DESC, instance_id DESC, seq "
      "DESC LIMIT ?",
      kEventColumns, fmt::join(conditions, " AND "));
  values.emplace_back(static_cast<std::int64_t>(std::min<std::size_t>(filter.limit, 100000)));
  auto statement = statements.get(sql);
  int index = 1;
  for (const auto& value : values) {
    std::visit([&](const auto& v) { statement->bind(index++, v); }, value);
  }
  return statement;
}

}  // namespace rmaflow::store
