// Queries: business keys, list filters, keyset pagination, active instances, history order,
// tallies for the overview, the audit trail.
#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "engine/store/instance_query.hpp"
#include "engine/store/statement_cache.hpp"
#include "tests/store/store_rows.hpp"
#include "tests/support/process.hpp"

using namespace rmaflow;
using rmaflow::testing::ids_of;
using rmaflow::testing::TempDir;

namespace {

using Ids = std::vector<std::string>;

// The ids list_instances() returns for a default filter changed by `set`.
template <class Set>
Ids listed(Store& s, Set set) {
  InstanceFilter filter;
  set(filter);
  return ids_of(s.list_instances(filter));
}

}  // namespace

TEST_CASE("Store.BusinessKey.LookupAndUniqueness") {
  TempDir dir;
  auto s = open_sqlite_store(dir.file("keys.db"));
  WriteBatch batch;
  batch.instances = {testing::instance_row("i-1"), testing::instance_row("i-2"),
                     testing::instance_row("i-3"), testing::instance_row("i-4")};
  batch.instances[0].business_key = "RMA-1";
  batch.instances[1].business_key = "RMA-1";
  batch.instances[1].workflow = "exchange";  // same key, other workflow: allowed
  // i-3 and i-4 have no key: many keyless instances are allowed.
  s->commit(batch);

  CHECK(s->find_by_business_key("returns", "RMA-1")->id == "i-1");
  CHECK(s->find_by_business_key("exchange", "RMA-1")->id == "i-2");
  CHECK_FALSE(s->find_by_business_key("returns", "RMA-2").has_value());
  CHECK_FALSE(s->find_by_business_key("returns", "").has_value());

  WriteBatch clash;
  clash.instances = {testing::instance_row("i-5")};
  clash.instances[0].business_key = "RMA-1";
  CHECK_THROWS_AS(s->commit(clash), Error);
  CHECK_FALSE(s->get_instance("i-5").has_value());

  // Re-committing the same instance with its own key is an update, not a clash.
  WriteBatch same;
  same.instances = {*s->get_instance("i-1")};
  s->commit(same);
}

TEST_CASE("Store.List.Filters") {
  TempDir dir;
  auto s = open_sqlite_store(dir.file("list.db"));
  WriteBatch batch;
  for (int i = 0; i < 6; ++i)
    batch.instances.push_back(testing::instance_row("i-" + std::to_string(i)));
  batch.instances[1].status = InstanceStatus::suspended;
  batch.instances[2].status = InstanceStatus::completed;
  batch.instances[3].workflow = "exchange";
  batch.instances[4].version = 2;
  batch.instances[4].step = "inspect";
  batch.instances[4].cursors.front().step = "inspect";
  batch.instances[5].business_key = "RMA-5";
  batch.instances[5].status = InstanceStatus::compensating;
  s->commit(batch);

  CHECK(listed(*s, [](auto&) {}) == Ids{"i-0", "i-1", "i-2", "i-3", "i-4", "i-5"});
  CHECK(listed(*s, [](auto& f) { f.statuses = {InstanceStatus::suspended}; }) == Ids{"i-1"});
  CHECK(listed(*s, [](auto& f) {
          f.statuses = {InstanceStatus::completed, InstanceStatus::suspended};
        }) == Ids{"i-1", "i-2"});
  CHECK(listed(*s, [](auto& f) { f.workflow = "exchange"; }) == Ids{"i-3"});
  CHECK(listed(*s, [](auto& f) { f.version = 2; }) == Ids{"i-4"});
  CHECK(listed(*s, [](auto& f) { f.step = "inspect"; }) == Ids{"i-4"});
  CHECK(listed(*s, [](auto& f) { f.business_key = "RMA-5"; }) == Ids{"i-5"});
  CHECK(listed(*s, [](auto& f) {
          f.workflow = "returns";
          f.version = 1;
          f.step = "authorize";
        }) == Ids{"i-0", "i-1", "i-2", "i-5"});
  CHECK(listed(*s, [](auto& f) {
          f.after_id = "i-3";
          f.limit = 1;
        }) == Ids{"i-4"});
  CHECK(listed(*s, [](auto& f) { f.limit = 0; }).empty());

  CHECK(ids_of(s->active_instances()) == Ids{"i-0", "i-3", "i-4", "i-5"});
}

