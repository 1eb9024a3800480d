// Awaiting an instance's end (Engine::await_end, what `GET /v1/instances/{id}?wait=` uses): the
// answer comes with the end's commit, or at the caller's timeout with the instance as committed
// then, whichever is first; at once for one that has ended.
#include <doctest/doctest.h>

#include <chrono>

#include "engine/store/state_codec.hpp"
#include "tests/runtime/harness.hpp"

using namespace rmaflow;
using namespace rmaflow::testing;
using json = nlohmann::json;

namespace {

const char* kAwaitedFlow = R"(
workflow: awaited
version: 1
business_key: ${ .input.rma_id }
start: receipt
steps:
  receipt:
    wait: { signal: warehouse.received, timeout: 30d }
    next: credit
  credit:
    action: ext.post_credit_memo
    next: done
  done: { end: completed }
)";

template <typename T>
bool is_ready(const std::future<T>& f) {
  return f.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
}

}  // namespace

TEST_CASE("Engine.AwaitEnd.AnsweredByTheCommitOfTheEnd") {
  Harness h(kAwaitedFlow);
  h.ext->script("post_credit_memo", {ok({{"credit_memo_id", "CM-1"}})});
  auto id = h.start({{"rma_id", "R-1"}}).instance_id;
  auto reader = open_sqlite_store(h.db, StoreOptions{SyncMode::normal, true});

  // Two callers wait; the instance waits for its parcel meanwhile.
  std::optional<Reply<InstanceRow>> first;
  bool ended_in_store_when_answered = false;
  h.engine->await_end(id, Duration(3'600'000), [&](Reply<InstanceRow> reply) {
    // Another connection sees the end when the caller hears of it: answered after the commit.
    auto stored = reader->get_instance(id);
    ended_in_store_when_answered = stored && stored->status == InstanceStatus::completed;
    first = std::move(reply);
  });
  auto second = h.engine->await_end(id, Duration(3'600'000));
  h.idle();
  CHECK_FALSE(first.has_value());
  CHECK_FALSE(is_ready(second));

  h.signal(id, "warehouse.received", json::object());
  REQUIRE(first.has_value());
  REQUIRE(first->ok());
  CHECK(first->result->status == InstanceStatus::completed);
  CHECK(first->result->ended_at.has_value());
  CHECK(ended_in_store_when_answered);
  REQUIRE(is_ready(second));
  CHECK(second.get().status == InstanceStatus::completed);
  // The answer is the row as committed (the engine answers from the ended instance it holds).
  auto stored = reader->get_instance(id);
  REQUIRE(stored.has_value());
  const InstanceRow& answered = *first->result;
  CHECK(answered.step == stored->step);
  CHECK(answered.last_seq == stored->last_seq);
  CHECK(answered.updated_at == stored->updated_at);
  CHECK(answered.ended_at == stored->ended_at);
  CHECK(answered.context == stored->context);
  CHECK(answered.visits == stored->visits);
  CHECK(store::encode_cursors(answered.cursors) == store::encode_cursors(stored->cursors));
  CHECK(store::encode_saga(answered.saga) == store::encode_saga(stored->saga));
}

