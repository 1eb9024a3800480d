// The Store contract (rmaflow/store.hpp), run against every backend: a SQLite file and a
// database on a throwaway PostgreSQL 15 cluster, both opened through open_store(). A test
// here states what any store must do; what one backend does on its own belongs in its suite.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>

#include "tests/store/conformance_backends.hpp"
#include "tests/store/store_rows.hpp"

using namespace rmaflow;
using testing::check_same_instance;
using testing::command_row;
using testing::definition_row;
using testing::error_from;
using testing::event_row;
using testing::ids_of;
using testing::instance_row;
using testing::signal_row;
using testing::start_batch;
using testing::timer_row;

namespace {

using Ids = std::vector<std::string>;

Ids listed(Store& s, InstanceFilter filter) {
  return ids_of(s.list_instances(filter));
}

StoreOptions engine_option() {
  StoreOptions options;
  options.engine = true;
  return options;
}

// An instance with a branch standing at "inspect", an incident on the branch, a parent,
// a pause and a saga: every part of a row set.
InstanceRow full_instance(const std::string& id) {
  auto row = instance_row(id);
  row.business_key = "RMA-" + id;
  row.status = InstanceStatus::suspended;
  row.paused_at = from_millis(1'700'000'000'500);
  row.parent = ParentRef{"parent-1", "call_child", "lines[L1]"};
  Cursor branch;
  branch.branch = "inspect[L1]";
  branch.index = 1;
  branch.step = "inspect";
  branch.phase = Phase::idle;
  branch.scope = nlohmann::json{{"line", {{"sku", "S-1"}}}};
  Incident incident;
  incident.step = "inspect";
  incident.error = Failure{"Timeout", "no answer", true};
  incident.attempts = 3;
  incident.opened_at = from_millis(1'700'000'000'400);
  incident.team = "warehouse";
  branch.incident = incident;
  branch.match = "L1";
  row.cursors.push_back(branch);
  row.saga.done.push_back(SagaEntry{"authorize", "", 1, {{"invoice_id", "INV-1"}}, "", "", false});
  row.saga.pivot = true;
  row.visits["inspect[L1]"] = 2;
  return row;
}

EventRow operator_action(const std::string& id, std::int64_t seq, std::int64_t at,
                         const char* action, const char* actor) {
  auto e = event_row(id, seq);
  e.type = EventType::operator_action;
  e.at = from_millis(at);
  e.data = nlohmann::json{{"action", action}, {"actor", actor}, {"reason", "because"}}.dump();
  return e;
}

JobRow job_row(const std::string& id, JobState state) {
  JobRow job;
  job.id = id;
  job.action = "retry";
  job.filter.statuses = {InstanceStatus::suspended};
  job.filter.workflow = "returns";
  job.args = {{"note", "bulk"}};
  job.actor = "ops";
  job.reason = "carrier back";
  job.per_second = 2.5;
  job.state = state;
  job.created_at = from_millis(1000);
  job.updated_at = from_millis(2000);
  if (state != JobState::running) job.ended_at = from_millis(3000);
  job.cursor = "i-2";
  job.dealt = 8;
  job.applied = 7;  // not written: the store counts the items
  job.refused = 1;
  return job;
}

}  // namespace

TEST_CASE_TEMPLATE("Store.Conformance.Definitions", B, RMAFLOW_BACKENDS) {
  B db;
  auto s = open_store(db.location);
  CHECK(s->put_definition(definition_row("returns", 1, "h1")) == PutResult::inserted);
  CHECK(s->put_definition(definition_row("returns", 1, "h1")) == PutResult::unchanged);
  CHECK(error_from([&] { s->put_definition(definition_row("returns", 1, "other")); }).code() ==
        Errc::conflict);
  s->put_definition(definition_row("returns", 2, "h2"));
  s->put_definition(definition_row("Returns", 1, "h3"));  // sorts first, byte by byte
  s->put_definition(definition_row("exchange", 3, "h4"));

  auto got = s->get_definition("returns", 1);
  REQUIRE(got.has_value());
  auto want = definition_row("returns", 1, "h1");
  CHECK(got->content_hash == want.content_hash);
  CHECK(got->source == want.source);
  CHECK(got->input_schema == want.input_schema);
  CHECK(got->file == want.file);
  CHECK(got->deployed_at == want.deployed_at);
  CHECK_FALSE(s->get_definition("returns", 9).has_value());
  REQUIRE(s->latest_definition("returns").has_value());
  CHECK(s->latest_definition("returns")->version == 2);
  CHECK_FALSE(s->latest_definition("nothing").has_value());
  std::vector<std::string> names;
  for (const auto& d : s->list_definitions()) names.push_back(d.name + std::to_string(d.version));
  CHECK(names == std::vector<std::string>{"Returns1", "exchange3", "returns1", "returns2"});
}

