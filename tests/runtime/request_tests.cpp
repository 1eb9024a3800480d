// Requests answered through callbacks (what the API uses), and operator commands queued in the
// database by another process while the engine runs.
#include <doctest/doctest.h>

#include <chrono>
#include <thread>

#include "tests/runtime/harness.hpp"

using namespace rmaflow;
using namespace rmaflow::testing;
using json = nlohmann::json;

namespace {

const char* kRequestFlow = R"(
workflow: requests
version: 1
business_key: ${ .input.rma_id }
start: label
steps:
  label:
    action: ext.create_label
    retry: { max_attempts: 1 }
    next: done
  done: { end: completed }
)";

}  // namespace

TEST_CASE("Engine.Reply.AnswersOnceCommitted") {
  Harness h(kRequestFlow);
  auto reader = open_sqlite_store(h.db, StoreOptions{SyncMode::normal, true});
  std::optional<Reply<StartResult>> got;
  bool stored_when_answered = false;
  StartRequest request{h.workflow, std::nullopt, {{"rma_id", "R-1"}}, std::nullopt, ""};
  h.engine->start(request, [&](Reply<StartResult> reply) {
    // A separate connection sees the instance at the moment the caller hears of it.
    stored_when_answered = reply.ok() && reader->get_instance(reply.result->instance_id).has_value();
    got = std::move(reply);
  });
  CHECK_FALSE(got.has_value());  // nothing is answered before the engine runs
  h.idle();
  REQUIRE(got.has_value());
  REQUIRE(got->ok());
  CHECK(got->result->created);
  CHECK(stored_when_answered);
}

TEST_CASE("Engine.Reply.ErrorsAreAnsweredToo") {
  Harness h(kRequestFlow);
  std::optional<Reply<StartResult>> got;
  h.engine->start(StartRequest{"no-such-workflow", std::nullopt, json::object(), std::nullopt, ""},
                  [&](Reply<StartResult> reply) { got = std::move(reply); });
  h.idle();
  REQUIRE(got.has_value());
  REQUIRE_FALSE(got->ok());
  CHECK_THROWS_AS(std::rethrow_exception(got->error), Error);
  try {
    std::rethrow_exception(got->error);
  } catch (const Error& e) {
    CHECK(e.code() == Errc::not_found);
  }
}

TEST_CASE("Engine.Reply.AnsweredWhenTheEngineGoesFirst") {
  Harness h(kRequestFlow);
  std::optional<Reply<SignalResult>> got;
  h.engine->signal(SignalRequest{"X", "", "", "scan", nullptr, nullptr, ""},
                   [&](Reply<SignalResult> reply) { got = std::move(reply); });
  h.close();  // never ran: the request dies with the engine
  REQUIRE(got.has_value());
  REQUIRE_FALSE(got->ok());
  try {
    std::rethrow_exception(got->error);
  } catch (const Error& e) {
    CHECK(e.code() == Errc::storage);
  }
}

TEST_CASE("Engine.Commands.PickedUpWhileRunning") {
  Harness h(kRequestFlow);
  h.ext->script("create_label", {business("Broken")});
  auto id = h.start({{"rma_id", "R-7"}}).instance_id;
  h.idle();
  REQUIRE(h.row(id).status == InstanceStatus::suspended);

  std::thread runner([&] { h.engine->run(); });
  // Another process (the offline CLI) queues a command in the database.
  auto writer = open_sqlite_store(h.db);
  CommandRow command;
  command.instance_id = id;
  command.kind = "resolve";
  command.body = json{{"actor", "bob"}, {"reason", "refunded by hand"}}.dump();
  command.created_at = h.clock->now();
  auto command_id = writer->add_command(command);

  auto reader = open_sqlite_store(h.db, StoreOptions{SyncMode::normal, true});
  bool applied = eventually([&] {
    auto row = reader->get_command(command_id);
    return row && !row->outcome.empty();
  });
  h.engine->stop();
  runner.join();
  REQUIRE(applied);
  CHECK(reader->get_command(command_id)->outcome == "applied");
  CHECK(h.row(id).status == InstanceStatus::failed);
}