TEST_CASE("Engine.AwaitEnd.AtTheTimeoutAnswersTheInstanceAsItStands") {
  Harness h(kAwaitedFlow);
  auto id = h.start({{"rma_id", "R-2"}}).instance_id;
  auto waiting = h.engine->await_end(id, Duration(60'000));
  h.idle();
  h.advance(Duration(59'000));
  CHECK_FALSE(is_ready(waiting));
  h.advance(Duration(1'000));
  REQUIRE(is_ready(waiting));
  auto row = waiting.get();
  CHECK(row.status == InstanceStatus::waiting);
  CHECK(row.step == "receipt");

  // The instance goes on as before: its end answers a new wait, and the old timer is spent.
  auto next = h.engine->await_end(id, Duration(60'000));
  h.ext->script("post_credit_memo", {ok()});
  h.signal(id, "warehouse.received", json::object());
  REQUIRE(is_ready(next));
  CHECK(next.get().status == InstanceStatus::completed);
}

TEST_CASE("Engine.AwaitEnd.Issue19.ManyWaitsEachAnsweredAtItsOwnTimeoutOrEnd") {
  Harness h(kAwaitedFlow);
  auto stays = h.start({{"rma_id", "R-5"}}).instance_id;
  auto ends = h.start({{"rma_id", "R-6"}}).instance_id;
  // Waits of 10, 30 and 20 s on an instance that stays waiting, and the earliest of all (5 s)
  // and a later one on an instance whose end comes first.
  auto w10 = h.engine->await_end(stays, Duration(10'000));
  auto w30 = h.engine->await_end(stays, Duration(30'000));
  auto w20 = h.engine->await_end(stays, Duration(20'000));
  auto e5 = h.engine->await_end(ends, Duration(5'000));
  auto e40 = h.engine->await_end(ends, Duration(40'000));
  h.idle();
  h.ext->script("post_credit_memo", {ok()});
  h.signal(ends, "warehouse.received", json::object());
  REQUIRE(is_ready(e5));
  REQUIRE(is_ready(e40));
  CHECK(e5.get().status == InstanceStatus::completed);
  CHECK(e40.get().status == InstanceStatus::completed);
  CHECK_FALSE(is_ready(w10));

  h.advance(Duration(9'999));
  CHECK_FALSE(is_ready(w10));
  h.advance(Duration(1));
  REQUIRE(is_ready(w10));
  CHECK_FALSE(is_ready(w20));
  h.advance(Duration(10'000));
  REQUIRE(is_ready(w20));
  CHECK_FALSE(is_ready(w30));
  h.advance(Duration(10'000));
  REQUIRE(is_ready(w30));
  for (auto* w : {&w10, &w20, &w30}) CHECK(w->get().status == InstanceStatus::waiting);

  // A wait asked after the others were answered still times out, at its own time.
  auto later = h.engine->await_end(stays, Duration(1'000));
  h.idle();
  h.advance(Duration(1'000));
  REQUIRE(is_ready(later));
  CHECK(later.get().status == InstanceStatus::waiting);
}

TEST_CASE("Engine.AwaitEnd.AnEndedInstanceAtOnceAnUnknownOneNotFound") {
  Harness h(kAwaitedFlow);
  h.ext->script("post_credit_memo", {ok()});
  auto id = h.start({{"rma_id", "R-3"}}).instance_id;
  h.signal(id, "warehouse.received", json::object());
  REQUIRE(h.row(id).status == InstanceStatus::completed);

  auto ended = h.engine->await_end(id, Duration(3'600'000));
  h.idle();
  REQUIRE(is_ready(ended));
  CHECK(ended.get().status == InstanceStatus::completed);

  // No wait asked for: the instance as it stands, waiting or not.
  auto other = h.start({{"rma_id", "R-4"}}).instance_id;
  auto now = h.engine->await_end(other, Duration::zero());
  h.idle();
  REQUIRE(is_ready(now));
  CHECK(now.get().status == InstanceStatus::waiting);

  auto unknown = h.engine->await_end("01UNKNOWN", Duration(1'000));
  h.idle();
  REQUIRE(is_ready(unknown));
  try {
    unknown.get();
    FAIL("an unknown instance was awaited");
  } catch (const Error& e) {
    CHECK(e.code() == Errc::not_found);
  }
}

TEST_CASE("Engine.AwaitEnd.AWaitOutstandingWhenTheEngineCloses") {
  // The engine goes away (a stop, a crash's restart): the caller is told, not left waiting.
  Harness h(kAwaitedFlow);
  auto id = h.start({{"rma_id", "R-5"}}).instance_id;
  auto waiting = h.engine->await_end(id, Duration(3'600'000));
  h.idle();
  h.close();
  REQUIRE(is_ready(waiting));
  try {
    waiting.get();
    FAIL("a wait outlived its engine");
  } catch (const Error& e) {
    CHECK(e.code() == Errc::storage);
  }
}
