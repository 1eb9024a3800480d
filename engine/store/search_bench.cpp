#include "engine/store/search_bench.hpp"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <fmt/format.h>

#include "engine/store/connection.hpp"
#include "engine/store/sqlite_error.hpp"

namespace rmaflow {

void fill_search_bench(const std::string& path, std::int64_t instances, std::int64_t customers) {
  using store::guard;
  SQLite::Database db = store::open_connection(path, StoreOptions{SyncMode::normal, false});
  guard(path, "fill", [&] {
    // 2026-01-01T00:00:00Z, in ms; one instance a minute from there.
    constexpr std::int64_t kStart = 1767225600000;
    db.exec("BEGIN");
    SQLite::Statement rows(db, fmt::format(R"sql(
      WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?1)
      INSERT INTO instances (id, workflow, version, status, step, business_key, correlation_id,
                             last_seq, created_at, updated_at, ended_at, cursors)
      SELECT printf('01BENCH%019d', i), 'bench', 1, 10, 'done', printf('RMA-%d', i),
             printf('01BENCH%019d', i), 2, {0} + i * 60000, {0} + i * 60000,
             {0} + i * 60000 + 1000, '[{{"step":"done","phase":7,"label":"completed"}}]'
      FROM n
    )sql",
                                           kStart));
    rows.bind(1, instances);
    rows.exec();
    db.exec("INSERT INTO instance_contexts (instance_id, context) SELECT id, '{}' FROM instances");
    SQLite::Statement attributes(db, fmt::format(R"sql(
      WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?1)
      INSERT INTO instance_attributes (instance_id, name, value)
      SELECT printf('01BENCH%019d', i), 'customer_id', printf('C-%d', i % ?2) FROM n
      UNION ALL
      SELECT printf('01BENCH%019d', i), 'channel',
             CASE i % 4 WHEN 0 THEN 'web' WHEN 1 THEN 'store' WHEN 2 THEN 'marketplace'
                        ELSE 'phone' END FROM n
      UNION ALL
      SELECT printf('01BENCH%019d', i), 'value', ((i * 7919) % 1000000) / 100.0 FROM n
      UNION ALL
      SELECT printf('01BENCH%019d', i), 'returned_at',
             strftime('%Y-%m-%dT%H:%M:%SZ', ({0} + i * 60000) / 1000, 'unixepoch') FROM n
    )sql",
                                                 kStart));
    attributes.bind(1, instances);
    attributes.bind(2, customers);
    attributes.exec();
    db.exec("COMMIT");
    db.exec("ANALYZE");
  });
}

}  // namespace rmaflow
