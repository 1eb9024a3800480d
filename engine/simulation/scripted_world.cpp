#include "engine/simulation/scripted_world.hpp"

#include "engine/support/branch_path.hpp"

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

namespace {

// How closely an outcome's `branch` names the branch a call was made in (its path): -1 when it
// does not; the unfiltered outcomes match every call least; a path beats a key, a longer path a
// shorter one, and a key matching deeper in the path one matching higher up.
long specificity(const std::string& filter, const std::string& branch) {
  if (filter.empty()) return 0;
  if (filter.find('[') != std::string::npos)
    return within(branch, filter) ? 1'000'000 + static_cast<long>(filter.size()) : -1;
  auto segments = branch_segments(branch);
  for (std::size_t depth = segments.size(); depth-- > 0;)
    if (segments[depth].key == filter) return 1 + static_cast<long>(depth);
  return -1;
}

}  // namespace

const ScriptedOutcome* ScriptedWorld::next(const std::string& action, const std::string& branch) {
  auto it = scripts_.find(action);
  if (it == scripts_.end() || it->second.empty()) return nullptr;
  // The outcomes for the most specific `branch` that names this call's branch.
  const std::string* best = nullptr;
  long best_score = -1;
  for (const auto& outcome : it->second) {
    long score = specificity(outcome.branch, branch);
    if (score > best_score) best = &outcome.branch, best_score = score;
  }
  if (best == nullptr) return nullptr;
  std::vector<const ScriptedOutcome*> entries;
  for (const auto& outcome : it->second)
    if (outcome.branch == *best) entries.push_back(&outcome);
  auto& cursor = cursors_[action + "\n" + *best];
  const ScriptedOutcome* entry = entries[cursor.index];
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
  record.branch = call.branch;
  record.action = adapter + "." + call.operation;
  record.idempotency_key = call.idempotency_key;
  record.attempt = call.attempt;
  record.compensation = call.compensation;
  record.input = call.input;
  Duration latency{0};
  if (auto it = succeeded_.find(call.idempotency_key); it != succeeded_.end()) {
    record.outcome = it->second;  // a repeated key: the same answer, no second effect
  } else if (const ScriptedOutcome* scripted = next(record.action, call.branch)) {
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
