// Recovery: opening an engine on a database resumes every instance that was making progress
// when the process stopped. An attempt that was started but has no recorded outcome is invoked
// again with the same idempotency key (or, if its deadline passed meanwhile, fails with
// Timeout); a retry whose timer is due fires at once, a later one is re-armed; wait timers come
// in through the timer window; commands queued while no engine ran are applied.
#include <algorithm>
#include <limits>

#include "engine/runtime/engine_impl.hpp"

namespace rmaflow {

void EngineImpl::recover() {
  std::vector<InstanceRow> rows;
  {
    std::lock_guard lock(store_mu_);
    rows = store_->active_instances();
  }
  for (auto& row : rows) {
    auto id = row.id;
    active_.emplace(id, load_instance(std::move(row)));
  }
  quarantine_suspect();
  // Retry timers belong to instances in memory: their due time is the cursor's deadline. Wait
  // timers (of instances that are not in memory) come in through the window.
  for (auto& [id, inst] : active_) {
    for (const auto& c : inst->cursors) {
      if (c.phase == Phase::backoff && c.deadline) {
        timers_->push(TimerEntry{*c.deadline, TimerKind::retry, id, c.branch, {}});
      }
    }
  }
  timers_->refill();
  // In id order (the order they started): calls that wait behind an adapter's limits queue
  // again as they were made.
  std::vector<std::string> ids;
  for (const auto& [id, inst] : active_) ids.push_back(id);
  std::sort(ids.begin(), ids.end());
  for (const auto& id : ids) {
    auto marked = processing(id);
    machine_.resume(*active_.at(id));
  }
  active_count_ = active_.size();
  apply_pending_commands(std::numeric_limits<std::size_t>::max());
  load_jobs();
  commit_->request();
}

void EngineImpl::quarantine_suspect() {
  auto suspect = quarantine_ ? quarantine_->suspect() : std::nullopt;
  if (!suspect) return;
  if (Instance* inst = acquire(*suspect)) {
    machine_.quarantine(*inst, "the engine stopped twice in a row while processing this "
                               "instance; it is suspended so that the others can run: retry it "
                               "once the cause is fixed, or skip or cancel it");
    settle(*inst);
  }
  quarantine_->cleared();
}

}  // namespace rmaflow