TEST_CASE("Store.List.KeysetPaginationWhileWriting") {
  TempDir dir;
  auto s = open_sqlite_store(dir.file("pages.db"));
  WriteBatch batch;
  for (int i = 0; i < 95; ++i) {
    char id[16];
    std::snprintf(id, sizeof id, "id-%03d", i * 2);  // even ids now, odd ones later
    batch.instances.push_back(testing::instance_row(id));
  }
  s->commit(batch);

  std::vector<std::string> seen;
  InstanceFilter filter;
  filter.limit = 10;
  int page = 0;
  for (;;) {
    auto rows = s->list_instances(filter);
    if (rows.empty()) break;
    CHECK(rows.size() <= 10);
    for (const auto& row : rows) seen.push_back(row.id);
    filter.after_id = rows.back().id;
    if (++page == 3) {
      // Rows behind the cursor and updates of rows ahead must not cause gaps or repeats.
      WriteBatch more;
      more.instances = {testing::instance_row("id-001"), testing::instance_row("id-189"),
                        testing::instance_row("id-100")};
      more.instances[2].status = InstanceStatus::waiting;
      s->commit(more);
    }
  }
  std::set<std::string> unique(seen.begin(), seen.end());
  CHECK(unique.size() == seen.size());
  CHECK(std::is_sorted(seen.begin(), seen.end()));
  CHECK(seen.size() == 96);  // the 95 even ids and id-189, which was ahead of the cursor
  CHECK(unique.count("id-001") == 0);
  CHECK(unique.count("id-189") == 1);
}

TEST_CASE("Store.History.OrderedBySeq") {
  TempDir dir;
  auto s = open_sqlite_store(dir.file("history.db"));
  WriteBatch batch;
  batch.instances = {testing::instance_row("i-1"), testing::instance_row("i-2")};
  for (int seq : {3, 1, 2}) batch.events.push_back(testing::event_row("i-1", seq));
  batch.events.push_back(testing::event_row("i-2", 1));
  s->commit(batch);

  auto history = s->history("i-1");
  REQUIRE(history.size() == 3);
  for (std::size_t i = 0; i < history.size(); ++i) {
    CHECK(history[i].seq == static_cast<std::int64_t>(i + 1));
    CHECK(history[i].instance_id == "i-1");
  }
}

TEST_CASE("Store.Query.CountUnfinishedByVersionStepAndStatus") {
  TempDir dir;
  auto s = open_sqlite_store(dir.file("counts.db"));
  WriteBatch batch;
  auto add = [&](const std::string& id, const std::string& workflow, int version,
                 const std::string& step, InstanceStatus status) {
    auto row = testing::instance_row(id);
    row.workflow = workflow;
    row.version = version;
    row.step = step;
    row.cursors.front().step = step;
    row.status = status;
    batch.instances.push_back(row);
  };
  add("i-1", "returns", 1, "await", InstanceStatus::waiting);
  add("i-2", "returns", 1, "await", InstanceStatus::waiting);
  add("i-3", "returns", 1, "await", InstanceStatus::suspended);
  add("i-4", "returns", 1, "done", InstanceStatus::completed);  // finished: not counted
  add("i-5", "returns", 2, "authorize", InstanceStatus::running);
  add("i-6", "exchange", 1, "ship", InstanceStatus::compensating);
  s->commit(batch);

  auto returns = s->count_unfinished("returns");
  REQUIRE(returns.size() == 3);
  CHECK(returns[0].version == 1);
  CHECK(returns[0].step == "await");
  CHECK(returns[0].status == InstanceStatus::waiting);
  CHECK(returns[0].count == 2);
  CHECK(returns[1].status == InstanceStatus::suspended);
  CHECK(returns[1].count == 1);
  CHECK(returns[2].version == 2);
  CHECK(returns[2].step == "authorize");
  auto all = s->count_unfinished("");
  REQUIRE(all.size() == 4);
  CHECK(all[0].workflow == "exchange");
  CHECK(all[0].status == InstanceStatus::compensating);
  CHECK(s->count_unfinished("unknown").empty());
}

TEST_CASE("Store.List.CreatedRange") {
  TempDir dir;
  auto s = open_sqlite_store(dir.file("range.db"));
  WriteBatch batch;
  for (int i = 0; i < 4; ++i) {
    batch.instances.push_back(testing::instance_row("i-" + std::to_string(i), 1000 * (i + 1)));
  }
  s->commit(batch);
  CHECK(listed(*s, [](auto& f) { f.created_from = from_millis(2000); }) ==
        Ids{"i-1", "i-2", "i-3"});
  CHECK(listed(*s, [](auto& f) { f.created_before = from_millis(3000); }) == Ids{"i-0", "i-1"});
  CHECK(listed(*s, [](auto& f) {
          f.created_from = from_millis(2000);
          f.created_before = from_millis(4000);
        }) == Ids{"i-1", "i-2"});
}

