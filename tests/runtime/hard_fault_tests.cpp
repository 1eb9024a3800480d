// Commits that fail: at every commit of a run in turn (the engine reports, a new engine
// recovers, nothing acknowledged is lost), and while serving (the batch is kept and retried,
// new work refused until it commits, and nothing lost or doubled once it does).
#include <doctest/doctest.h>

#include <atomic>
#include <cstdlib>
#include <future>
#include <map>
#include <thread>

#include "engine/runtime/quarantine.hpp"
#include "tests/runtime/harness.hpp"

using namespace rmaflow;
using namespace rmaflow::testing;
using json = nlohmann::json;

namespace {

const char* kThreeSteps = R"(
workflow: three
version: 1
business_key: ${ .input.key }
start: first
steps:
  first: { action: ext.first, result: a, next: second }
  second: { action: ext.second, result: b, next: third }
  third: { action: ext.third, result: c, next: done }
  done: { end: completed }
)";

// A store whose commits fail while `failing` is set, or at the Nth commit.
class FaultyStore final : public StoreWrapper {
 public:
  FaultyStore(std::unique_ptr<Store> target, int fail_at, std::atomic<bool>* failing = nullptr)
      : StoreWrapper(std::move(target)), fail_at_(fail_at), failing_(failing) {}
  CommitReceipt commit(const WriteBatch& batch) override {
    ++commits_;
    if (commits_ == fail_at_ || (failing_ != nullptr && *failing_)) {
      ++failures;
      throw Error(Errc::storage, "cannot commit (SQLite: database or disk is full) (injected)");
    }
    return StoreWrapper::commit(batch);
  }
  std::atomic<int> failures{0};

 private:
  int fail_at_;
  std::atomic<bool>* failing_;
  int commits_ = 0;
};

void script_all(ScriptedAdapter& ext, int instances) {
  for (const char* op : {"first", "second", "third"}) {
    ext.script(op, std::vector<Outcome>(static_cast<std::size_t>(instances) * 2, ok({{"op", op}})));
  }
}

}  // namespace

TEST_CASE("Recovery.Issue12.CommitFaultAtEveryCommitOfARun") {
  constexpr int kInstances = 3;
  // A clean run's commits, to fail each of them in turn.
  int clean_commits = 0;
  {
    Harness h(kThreeSteps);
    script_all(*h.ext, kInstances);
    for (int i = 0; i < kInstances; ++i) h.engine->start({"three", std::nullopt, {{"key", std::to_string(i)}}, std::nullopt, ""});
    h.idle();
    clean_commits = static_cast<int>(h.engine->stats().commits);
  }
  REQUIRE(clean_commits > 3);
  for (int n = 1; n <= clean_commits; ++n) {
    CAPTURE(n);
    Harness h(kThreeSteps);
    h.close();
    auto faulty = std::make_unique<FaultyStore>(open_sqlite_store(h.db), n);
    h.open(std::move(faulty));
    script_all(*h.ext, kInstances);
    std::vector<std::future<StartResult>> starts;
    for (int i = 0; i < kInstances; ++i) {
      starts.push_back(h.engine->start({"three", std::nullopt, {{"key", std::to_string(i)}}, std::nullopt, ""}));
    }
    CHECK_THROWS_AS(h.idle(), Error);  // the engine reports the failed commit
    std::vector<std::string> acknowledged;
    for (auto& s : starts) {
      try {
        acknowledged.push_back(s.get().instance_id);
      } catch (const Error& e) {
        CHECK(e.code() == Errc::storage);  // never acknowledged without its commit
      }
    }
    h.close();
    // A new engine recovers; every start is sent again, as an unanswered client would.
    h.open();
    script_all(*h.ext, kInstances);
    for (int i = 0; i < kInstances; ++i) {
      h.engine->start({"three", std::nullopt, {{"key", std::to_string(i)}}, std::nullopt, ""});
    }
    h.idle();
    auto all = h.engine->store().list_instances({});
    CHECK(all.size() == kInstances);
    for (const auto& row : all) {
      CHECK(row.status == InstanceStatus::completed);
      check_contiguous(h.history(row.id));
    }
    for (const auto& id : acknowledged) CHECK(h.row(id).status == InstanceStatus::completed);
  }
}

