// A test harness around a real engine on a real SQLite file, with a manual clock and a
// scripted adapter ("ext") whose calls the test answers one by one.
#pragma once

#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "rmaflow/engine.hpp"
#include "tests/support/instance_rows.hpp"
#include "tests/support/process.hpp"

namespace rmaflow::testing {

inline constexpr Duration kDay(86'400'000);

// Answers calls from a script of outcomes per operation; with no scripted outcome the call
// is held until the test answers it.
class ScriptedAdapter final : public Adapter {
 public:
  struct Call {
    Invocation invocation;
    Completion done;
  };

  void invoke(const Invocation& call, AdapterHost&, Completion done) override;
  bool has_operation(std::string_view) const override { return true; }

  // Outcomes answered immediately, in order, for `operation`.
  void script(const std::string& operation, std::vector<Outcome> outcomes);
  // Answers the oldest held call.
  void answer(Outcome outcome);
  // Answers the oldest held call of `branch` (its path, e.g. "lines[L2]"); false when none.
  bool answer_branch(const std::string& branch, Outcome outcome);
  // The held calls, oldest first.
  std::vector<Invocation> held_calls() const;
  std::size_t held() const;
  std::vector<Invocation> calls() const;  // every invocation, in order

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::deque<Outcome>> scripts_;
  std::deque<Call> held_;
  std::vector<Invocation> calls_;
};

inline Outcome transient() { return Outcome::failure("Transient", "try later", true); }
inline Outcome business(const std::string& code) { return Outcome::failure(code, code, false); }
inline Outcome ok(nlohmann::json v = nlohmann::json::object()) { return Outcome::success(v); }

class Harness {
 public:
  // Deploys `yaml` on a fresh database in a temp dir, with the adapters `ext` and `builtin`,
  // and `more` (name -> adapter) besides.
  explicit Harness(const std::string& yaml,
                   std::map<std::string, std::shared_ptr<Adapter>> more = {});

  // Opens (or re-opens, as after a crash) the engine on the same database.
  void open(std::unique_ptr<Store> store = nullptr);
  void close() { engine.reset(); }

  // Deploys another workflow (a child a call step starts) on the same engine.
  void deploy(const std::string& other_yaml);
  StartResult start(nlohmann::json input, std::optional<std::string> key = std::nullopt);
  SignalResult signal(const std::string& id, const std::string& name, nlohmann::json payload,
                      nlohmann::json match = nullptr);
  ActionResult act(const std::string& id, ActionKind kind, nlohmann::json args = {},
                   const std::string& branch = "");
  void advance(Duration d);
  void idle() { engine->run_until_idle(); }

  InstanceRow row(const std::string& id);
  // The bytes of text the instance is stored as in the file, read with SQL: its context, and
  // its visits, saga and cursors (what EngineStats::held_bytes counts it for).
  std::size_t stored_bytes(const std::string& id);
  std::vector<EventRow> history(const std::string& id);
  std::vector<EventType> event_types(const std::string& id);
  nlohmann::json context(const std::string& id);

  TempDir dir;
  std::string db;
  std::string yaml;
  std::string workflow;  // the name `yaml` declares
  std::shared_ptr<ManualClock> clock;
  std::shared_ptr<ScriptedAdapter> ext;
  std::shared_ptr<AdapterRegistry> adapters;
  std::size_t max_batch_events = 0;  // taken by open(); 0: the engine's default
  std::size_t max_running = 0;       // taken by open(); 0: no bound
  std::uint64_t max_running_bytes = 0;  // taken by open(); 0: no bound
  // Taken by open(): EngineOptions::keep_waiting_bytes, keep_waiting_least and
  // keep_cursor_texts_least.
  std::uint64_t keep_waiting_bytes = EngineOptions{}.keep_waiting_bytes;
  std::uint64_t keep_waiting_least = EngineOptions{}.keep_waiting_least;
  std::uint64_t keep_cursor_texts_least = EngineOptions{}.keep_cursor_texts_least;
  std::unique_ptr<Engine> engine;
};

// Polls `check` until it holds or 10 s pass (another thread or process has to act first).
template <typename Check>
bool eventually(Check check) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    if (check()) return true;
    std::this_thread::yield();
  }
  return check();
}

// Asserts the history is seq 1..n without gaps.
void check_contiguous(const std::vector<EventRow>& events);

}  // namespace rmaflow::testing