TEST_CASE("Store.Count.ByStatus") {
  TempDir dir;
  auto s = open_sqlite_store(dir.file("count.db"));
  CHECK(s->count_by_status().empty());
  WriteBatch batch;
  for (int i = 0; i < 5; ++i)
    batch.instances.push_back(testing::instance_row("i-" + std::to_string(i)));
  batch.instances[0].status = InstanceStatus::suspended;
  batch.instances[1].status = InstanceStatus::completed;
  batch.instances[2].status = InstanceStatus::completed;
  s->commit(batch);
  auto counts = s->count_by_status();
  CHECK(counts.size() == 3);
  CHECK(counts[InstanceStatus::running] == 2);
  CHECK(counts[InstanceStatus::suspended] == 1);
  CHECK(counts[InstanceStatus::completed] == 2);
}

// A branch stands at a step of its own: lists by step find the instance, counts count it.
TEST_CASE("Store.Query.Issue13.BranchesCountWhereTheyStand") {
  TempDir dir;
  auto s = open_sqlite_store(dir.file("branches.db"));
  WriteBatch batch;
  auto row = testing::instance_row("i-1");
  row.status = InstanceStatus::waiting;
  row.step = "lines";
  row.cursors.front().step = "lines";
  row.cursors.front().phase = Phase::joining;
  for (const char* line : {"L1", "L2"}) {
    Cursor branch;
    branch.branch = std::string("lines[") + line + "]";
    branch.step = "await_line";
    branch.phase = Phase::waiting;
    row.cursors.push_back(branch);
  }
  batch.instances.push_back(row);
  batch.instances.push_back(testing::instance_row("i-2"));
  s->commit(batch);

  CHECK(listed(*s, [](auto& f) { f.step = "await_line"; }) == Ids{"i-1"});
  CHECK(listed(*s, [](auto& f) { f.step = "lines"; }) == Ids{"i-1"});
  auto counts = s->count_unfinished("returns");
  std::map<std::string, std::int64_t> at;
  for (const auto& c : counts) at[c.step] += c.count;
  CHECK(at["await_line"] == 2);
  CHECK(at["lines"] == 1);
  CHECK(at["authorize"] == 1);
}

TEST_CASE("Store.Tally.ByWorkflowStatusAndInterval") {
  TempDir dir;
  auto s = open_sqlite_store(dir.file("tally.db"));
  const std::int64_t since = 1'700'000'000'000;
  const std::int64_t hour = 3'600'000;
  WriteBatch batch;
  auto add = [&](const std::string& id, const std::string& workflow, InstanceStatus status,
                 std::int64_t created, std::optional<std::int64_t> ended) {
    auto row = testing::instance_row(id, created);
    row.workflow = workflow;
    row.status = status;
    if (ended) row.ended_at = from_millis(*ended);
    batch.instances.push_back(row);
  };
  add("i-1", "returns", InstanceStatus::completed, since - 5 * hour, since + 2 * hour + 1);
  add("i-2", "returns", InstanceStatus::completed, since + 1, since + 2 * hour + 10);
  add("i-3", "returns", InstanceStatus::waiting, since + hour, std::nullopt);
  add("i-4", "exchange", InstanceStatus::rejected, since - 2 * hour, since - hour);  // before the window
  s->commit(batch);

  auto tallies = s->tally_instances(from_millis(since), Duration(hour));
  auto count = [&](const std::string& workflow, InstanceStatus status, int started, int ended) {
    for (const auto& t : tallies) {
      if (t.workflow == workflow && t.status == status && t.started_bucket == started &&
          t.ended_bucket == ended)
        return t.count;
    }
    return std::int64_t{0};
  };
  CHECK(tallies.size() == 4);
  CHECK(count("returns", InstanceStatus::completed, -1, 2) == 1);  // started before, ended in hour 2
  CHECK(count("returns", InstanceStatus::completed, 0, 2) == 1);
  CHECK(count("returns", InstanceStatus::waiting, 1, -1) == 1);
  CHECK(count("exchange", InstanceStatus::rejected, -1, -1) == 1);
  CHECK_THROWS_AS(s->tally_instances(from_millis(since), Duration(0)), Error);
}