TEST_CASE_TEMPLATE("Store.Conformance.CommitRoundTripsEveryField", B, RMAFLOW_BACKENDS) {
  B db;
  auto s = open_store(db.location);
  auto row = full_instance("i-1");
  WriteBatch batch;
  batch.instances.push_back(row);
  for (int seq = 1; seq <= 3; ++seq) batch.events.push_back(event_row("i-1", seq));
  batch.events.back().branch = "inspect[L1]";
  s->commit(batch);

  auto got = s->get_instance("i-1");
  REQUIRE(got.has_value());
  check_same_instance(*got, row);
  auto history = s->history("i-1");
  REQUIRE(history.size() == 3);
  CHECK(history[2].branch == "inspect[L1]");
  CHECK(history[2].data == event_row("i-1", 3).data);
  CHECK(history[2].at == event_row("i-1", 3).at);
  CHECK(history[0].type == EventType::instance_started);

  // Replaced whole: the finished row keeps nothing of the old one.
  auto ended = instance_row("i-1");
  ended.status = InstanceStatus::completed;
  ended.ended_at = from_millis(1'700'000'009'000);
  ended.deadline.reset();
  WriteBatch upsert;
  upsert.instances.push_back(ended);
  s->commit(upsert);
  check_same_instance(*s->get_instance("i-1"), ended);
  CHECK_FALSE(s->get_instance("i-2").has_value());
}

