#include "tests/runtime/harness.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>

#include <algorithm>

namespace rmaflow::testing {

void ScriptedAdapter::invoke(const Invocation& call, AdapterHost&, Completion done) {
  std::unique_lock lock(mu_);
  calls_.push_back(call);
  auto& script = scripts_[call.operation];
  if (!script.empty()) {
    auto outcome = script.front();
    script.pop_front();
    lock.unlock();
    done(outcome);
    return;
  }
  held_.push_back(Call{call, std::move(done)});
}

void ScriptedAdapter::script(const std::string& operation, std::vector<Outcome> outcomes) {
  std::lock_guard lock(mu_);
  for (auto& o : outcomes) scripts_[operation].push_back(std::move(o));
}

void ScriptedAdapter::answer(Outcome outcome) {
  Call call;
  {
    std::lock_guard lock(mu_);
    REQUIRE(!held_.empty());
    call = std::move(held_.front());
    held_.pop_front();
  }
  call.done(std::move(outcome));
}

bool ScriptedAdapter::answer_branch(const std::string& branch, Outcome outcome) {
  Call call;
  {
    std::lock_guard lock(mu_);
    auto it = std::find_if(held_.begin(), held_.end(),
                           [&](const Call& c) { return c.invocation.branch == branch; });
    if (it == held_.end()) return false;
    call = std::move(*it);
    held_.erase(it);
  }
  call.done(std::move(outcome));
  return true;
}

std::vector<Invocation> ScriptedAdapter::held_calls() const {
  std::lock_guard lock(mu_);
  std::vector<Invocation> out;
  for (const auto& c : held_) out.push_back(c.invocation);
  return out;
}

std::size_t ScriptedAdapter::held() const {
  std::lock_guard lock(mu_);
  return held_.size();
}

std::vector<Invocation> ScriptedAdapter::calls() const {
  std::lock_guard lock(mu_);
  return calls_;
}

Harness::Harness(const std::string& workflow_yaml,
                 std::map<std::string, std::shared_ptr<Adapter>> more)
    : db(dir.file("test.db")),
      yaml(workflow_yaml),
      clock(std::make_shared<ManualClock>(from_millis(1'800'000'000'000))),
      ext(std::make_shared<ScriptedAdapter>()),
      adapters(std::make_shared<AdapterRegistry>()) {
  adapters->add("ext", ext);
  for (auto& [name, adapter] : more) adapters->add(name, std::move(adapter));
  open();
  auto loaded = load_definition(yaml, "test.yaml");
  for (const auto& d : loaded.diagnostics) MESSAGE(format_diagnostic(d));
  REQUIRE(loaded.ok());
  workflow = loaded.definition->name;
  engine->deploy(loaded.definition);
}

void Harness::open(std::unique_ptr<Store> store) {
  engine.reset();
  EngineOptions options;
  options.db_path = db;
  options.store = std::move(store);
  options.clock = clock;
  options.adapters = adapters;
  options.seed = 7;
  if (max_batch_events > 0) options.max_batch_events = max_batch_events;
  options.max_running = max_running;
  options.max_running_bytes = max_running_bytes;
  options.keep_waiting_bytes = keep_waiting_bytes;
  options.keep_waiting_least = keep_waiting_least;
  options.keep_cursor_texts_least = keep_cursor_texts_least;
  engine = Engine::open(std::move(options));
}

void Harness::deploy(const std::string& other_yaml) {
  auto loaded = load_definition(other_yaml, "other.yaml");
  for (const auto& d : loaded.diagnostics) MESSAGE(format_diagnostic(d));
  REQUIRE(loaded.ok());
  engine->deploy(loaded.definition);
}

SignalResult Harness::signal(const std::string& id, const std::string& name,
                             nlohmann::json payload, nlohmann::json match) {
  SignalRequest request;
  request.instance_id = id;
  request.name = name;
  request.payload = std::move(payload);
  request.match = std::move(match);
  auto future = engine->signal(std::move(request));
  engine->run_until_idle();
  return future.get();
}

ActionResult Harness::act(const std::string& id, ActionKind kind, nlohmann::json args,
                          const std::string& branch) {
  OperatorAction action;
  action.instance_id = id;
  action.kind = kind;
  action.actor = "ops";
  action.reason = "test";
  action.args = args.is_null() ? nlohmann::json::object() : std::move(args);
  action.branch = branch;
  auto future = engine->act(std::move(action));
  engine->run_until_idle();
  return future.get();
}

StartResult Harness::start(nlohmann::json input, std::optional<std::string> key) {
  StartRequest request;
  request.workflow = workflow;
  request.input = std::move(input);
  request.business_key = std::move(key);
  auto future = engine->start(std::move(request));
  engine->run_until_idle();
  return future.get();
}

void Harness::advance(Duration d) {
  clock->advance(d);
  engine->run_until_idle();
}

InstanceRow Harness::row(const std::string& id) {
  auto r = engine->store().get_instance(id);
  REQUIRE(r.has_value());
  return *r;
}

std::size_t Harness::stored_bytes(const std::string& id) {
  SQLite::Database file(db, SQLite::OPEN_READONLY);
  SQLite::Statement query(
      file,
      "SELECT length(CAST(c.context AS BLOB)) + length(CAST(i.visits AS BLOB)) + "
      "length(CAST(i.saga AS BLOB)) + length(CAST(i.cursors AS BLOB)) "
      "FROM instances i JOIN instance_contexts c ON c.instance_id = i.id WHERE i.id = ?");
  query.bind(1, id);
  REQUIRE(query.executeStep());
  return static_cast<std::size_t>(query.getColumn(0).getInt64());
}

std::vector<EventRow> Harness::history(const std::string& id) {
  return engine->store().history(id);
}

std::vector<EventType> Harness::event_types(const std::string& id) {
  std::vector<EventType> out;
  for (const auto& e : history(id)) out.push_back(e.type);
  return out;
}

nlohmann::json Harness::context(const std::string& id) { return row(id).context; }

void check_contiguous(const std::vector<EventRow>& events) {
  for (std::size_t i = 0; i < events.size(); ++i) CHECK(events[i].seq == static_cast<std::int64_t>(i + 1));
}

}  // namespace rmaflow::testing