TEST_CASE("Store.Audit.OperatorActionsNewestFirstFilteredAndPaged") {
  TempDir dir;
  const auto path = dir.file("audit.db");
  auto s = open_sqlite_store(path);
  WriteBatch batch;
  // Three instances; each has a start, an operator action or two, in time order.
  auto event = [&](const std::string& id, std::int64_t seq, EventType type, std::int64_t at,
                   nlohmann::json data) {
    EventRow e;
    e.instance_id = id;
    e.seq = seq;
    e.type = type;
    e.step = "authorize";
    e.at = from_millis(at);
    e.data = data.dump();
    batch.events.push_back(e);
  };
  for (const char* id : {"i-1", "i-2", "i-3"}) {
    batch.instances.push_back(testing::instance_row(id));
    event(id, 1, EventType::instance_started, 100, nlohmann::json::object());
  }
  auto action = [](const char* what, const char* who) {
    return nlohmann::json{{"action", what}, {"actor", who}, {"reason", "because"}};
  };
  event("i-1", 2, EventType::operator_action, 200, action("retry", "ana"));
  event("i-2", 2, EventType::operator_action, 300, action("patch", "ben"));
  event("i-2", 3, EventType::step_entered, 300, nlohmann::json::object());  // not an action
  event("i-2", 4, EventType::operator_action, 300, action("retry", "ana"));  // same ms as seq 2
  event("i-3", 2, EventType::operator_action, 400, action("cancel", "ana"));
  s->commit(batch);

  auto keys = [](const std::vector<EventRow>& events) {
    std::vector<std::string> out;
    for (const auto& e : events) out.push_back(e.instance_id + "#" + std::to_string(e.seq));
    return out;
  };
  using Keys = std::vector<std::string>;
  AuditFilter all;
  CHECK(keys(s->audit_trail(all)) == Keys{"i-3#2", "i-2#4", "i-2#2", "i-1#2"});
  AuditFilter ana;
  ana.actor = "ana";
  CHECK(keys(s->audit_trail(ana)) == Keys{"i-3#2", "i-2#4", "i-1#2"});
  AuditFilter retries;
  retries.action = "retry";
  retries.instance_id = "i-2";
  CHECK(keys(s->audit_trail(retries)) == Keys{"i-2#4"});
  AuditFilter window;
  window.from = from_millis(300);
  window.before = from_millis(400);
  CHECK(keys(s->audit_trail(window)) == Keys{"i-2#4", "i-2#2"});

  // Pages of two: the cursor is the last entry's position; nothing repeats or goes missing,
  // even between entries of the same millisecond.
  AuditFilter page;
  page.limit = 2;
  auto first = s->audit_trail(page);
  CHECK(keys(first) == Keys{"i-3#2", "i-2#4"});
  page.older_than = AuditCursor{first.back().at, first.back().instance_id, first.back().seq};
  CHECK(keys(s->audit_trail(page)) == Keys{"i-2#2", "i-1#2"});

  // Read through the partial index, newest first, without sorting.
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  SQLite::Statement plan(db, "EXPLAIN QUERY PLAN SELECT * FROM events WHERE type = 30 AND "
                             "(at, instance_id, seq) < (1, 'x', 1) ORDER BY at DESC, "
                             "instance_id DESC, seq DESC LIMIT 10");
  std::string text;
  while (plan.executeStep()) text += plan.getColumn(3).getString() + "\n";
  CHECK_MESSAGE(text.find("events_operator_actions") != std::string::npos, text);
  CHECK_MESSAGE(text.find("TEMP B-TREE") == std::string::npos, text);
}

TEST_CASE("Store.List.DeadlineBefore") {
  TempDir dir;
  auto s = open_sqlite_store(dir.file("deadline.db"));
  WriteBatch batch;
  for (int i = 0; i < 3; ++i) {
    auto row = testing::instance_row("i-" + std::to_string(i));
    row.deadline = from_millis(1000 * (i + 1));
    batch.instances.push_back(row);
  }
  batch.instances.push_back(testing::instance_row("i-none"));
  batch.instances.back().deadline.reset();  // no deadline: never selected
  s->commit(batch);
  CHECK(listed(*s, [](auto& f) { f.deadline_before = from_millis(2000); }) == Ids{"i-0", "i-1"});
  CHECK(listed(*s, [](auto& f) { f.deadline_before = from_millis(999); }).empty());
}

