#include "engine/simulation/scripted_world.hpp"

namespace rmaflow::simulation {

namespace {

Outcome to_outcome(const ScriptedOutcome& o) {
  if (o.fail.empty()) return Outcome::success(o.result.value_or(nlohmann::json::object()));
  bool retryable = o.retryable.value_or(o.fail == kTransient || o.fail == kTimeout);
  return Outcome::failure(o.fail, o.message.empty() ? "scripted failure" : o.message, retryable);
}

}  // namespace

class ScriptedWorld::NamedAdapter final : public Adapter {
 public:
  NamedAdapter(ScriptedWorld& world, std::string name) : world_(world), name_(std::move(name)) {}
  void invoke(const Invocation& call, AdapterHost& host, Completion done) override {
    world_.invoke(name_, call, host, std::move(done));
  }
  bool has_operation(std::string_view) const override { return true; }

 private:
  ScriptedWorld& world_;
  std::string name_;
};

std::shared_ptr<Adapter> ScriptedWorld::adapter(const std::string& name) {
  return std::make_shared<NamedAdapter>(*this, name);
}

const ScriptedOutcome* ScriptedWorld::next(const std::string& action) {
  auto it = scripts_.find(action);
  if (it == scripts_.end() || it->second.empty()) return nullptr;
  auto& cursor = cursors_[action];
  const auto& entries = it->second;
  const ScriptedOutcome* entry = &entries[cursor.index];
  // Each entry answers `times` calls; the last one answers every call after that.
  if (++cursor.used >= entry->times && cursor.index + 1 < entries.size()) {
    ++cursor.index;
    cursor.used = 0;
  }
  return entry;
}

void ScriptedWorld::invoke(const std::string& adapter, const Invocation& call, AdapterHost& host,
                           Completion done) {
  SimulatedCall record;
  record.at = host.clock().now();
  record.step = call.step;
  record.action = adapter + "." + call.operation;
  record.idempotency_key = call.idempotency_key;
  record.attempt = call.attempt;
  record.compensation = call.compensation;
  record.input = call.input;
  Duration latency{0};
  if (auto it = succeeded_.find(call.idempotency_key); it != succeeded_.end()) {
    record.outcome = it->second;  // a repeated key: the same answer, no second effect
  } else if (const ScriptedOutcome* scripted = next(record.action)) {
    record.outcome = to_outcome(*scripted);
    latency = scripted->latency;
  } else {
    record.outcome = Outcome::success(nlohmann::json::object());
    record.scripted = false;
  }
  if (record.outcome.ok()) succeeded_.emplace(call.idempotency_key, record.outcome);
  Outcome answer = record.outcome;
  calls_.push_back(std::move(record));
  if (latency.count() == 0) {
    done(std::move(answer));
    return;
  }
  host.call_at(host.clock().now() + latency,
               [done = std::move(done), answer = std::move(answer)]() mutable {
                 done(std::move(answer));
               });
}

}  // namespace rmaflow::simulation