TEST_CASE_TEMPLATE("Store.Conformance.FailedCommitChangesNothing", B, RMAFLOW_BACKENDS) {
  B db;
  auto s = open_store(db.location);
  s->commit(start_batch("i-1", 2));
  auto command = s->add_command(command_row("i-1"));

  // Each batch is sound but for its last part, which fails the whole of it.
  auto sound = [] {
    WriteBatch batch = start_batch("i-2", 2);
    batch.timers_set.push_back(timer_row("i-2", "retry", 5000));
    batch.signals_added.push_back(signal_row("i-2", "approved", "a"));
    batch.attributes.push_back(AttributeUpdate{"i-2", {{"customer", "C-1"}}});
    return batch;
  };
  SUBCASE("consuming an unknown signal") {
    auto batch = sound();
    batch.signals_consumed.push_back(SignalConsumed{"i-2", "key-nope", from_millis(1)});
    CHECK(error_from([&] { s->commit(batch); }).code() == Errc::storage);
  }
  SUBCASE("finishing a command that is not pending") {
    auto batch = sound();
    batch.commands_done.push_back(CommandDone{command + 100, from_millis(1), "applied"});
    CHECK(error_from([&] { s->commit(batch); }).code() == Errc::storage);
  }
  SUBCASE("finishing a command without an outcome") {
    auto batch = sound();
    batch.commands_done.push_back(CommandDone{command, from_millis(1), ""});
    CHECK(error_from([&] { s->commit(batch); }).code() == Errc::storage);
  }
  SUBCASE("a duplicate event") {
    auto batch = sound();
    batch.events.push_back(event_row("i-1", 2));
    CHECK(error_from([&] { s->commit(batch); }).code() == Errc::storage);
  }
  SUBCASE("a signal key added twice") {
    auto batch = sound();
    batch.signals_added.push_back(signal_row("i-2", "approved", "a"));
    CHECK(error_from([&] { s->commit(batch); }).code() == Errc::storage);
  }
  SUBCASE("a business key taken") {
    auto batch = sound();
    auto first = instance_row("i-3");
    first.business_key = "RMA-9";
    auto second = instance_row("i-4");
    second.business_key = "RMA-9";
    batch.instances.push_back(first);
    batch.instances.push_back(second);
    CHECK(error_from([&] { s->commit(batch); }).code() == Errc::storage);
  }
  CHECK_FALSE(s->get_instance("i-2").has_value());
  CHECK(s->history("i-2").empty());
  CHECK(s->due_timers(from_millis(10'000), 10).empty());
  CHECK(s->signals("i-2").empty());
  CHECK(s->attributes("i-2") == nlohmann::json::object());
  CHECK(s->pending_commands(10).size() == 1);
  CHECK(s->history("i-1").size() == 2);
  // The store is usable after the failure.
  s->commit(sound());
  CHECK(s->get_instance("i-2").has_value());
}

TEST_CASE_TEMPLATE("Store.Conformance.EmptyBatchAndBusinessKey", B, RMAFLOW_BACKENDS) {
  B db;
  auto s = open_store(db.location);
  s->commit(WriteBatch{});
  auto row = instance_row("i-1");
  row.business_key = "RMA-1";
  WriteBatch batch;
  batch.instances.push_back(row);
  batch.instances.push_back(instance_row("i-2"));  // no key
  s->commit(batch);
  REQUIRE(s->find_by_business_key("returns", "RMA-1").has_value());
  CHECK(s->find_by_business_key("returns", "RMA-1")->id == "i-1");
  CHECK_FALSE(s->find_by_business_key("exchange", "RMA-1").has_value());
  CHECK_FALSE(s->find_by_business_key("returns", "").has_value());
}

TEST_CASE_TEMPLATE("Store.Conformance.ListFiltersAndPages", B, RMAFLOW_BACKENDS) {
  B db;
  auto s = open_store(db.location);
  WriteBatch batch;
  // Ids sort byte by byte: upper case before lower case.
  for (const char* id : {"i-b", "i-A", "i-a", "i-C"}) batch.instances.push_back(instance_row(id));
  auto& waiting = batch.instances[0];  // i-b: waiting, v2, another step, a key, a child
  waiting.status = InstanceStatus::waiting;
  waiting.version = 2;
  waiting.cursors.front().step = "await_parcel";
  waiting.business_key = "RMA-7";
  waiting.parent = ParentRef{"i-A", "call", ""};
  waiting.created_at = from_millis(2000);
  waiting.deadline = from_millis(9000);
  auto& other = batch.instances[1];  // i-A: another workflow, a branch at inspect, paused
  other.workflow = "exchange";
  other.paused_at = from_millis(50);
  other.created_at = from_millis(1000);
  other.deadline.reset();
  Cursor branch;
  branch.branch = "inspect[L1]";
  branch.step = "inspect";
  other.cursors.push_back(branch);
  auto& broken = batch.instances[2];  // i-a: suspended with an incident on its main line
  broken.status = InstanceStatus::suspended;
  Incident incident;
  incident.step = "authorize";
  incident.error = Failure{"NotEligible", "no", false};
  broken.cursors.front().incident = incident;
  broken.created_at = from_millis(3000);
  broken.deadline = from_millis(4000);
  batch.instances[3].created_at = from_millis(4000);  // i-C: running at authorize
  batch.instances[3].deadline.reset();
  s->commit(batch);

  InstanceFilter all;
  CHECK(listed(*s, all) == Ids{"i-A", "i-C", "i-a", "i-b"});
  InstanceFilter f;
  f.statuses = {InstanceStatus::waiting, InstanceStatus::suspended};
  CHECK(listed(*s, f) == Ids{"i-a", "i-b"});
  f = {};
  f.workflow = "exchange";
  CHECK(listed(*s, f) == Ids{"i-A"});
  f = {};
  f.version = 2;
  CHECK(listed(*s, f) == Ids{"i-b"});
  f = {};
  f.step = "inspect";  // a branch's step
  CHECK(listed(*s, f) == Ids{"i-A"});
  f.step = "authorize";
  CHECK(listed(*s, f) == Ids{"i-A", "i-C", "i-a"});
  f = {};
  f.business_key = "RMA-7";
  CHECK(listed(*s, f) == Ids{"i-b"});
  f = {};
  f.parent_id = "i-A";
  CHECK(listed(*s, f) == Ids{"i-b"});
  f = {};
  f.with_incident = true;
  CHECK(listed(*s, f) == Ids{"i-a"});
  f = {};
  f.paused = true;
  CHECK(listed(*s, f) == Ids{"i-A"});
  f.paused = false;
  CHECK(listed(*s, f) == Ids{"i-C", "i-a", "i-b"});
  f = {};
  f.created_from = from_millis(2000);
  f.created_before = from_millis(4000);
  CHECK(listed(*s, f) == Ids{"i-a", "i-b"});
  f = {};
  f.deadline_before = from_millis(4000);
  CHECK(listed(*s, f) == Ids{"i-a"});

  // Keyset pages of two, and a limit.
  InstanceFilter page;
  page.limit = 2;
  CHECK(listed(*s, page) == Ids{"i-A", "i-C"});
  page.after_id = "i-C";
  CHECK(listed(*s, page) == Ids{"i-a", "i-b"});
  page.after_id = "i-b";
  CHECK(listed(*s, page).empty());
  std::vector<std::string> visited;
  for_each_instance(*s, InstanceFilter{}, [&](InstanceRow& row) {
    visited.push_back(row.id);
    return visited.size() < 3;
  });
  CHECK(visited == Ids{"i-A", "i-C", "i-a"});
}

TEST_CASE_TEMPLATE("Store.Conformance.SearchAttributes", B, RMAFLOW_BACKENDS) {
  B db;
  auto s = open_store(db.location);
  WriteBatch batch;
  for (const char* id : {"i-1", "i-2", "i-3"}) batch.instances.push_back(instance_row(id));
  batch.attributes.push_back(AttributeUpdate{
      "i-1", {{"customer", "C-105"}, {"value", 500}, {"weight", 2.5}, {"express", true}}});
  batch.attributes.push_back(AttributeUpdate{"i-2", {{"customer", "C-2"}, {"value", 90}}});
  batch.attributes.push_back(AttributeUpdate{"i-3", {{"customer", "C-105"}, {"value", "500"}}});
  s->commit(batch);

  auto stored = s->attributes("i-1");
  CHECK(stored == nlohmann::json{
                      {"customer", "C-105"}, {"value", 500}, {"weight", 2.5}, {"express", "true"}});
  CHECK(stored["value"].is_number_integer());
  CHECK(stored["weight"].is_number_float());
  CHECK(s->attributes("i-9") == nlohmann::json::object());

  auto matching = [&](std::vector<std::string> conditions) {
    InstanceFilter f;
    for (const auto& c : conditions) f.attributes.push_back(parse_attribute_condition(c));
    return listed(*s, f);
  };
  CHECK(matching({"customer=C-105"}) == Ids{"i-1", "i-3"});
  CHECK(matching({"value<500"}) == Ids{"i-2"});
  CHECK(matching({"weight>2"}) == Ids{"i-1"});
  CHECK(matching({"customer>=C-2"}) == Ids{"i-2"});  // as text: "C-2" > "C-105"
  CHECK(matching({"customer=C-105", "weight>1"}) == Ids{"i-1"});
  CHECK(s->attributes("i-3")["value"] == "500");
  CHECK(matching({"value>=100"}) == Ids{"i-1"});  // the text "500" is not a number
  CHECK(matching({"value=\"500\""}) == Ids{"i-3"});
  CHECK(matching({"express=true"}) == Ids{"i-1"});
  CHECK(matching({"nothing=1"}).empty());
  // As many conditions as a filter takes; one more is refused before any statement runs (a
  // thousand used to reach SQLite, which refused the statement as a failure of its own).
  std::vector<std::string> most(kMaxAttributeConditions, "value>=1");
  CHECK(matching(most) == Ids{"i-1", "i-2"});
  most.push_back("value>=1");
  auto refused = testing::error_from([&] { matching(most); });
  CHECK(refused.code() == Errc::invalid_argument);
  CHECK(std::string(refused.what()) ==
        "a filter takes at most 16 conditions on search attributes, and this one has 17");

  // An update replaces what was indexed.
  WriteBatch update;
  update.attributes.push_back(AttributeUpdate{"i-1", {{"value", 7}}});
  s->commit(update);
  CHECK(s->attributes("i-1") == nlohmann::json{{"value", 7}});
  CHECK(matching({"customer=C-105"}) == Ids{"i-3"});
}

TEST_CASE_TEMPLATE("Store.Conformance.CountsAndHistory", B, RMAFLOW_BACKENDS) {
  B db;
  auto s = open_store(db.location);
  WriteBatch batch;
  auto add = [&](const std::string& id, InstanceStatus status, const std::string& step,
                 std::int64_t created, std::optional<std::int64_t> ended) {
    auto row = instance_row(id, created);
    row.status = status;
    row.cursors.front().step = step;
    if (ended) row.ended_at = from_millis(*ended);
    batch.instances.push_back(row);
  };
  add("i-1", InstanceStatus::running, "authorize", 100, std::nullopt);
  add("i-2", InstanceStatus::running, "authorize", 1100, std::nullopt);
  add("i-3", InstanceStatus::compensating, "Refund", 1200, std::nullopt);
  add("i-4", InstanceStatus::waiting, "await", 2100, std::nullopt);
  add("i-5", InstanceStatus::completed, "done", 1500, 2500);
  batch.instances[0].workflow = "exchange";
  Cursor branch;
  branch.branch = "lines[L1]";
  branch.step = "inspect";
  batch.instances[1].cursors.push_back(branch);
  for (int seq = 5; seq >= 1; --seq) batch.events.push_back(event_row("i-2", seq));
  s->commit(batch);

  CHECK(s->count_by_status() ==
        std::map<InstanceStatus, std::int64_t>{{InstanceStatus::running, 2},
                                               {InstanceStatus::waiting, 1},
                                               {InstanceStatus::compensating, 1},
                                               {InstanceStatus::completed, 1}});
  CHECK(ids_of(s->active_instances()) == Ids{"i-1", "i-2", "i-3"});

  std::vector<std::string> counted;
  for (const auto& c : s->count_unfinished("")) {
    counted.push_back(fmt::format("{} {} {} {} {}", c.workflow, c.version, c.step,
                                  static_cast<int>(c.status), c.count));
  }
  CHECK(counted == std::vector<std::string>{"exchange 1 authorize 1 1", "returns 1 Refund 4 1",
                                            "returns 1 authorize 1 1", "returns 1 await 2 1",
                                            "returns 1 inspect 1 1"});
  CHECK(s->count_unfinished("exchange").size() == 1);

  std::vector<std::string> tallies;
  for (const auto& t : s->tally_instances(from_millis(1000), Duration(1000))) {
    tallies.push_back(fmt::format("{} {} {} {} {}", t.workflow, static_cast<int>(t.status),
                                  t.started_bucket, t.ended_bucket, t.count));
  }
  std::sort(tallies.begin(), tallies.end());
  CHECK(tallies == std::vector<std::string>{"exchange 1 -1 -1 1", "returns 1 0 -1 1",
                                            "returns 10 0 1 1", "returns 2 1 -1 1",
                                            "returns 4 0 -1 1"});
  CHECK(error_from([&] { s->tally_instances(from_millis(0), Duration(0)); }).code() ==
        Errc::invalid_argument);

  std::vector<std::int64_t> seqs;
  for (const auto& e : s->history("i-2")) seqs.push_back(e.seq);
  CHECK(seqs == std::vector<std::int64_t>{1, 2, 3, 4, 5});
  CHECK(s->history("i-9").empty());
}

TEST_CASE_TEMPLATE("Store.Conformance.AuditTrail", B, RMAFLOW_BACKENDS) {
  B db;
  auto s = open_store(db.location);
  WriteBatch batch;
  for (const char* id : {"i-1", "i-2", "i-3"}) {
    batch.instances.push_back(instance_row(id));
    batch.events.push_back(event_row(id, 1));
  }
  batch.events.push_back(operator_action("i-1", 2, 200, "retry", "ana"));
  batch.events.push_back(operator_action("i-2", 2, 300, "patch", "ben"));
  auto not_an_action = event_row("i-2", 3);
  not_an_action.at = from_millis(300);
  batch.events.push_back(not_an_action);
  batch.events.push_back(operator_action("i-2", 4, 300, "retry", "ana"));
  batch.events.push_back(operator_action("i-3", 2, 400, "cancel", "ana"));
  s->commit(batch);

  auto keys = [&](const AuditFilter& filter) {
    Ids out;
    for (const auto& e : s->audit_trail(filter)) {
      out.push_back(e.instance_id + "#" + std::to_string(e.seq));
    }
    return out;
  };
  CHECK(keys(AuditFilter{}) == Ids{"i-3#2", "i-2#4", "i-2#2", "i-1#2"});
  AuditFilter f;
  f.actor = "ana";
  CHECK(keys(f) == Ids{"i-3#2", "i-2#4", "i-1#2"});
  f = {};
  f.action = "retry";
  f.instance_id = "i-2";
  CHECK(keys(f) == Ids{"i-2#4"});
  f = {};
  f.from = from_millis(300);
  f.before = from_millis(400);
  CHECK(keys(f) == Ids{"i-2#4", "i-2#2"});
  AuditFilter page;
  page.limit = 2;
  auto first = s->audit_trail(page);
  REQUIRE(first.size() == 2);
  page.older_than = AuditCursor{first.back().at, first.back().instance_id, first.back().seq};
  CHECK(keys(page) == Ids{"i-2#2", "i-1#2"});
}

TEST_CASE_TEMPLATE("Store.Conformance.Timers", B, RMAFLOW_BACKENDS) {
  B db;
  auto s = open_store(db.location);
  WriteBatch batch = start_batch("i-1");
  batch.timers_set.push_back(timer_row("i-1", "wait", 300));
  batch.timers_set.push_back(timer_row("i-1", "retry", 100));
  batch.timers_set.push_back(TimerRow{"i-1", "lines[L1]", "retry", from_millis(200)});
  batch.timers_set.push_back(timer_row("i-2", "retry", 100));
  s->commit(batch);
  auto names = [&](TimePoint until, std::size_t limit) {
    Ids out;
    for (const auto& t : s->due_timers(until, limit)) {
      out.push_back(t.instance_id + "/" + t.branch + "/" + t.name);
    }
    return out;
  };
  CHECK(names(from_millis(1000), 10) ==
        Ids{"i-1//retry", "i-2//retry", "i-1/lines[L1]/retry", "i-1//wait"});
  CHECK(names(from_millis(200), 10).size() == 3);  // due at or before
  CHECK(names(from_millis(1000), 2) == Ids{"i-1//retry", "i-2//retry"});

  // Cleared by (instance, branch, name); a batch that clears and sets one ends with it set.
  WriteBatch change;
  change.timers_cleared.push_back(timer_row("i-1", "retry", 0));
  change.timers_cleared.push_back(timer_row("i-1", "wait", 0));
  change.timers_set.push_back(timer_row("i-1", "wait", 50));
  s->commit(change);
  CHECK(names(from_millis(1000), 10) == Ids{"i-1//wait", "i-2//retry", "i-1/lines[L1]/retry"});
  CHECK(s->due_timers(from_millis(1000), 10).front().due == from_millis(50));
}

TEST_CASE_TEMPLATE("Store.Conformance.Signals", B, RMAFLOW_BACKENDS) {
  B db;
  auto s = open_store(db.location);
  WriteBatch batch = start_batch("i-1");
  batch.signals_added.push_back(signal_row("i-1", "approved", "b", 300));
  batch.signals_added.push_back(signal_row("i-2", "approved", "x", 100));
  batch.signals_added.push_back(signal_row("i-1", "approved", "a", 200));
  batch.signals_added.back().match = {{"line", "L1"}};
  batch.signals_added.push_back(signal_row("i-1", "rejected", "c", 400));
  s->commit(batch);

  auto all = s->signals("i-1");
  REQUIRE(all.size() == 3);
  CHECK(all[0].seq < all[1].seq);
  CHECK(all[1].seq < all[2].seq);
  CHECK(all[0].idempotency_key == "key-b");  // arrival order, not time
  CHECK(all[1].match == nlohmann::json{{"line", "L1"}});
  CHECK(all[0].match.is_null());
  CHECK(all[1].payload == signal_row("i-1", "approved", "a").payload);
  CHECK(all[1].received_at == from_millis(200));
  CHECK_FALSE(all[1].consumed_at.has_value());
  CHECK(s->find_signal("i-2", "key-x")->seq < all[1].seq);
  CHECK_FALSE(s->find_signal("i-1", "key-x").has_value());
  CHECK(s->oldest_pending_signal("i-1", "approved")->idempotency_key == "key-b");

  // Consumed oldest first; a batch may consume a signal it adds.
  WriteBatch consume;
  consume.signals_consumed.push_back(SignalConsumed{"i-1", "key-b", from_millis(500)});
  consume.signals_added.push_back(signal_row("i-1", "rejected", "d", 600));
  consume.signals_consumed.push_back(SignalConsumed{"i-1", "key-d", from_millis(600)});
  s->commit(consume);
  CHECK(s->find_signal("i-1", "key-b")->consumed_at == from_millis(500));
  CHECK(s->oldest_pending_signal("i-1", "approved")->idempotency_key == "key-a");
  CHECK(s->oldest_pending_signal("i-1", "rejected")->idempotency_key == "key-c");
  CHECK_FALSE(s->oldest_pending_signal("i-1", "nothing").has_value());

  // Consuming it again is the engine and the store disagreeing.
  WriteBatch again;
  again.signals_consumed.push_back(SignalConsumed{"i-1", "key-b", from_millis(700)});
  CHECK(error_from([&] { s->commit(again); }).code() == Errc::storage);
}

// A job driven by one node: its progress, the commands passing instances on to other nodes,
// and the items those nodes write later, each counted into the job's tallies.
TEST_CASE_TEMPLATE("Store.Conformance.Issue18.AJobsItemsAreCountedWhoeverWritesThem", B,
                   RMAFLOW_BACKENDS) {
  B db;
  auto s = open_store(db.location);
  auto job = job_row("job-7", JobState::running);
  job.dealt = 3;
  WriteBatch driver;
  driver.jobs.push_back(job);
  driver.job_items.push_back(JobItemRow{"job-7", "i-1", true, "retried", from_millis(10)});
  driver.commands_added = {command_row("i-2", 20), command_row("i-3", 30)};
  driver.commands_added[0].body = R"({"job": "job-7"})";
  s->commit(driver);
  auto pending = s->pending_commands(10);
  REQUIRE(pending.size() == 2);
  CHECK(pending[0].instance_id == "i-2");
  CHECK(pending[0].body == R"({"job": "job-7"})");
  CHECK(pending[0].created_at == from_millis(20));
  CHECK(pending[0].id < pending[1].id);
  CHECK(s->get_job("job-7")->applied == 1);

  // Another node applies one: its item and the command's outcome in one commit.
  WriteBatch owner;
  owner.job_items.push_back(JobItemRow{"job-7", "i-2", false, "not suspended", from_millis(40)});
  owner.commands_done.push_back(CommandDone{pending[0].id, from_millis(40), "refused: no"});
  s->commit(owner);
  // The driver writes its row again, with tallies of its own: the stored ones stay.
  job.cursor = "i-3";
  job.applied = 50;
  job.refused = 50;
  WriteBatch progress;
  progress.jobs.push_back(job);
  s->commit(progress);
  auto stored = s->get_job("job-7");
  CHECK(stored->cursor == "i-3");
  CHECK(stored->dealt == 3);
  CHECK(stored->applied == 1);
  CHECK(stored->refused == 1);
  CHECK(s->pending_commands(10).size() == 1);
  CHECK(s->job_items("job-7", "", false, 10).size() == 2);
}

TEST_CASE_TEMPLATE("Store.Conformance.Commands", B, RMAFLOW_BACKENDS) {
  B db;
  auto s = open_store(db.location);
  auto a = s->add_command(command_row("i-1", 100));
  auto b = s->add_command(command_row("i-2", 200));
  auto c = s->add_command(command_row("i-1", 300));
  CHECK(a < b);
  CHECK(b < c);
  auto got = s->get_command(b);
  REQUIRE(got.has_value());
  CHECK(got->instance_id == "i-2");
  CHECK(got->kind == "retry");
  CHECK(got->body == command_row("i-2").body);
  CHECK(got->created_at == from_millis(200));
  CHECK(got->outcome.empty());
  CHECK_FALSE(got->applied_at.has_value());
  CHECK_FALSE(s->get_command(c + 1).has_value());

  auto ids = [](const std::vector<CommandRow>& rows) {
    std::vector<std::int64_t> out;
    for (const auto& row : rows) out.push_back(row.id);
    return out;
  };
  using Numbers = std::vector<std::int64_t>;
  CHECK(ids(s->pending_commands(10)) == Numbers{a, b, c});
  CHECK(ids(s->pending_commands(2)) == Numbers{a, b});

  WriteBatch done;
  done.commands_done.push_back(CommandDone{a, from_millis(400), "applied"});
  s->commit(done);
  CHECK(s->get_command(a)->outcome == "applied");
  CHECK(s->get_command(a)->applied_at == from_millis(400));
  CHECK(s->withdraw_command(b, from_millis(500), "withdrawn by ops"));
  CHECK_FALSE(s->withdraw_command(b, from_millis(500), "withdrawn again"));
  CHECK_FALSE(s->withdraw_command(a, from_millis(500), "withdrawn"));
  CHECK(s->get_command(b)->outcome == "withdrawn by ops");
  CHECK(ids(s->pending_commands(10)) == Numbers{c});

  // The newest `limit`, oldest first.
  CHECK(ids(s->list_commands("", false, 10)) == Numbers{a, b, c});
  CHECK(ids(s->list_commands("", false, 2)) == Numbers{b, c});
  CHECK(ids(s->list_commands("i-1", false, 10)) == Numbers{a, c});
  CHECK(ids(s->list_commands("i-1", true, 10)) == Numbers{c});
  CHECK(s->list_commands("i-9", false, 10).empty());

  // An instance's pending commands, however many of other instances' wait before them (an
  // instance's view lists them).
  for (int i = 0; i < 300; ++i) s->add_command(command_row("i-2", 1'000 + i));
  auto d = s->add_command(command_row("i-1", 2'000));
  CHECK(ids(s->list_commands("i-1", true, 10)) == Numbers{c, d});
  CHECK(ids(s->list_commands("i-1", true, 1)) == Numbers{d});
  CHECK(ids(s->list_commands("i-1", false, 10)) == Numbers{a, c, d});
  CHECK(s->list_commands("i-2", true, 1000).size() == 300);
}

TEST_CASE_TEMPLATE("Store.Conformance.Jobs", B, RMAFLOW_BACKENDS) {
  B db;
  auto s = open_store(db.location);
  WriteBatch batch;
  batch.jobs = {job_row("job-1", JobState::finished), job_row("job-2", JobState::running),
                job_row("job-3", JobState::running)};
  batch.job_items = {JobItemRow{"job-2", "i-b", true, "suspended at inspect", from_millis(10)},
                     JobItemRow{"job-2", "i-a", false, "not suspended", from_millis(11)},
                     JobItemRow{"job-2", "i-C", false, "finished", from_millis(12)},
                     JobItemRow{"job-1", "i-a", true, "done", from_millis(13)}};
  s->commit(batch);

  auto job = s->get_job("job-1");
  REQUIRE(job.has_value());
  auto want = job_row("job-1", JobState::finished);
  CHECK(job->action == want.action);
  CHECK(filter_to_json(job->filter) == filter_to_json(want.filter));
  CHECK(job->args == want.args);
  CHECK(job->actor == want.actor);
  CHECK(job->reason == want.reason);
  CHECK(job->per_second == want.per_second);
  CHECK(job->state == JobState::finished);
  CHECK(job->created_at == want.created_at);
  CHECK(job->updated_at == want.updated_at);
  CHECK(job->ended_at == want.ended_at);
  CHECK(job->cursor == want.cursor);
  CHECK(job->dealt == 8);
  // The tallies are the items': job-1 has one, applied.
  CHECK(job->applied == 1);
  CHECK(job->refused == 0);
  CHECK(s->get_job("job-2")->applied == 1);
  CHECK(s->get_job("job-2")->refused == 2);
  CHECK_FALSE(s->get_job("job-9").has_value());

  auto job_ids = [](const std::vector<JobRow>& rows) {
    Ids out;
    for (const auto& row : rows) out.push_back(row.id);
    return out;
  };
  CHECK(job_ids(s->list_jobs("", 10)) == Ids{"job-3", "job-2", "job-1"});
  CHECK(job_ids(s->list_jobs("job-3", 1)) == Ids{"job-2"});
  CHECK(job_ids(s->running_jobs()) == Ids{"job-2", "job-3"});

  // Replaced whole, by id.
  WriteBatch cancel;
  auto cancelled = job_row("job-3", JobState::cancelled);
  cancelled.cancelled_by = "ana";
  cancelled.cancel_reason = "wrong filter";
  cancel.jobs.push_back(cancelled);
  s->commit(cancel);
  CHECK(job_ids(s->running_jobs()) == Ids{"job-2"});
  CHECK(s->get_job("job-3")->cancelled_by == "ana");
  CHECK(s->get_job("job-3")->cancel_reason == "wrong filter");

  auto items = [&](const std::string& after, bool refused_only, std::size_t limit) {
    Ids out;
    for (const auto& item : s->job_items("job-2", after, refused_only, limit)) {
      out.push_back(item.instance_id + (item.applied ? "+" : "-"));
    }
    return out;
  };
  CHECK(items("", false, 10) == Ids{"i-C-", "i-a-", "i-b+"});
  CHECK(items("i-C", false, 10) == Ids{"i-a-", "i-b+"});
  CHECK(items("", true, 10) == Ids{"i-C-", "i-a-"});
  CHECK(items("", false, 1) == Ids{"i-C-"});
  CHECK(s->job_items("job-2", "", false, 1).front().detail == "finished");
  CHECK(s->job_items("job-2", "", false, 1).front().at == from_millis(12));
}

TEST_CASE_TEMPLATE("Store.Conformance.ReopenAndReadOnly", B, RMAFLOW_BACKENDS) {
  B db;
  SUBCASE("a read-only store refuses a database that is not one yet") {
    db.create_empty();
    CHECK(error_from([&] { open_store(db.location, testing::read_only_option()); }).code() ==
          Errc::storage);
  }
  SUBCASE("reopened, the data is there; read-only, it is read and not written") {
    {
      auto s = open_store(db.location);
      s->commit(start_batch("i-1", 3));
      s->put_definition(definition_row("returns", 1, "h1"));
    }
    auto reopened = open_store(db.location);
    REQUIRE(reopened->get_instance("i-1").has_value());
    CHECK(reopened->history("i-1").size() == 3);
    auto reader = open_store(db.location, testing::read_only_option());
    CHECK(reader->history("i-1").size() == 3);
    CHECK(reader->list_definitions().size() == 1);
    CHECK(error_from([&] { reader->commit(start_batch("i-2")); }).code() == Errc::storage);
    CHECK(error_from([&] { reader->add_command(command_row("i-1")); }).code() == Errc::storage);
    CHECK(error_from([&] { reader->put_definition(definition_row("returns", 2, "h2")); }).code() ==
          Errc::storage);
    CHECK(error_from([&] { reader->withdraw_command(1, from_millis(1), "x"); }).code() ==
          Errc::storage);
    // The reader sees what the writer commits after it opened.
    reopened->commit(start_batch("i-2"));
    CHECK(reader->get_instance("i-2").has_value());
  }
}

TEST_CASE_TEMPLATE("Store.Conformance.OneEngineAtATime", B, RMAFLOW_BACKENDS) {
  B db;
  auto engine = open_store(db.location, engine_option());
  CHECK(error_from([&] { open_store(db.location, engine_option()); }).code() == Errc::conflict);
  // Clients that are not the engine open beside it.
  auto client = open_store(db.location);
  client->add_command(command_row("i-1"));
  engine.reset();
  auto successor = open_store(db.location, engine_option());
  CHECK(successor->pending_commands(10).size() == 1);
}

// A view put together from several reads sees one committed state (Store::read_together):
// a commit between two of its reads shows in neither.
TEST_CASE_TEMPLATE("Store.Conformance.ReadsTogetherSeeOneCommittedState", B, RMAFLOW_BACKENDS) {
  B backend;
  auto writer = open_store(backend.location);
  WriteBatch batch;
  batch.instances = {instance_row("i-1")};
  writer->commit(batch);
  auto reader = open_store(backend.location, testing::read_only_option());
  auto commit_new = [&](const std::string& id, std::optional<InstanceStatus> i1_status) {
    WriteBatch change;
    change.instances = {instance_row(id)};
    if (i1_status) {
      change.instances.push_back(instance_row("i-1"));
      change.instances.back().status = *i1_status;
    }
    writer->commit(change);
  };

  bool nested = false;
  reader->read_together([&] {
    auto before = reader->get_instance("i-1");
    REQUIRE(before);
    REQUIRE(before->status != InstanceStatus::failed);
    commit_new("n-1", InstanceStatus::failed);
    CHECK(reader->get_instance("i-1")->status == before->status);
    CHECK_FALSE(reader->get_instance("n-1"));
    InstanceFilter failed;
    failed.statuses = {InstanceStatus::failed};
    CHECK(listed(*reader, failed).empty());
    reader->read_together([&] {  // joins the one under way
      nested = true;
      CHECK_FALSE(reader->get_instance("n-1"));
    });
    CHECK_FALSE(reader->get_instance("n-1"));
  });
  CHECK(nested);
  CHECK(reader->get_instance("i-1")->status == InstanceStatus::failed);
  CHECK(reader->get_instance("n-1"));

  // What the reads throw is thrown on, and the transaction has ended with it.
  auto e = error_from([&] {
    reader->read_together([&] {
      reader->get_instance("i-1");
      throw Error(Errc::not_found, "no instance x");
    });
  });
  CHECK(e.code() == Errc::not_found);
  commit_new("n-2", std::nullopt);
  CHECK(reader->get_instance("n-2"));
  reader->read_together([&] { CHECK(reader->get_instance("n-2")); });
}