// Every GET of an instance lists its children: through the partial index on parent_id, not by
// reading every instance (the index needs the literal parent_id <> '' in the query).
TEST_CASE("Store.List.Issue19.ChildrenAreFoundThroughTheParentIndex") {
  TempDir dir;
  const auto path = dir.file("children.db");
  auto s = open_sqlite_store(path);
  WriteBatch batch;
  for (const char* id : {"p-1", "c-1", "c-2", "other"})
    batch.instances.push_back(testing::instance_row(id));
  for (int i : {1, 2})
    batch.instances[i].parent = ParentRef{.instance_id = "p-1", .step = "split", .branch = ""};
  s->commit(batch);
  CHECK(listed(*s, [](auto& f) { f.parent_id = "p-1"; }) == Ids{"c-1", "c-2"});
  CHECK(listed(*s, [](auto& f) { f.parent_id = "c-1"; }).empty());

  SQLite::Database db(path, SQLite::OPEN_READONLY);
  InstanceFilter filter;
  filter.parent_id = "p-1";
  filter.limit = 50;
  store::StatementCache statements(db);
  auto query = store::select_instances(statements, filter);
  SQLite::Statement plan(db, "EXPLAIN QUERY PLAN " + query->getQuery());
  std::string text;
  while (plan.executeStep()) text += plan.getColumn(3).getString() + "\n";
  CHECK_MESSAGE(text.find("instances_parent") != std::string::npos, text);
  CHECK_MESSAGE(text.find("SCAN instances") == std::string::npos, text);
}

// A connection's reads keep their statements prepared (StatementCache): a read that stopped
// after its first row must not leave its snapshot open, or every later read on the connection
// would see the database as it was then.
TEST_CASE("Store.Reads.SeeEveryLaterCommit") {
  TempDir dir;
  const auto path = dir.file("snapshots.db");
  auto writer = open_sqlite_store(path);
  WriteBatch batch;
  batch.instances = {testing::instance_row("i-1"), testing::instance_row("i-2")};
  writer->commit(batch);
  auto reader = open_sqlite_store(path, testing::read_only_option());

  for (int round = 0; round < 3; ++round) {
    REQUIRE(reader->get_instance("i-1"));  // one row of a statement that could yield more
    CHECK(listed(*reader, [](auto& f) { f.limit = 1; }) == Ids{"i-1"});  // stops after one
    WriteBatch change;
    change.instances = {testing::instance_row("i-2")};
    change.instances[0].status = InstanceStatus::failed;
    change.instances[0].updated_at = from_millis(1'700'000'000'000 + round + 1);
    change.instances.push_back(testing::instance_row(fmt::format("n-{}", round)));
    writer->commit(change);

    CHECK(reader->get_instance(fmt::format("n-{}", round)));
    CHECK(listed(*reader, [](auto& f) { f.statuses = {InstanceStatus::failed}; }) == Ids{"i-2"});
    CHECK(reader->get_instance("i-2")->updated_at == from_millis(1'700'000'000'000 + round + 1));
    CHECK(ids_of(reader->list_instances({})).size() == static_cast<std::size_t>(3 + round));
  }
}

TEST_CASE("Store.StatementCache.PreparesEachStatementOnce") {
  TempDir dir;
  const auto path = dir.file("cache.db");
  open_sqlite_store(path);  // the schema
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  store::StatementCache cache(db, /*capacity=*/2);

  const std::string one = "SELECT count(*) FROM instances WHERE status = ?";
  const SQLite::Statement* first = nullptr;
  {
    auto use = cache.get(one);
    first = &*use;
    use->bind(1, 1);
    REQUIRE(use->executeStep());
    CHECK(use->getColumn(0).getInt() == 0);
  }
  {
    auto again = cache.get(one);  // the same statement, reset and without bindings
    CHECK(&*again == first);
    REQUIRE(again->executeStep());
    CHECK(again->getColumn(0).getInt() == 0);
    // The same SQL inside a use of it: a statement of its own, not kept.
    auto inner = cache.get(one);
    CHECK(&*inner != first);
    inner->bind(1, 1);
    REQUIRE(inner->executeStep());
    CHECK(cache.size() == 1);
  }

  // Past its capacity the cache drops the statements not in use, never one in use.
  auto held = cache.get(one);
  cache.get("SELECT 2").operator*().executeStep();
  auto third = cache.get("SELECT 3");
  CHECK(cache.size() == 2);
  CHECK(&*held == first);
  REQUIRE(third->executeStep());
  CHECK(third->getColumn(0).getInt() == 3);

  // SQL that does not prepare throws, and leaves the cache as it was.
  CHECK_THROWS_AS(cache.get("SELECT FROM nowhere"), SQLite::Exception);
  CHECK(cache.size() == 2);
}