TEST_CASE("Recovery.Issue12.AFailedCommitIsRetriedWhileServing") {
  Harness h(kThreeSteps);
  h.close();
  std::atomic<bool> full{false};
  auto owned = std::make_unique<FaultyStore>(open_sqlite_store(h.db), 0, &full);
  FaultyStore* store = owned.get();
  h.open(std::move(owned));
  script_all(*h.ext, 2);
  std::thread serving([&] { h.engine->run(); });

  full = true;
  auto held = h.engine->start({"three", std::nullopt, {{"key", "held"}}, std::nullopt, ""});
  // The batch carrying the start fails and is kept; the start is not answered yet.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!h.engine->stats().storage_failing && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  REQUIRE(h.engine->stats().storage_failing);
  CHECK(held.wait_for(std::chrono::milliseconds(0)) == std::future_status::timeout);
  // New work is refused while the kept batch waits.
  auto refused = h.engine->start({"three", std::nullopt, {{"key", "refused"}}, std::nullopt, ""});
  try {
    refused.get();
    FAIL("a start was accepted while commits failed");
  } catch (const Error& e) {
    CHECK(e.code() == Errc::busy);  // nothing of it done: it may be sent again
  }
  // It keeps retrying, then commits once the store takes writes again.
  while (store->failures < 3 && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  CHECK(store->failures >= 3);
  full = false;
  REQUIRE(held.wait_for(std::chrono::seconds(30)) == std::future_status::ready);
  auto id = held.get().instance_id;
  // Read through a connection of its own: the engine's is its thread's alone.
  auto reader = open_sqlite_store(h.db, StoreOptions{SyncMode::full, true});
  deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (reader->get_instance(id)->status != InstanceStatus::completed &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  CHECK_FALSE(h.engine->stats().storage_failing);
  h.engine->stop();
  serving.join();
  CHECK(h.row(id).status == InstanceStatus::completed);
  check_contiguous(h.history(id));
  CHECK(h.engine->store().list_instances({}).size() == 1);  // the refused one never existed
}

// Batches capped at 16 events, so that a full batch waits, its rows copied, while the one
// before it is written, and that one fails: the copies are dropped, the failed batch is kept and
// committed again, and the full one commits after it. Every start acknowledged completes, each
// call made once; a start refused while the batch was kept never existed.
TEST_CASE("Recovery.Issue19.AFailedCommitWhileAFullBatchWaits") {
  constexpr int kInstances = 120;
  for (int fail_at : {3, 6, 10}) {
    CAPTURE(fail_at);
    Harness h(kThreeSteps);
    h.close();
    auto owned = std::make_unique<FaultyStore>(open_sqlite_store(h.db), fail_at);
    FaultyStore* store = owned.get();
    h.max_batch_events = 16;
    h.open(std::move(owned));
    script_all(*h.ext, kInstances);
    std::vector<std::future<StartResult>> starts;
    for (int i = 0; i < kInstances; ++i) {
      starts.push_back(
          h.engine->start({"three", std::nullopt, {{"key", std::to_string(i)}}, std::nullopt, ""}));
    }
    std::thread serving([&] { h.engine->run(); });
    std::vector<std::string> acknowledged;
    for (auto& s : starts) {
      REQUIRE(s.wait_for(std::chrono::seconds(30)) == std::future_status::ready);
      try {
        acknowledged.push_back(s.get().instance_id);
      } catch (const Error& e) {
        CHECK(e.code() == Errc::busy);  // refused while the failed batch was kept
      }
    }
    auto reader = open_sqlite_store(h.db, StoreOptions{SyncMode::full, true});
    CHECK(eventually([&] {
      for (const auto& id : acknowledged) {
        if (reader->get_instance(id)->status != InstanceStatus::completed) return false;
      }
      return true;
    }));
    h.engine->stop();
    serving.join();
    CHECK(store->failures == 1);
    CHECK_FALSE(acknowledged.empty());
    CHECK(h.engine->store().list_instances({}).size() == acknowledged.size());
    std::map<std::pair<std::string, std::string>, int> calls;
    for (const auto& call : h.ext->calls()) ++calls[{call.instance_id, call.operation}];
    CHECK(calls.size() == 3 * acknowledged.size());
    for (const auto& [call, times] : calls) CHECK(times == 1);
    for (const auto& id : acknowledged) {
      CHECK(h.row(id).status == InstanceStatus::completed);
      check_contiguous(h.history(id));
    }
  }
}

// A PostgreSQL database has no file to keep the quarantine record beside: it is kept in a
// directory of the user's, one per database and node, and a directory that is not a directory
// of the user's is refused with a sentence naming it.
TEST_CASE("Engine.Issue18.TheQuarantineRecordOfAPostgresDatabaseIsTheUsersPerNode") {
  TempDir dir;
  const char* before = std::getenv("XDG_RUNTIME_DIR");
  std::string kept = before != nullptr ? before : "";
  ::setenv("XDG_RUNTIME_DIR", dir.path().c_str(), 1);
  const std::string uri = "postgresql://rmaflow:secret@127.0.0.1:5432/returns";
  auto n1 = quarantine_record_path(uri, "n1");
  CHECK(n1.starts_with(dir.path() + "/rmaflow/"));
  CHECK(n1 == quarantine_record_path(uri, "n1"));
  CHECK(n1 != quarantine_record_path(uri, "n2"));
  CHECK(n1 != quarantine_record_path(uri + "2", "n1"));
  CHECK(n1.find("secret") == std::string::npos);
  CHECK(quarantine_record_path(dir.file("returns.db"), "").ends_with("returns.db.processing"));

  ::setenv("XDG_RUNTIME_DIR", dir.file("elsewhere").c_str(), 1);
  dir.write("elsewhere/rmaflow", "not a directory");
  try {
    quarantine_record_path(uri, "n1");
    FAIL("a file where the directory should be was taken");
  } catch (const Error& e) {
    CHECK(e.code() == Errc::io);
    CHECK(std::string(e.what()).find(dir.file("elsewhere/rmaflow") + ": it is not a directory") !=
          std::string::npos);
  }
  if (before != nullptr) {
    ::setenv("XDG_RUNTIME_DIR", kept.c_str(), 1);
  } else {
    ::unsetenv("XDG_RUNTIME_DIR");
  }
}
