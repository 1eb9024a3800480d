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
  // A node holds no shard yet: it takes up their instances as it takes them (adopt()).
  std::vector<InstanceRow> rows;
  {
    std::lock_guard lock(store_mu_);
    rows = store_->active_instances();
  }
  auto ids = load_active(std::move(rows), kAllShards);
  quarantine_suspect(store_->held_shards());
  timers_->refill();
  resume_loaded(std::move(ids));
  apply_pending_commands(std::numeric_limits<std::size_t>::max());
  load_jobs(store_->held_shards());
  commit_->request();
}

std::vector<std::string> EngineImpl::load_active(std::vector<InstanceRow> rows, ShardMask shards) {
  std::vector<std::string> ids;
  for (auto& row : rows) {
    if (!holds(shards, row.id) || held_.contains(row.id)) continue;
    ids.push_back(held_.hold_loaded(load_instance(std::move(row))).row.id);
  }
  return ids;
}

void EngineImpl::resume_loaded(std::vector<std::string> ids) {
  // Retry timers belong to instances in memory: their due time is the cursor's deadline. Wait
  // timers (of instances that are not in memory) come in through the window.
  for (const auto& id : ids) {
    for (const auto& c : held_.find(id)->cursors) {
      if (c.phase == Phase::backoff && c.deadline) {
        timers_->push(TimerEntry{*c.deadline, TimerKind::retry, id, c.branch, {}});
      }
    }
  }
  // In id order (the order they started): calls that wait behind an adapter's limits queue
  // again as they were made.
  std::sort(ids.begin(), ids.end());
  for (const auto& id : ids) {
    Instance* inst = held_.find(id);
    if (inst == nullptr) continue;
    auto marked = processing(id);
    machine_.resume(*inst);
  }
}

void EngineImpl::quarantine_suspect(ShardMask shards) {
  auto suspect = quarantine_ ? quarantine_->suspect() : std::nullopt;
  if (!suspect || !holds(shards, *suspect)) return;  // a node: when it takes the shard
  if (Instance* inst = acquire(*suspect)) {
    machine_.quarantine(*inst, "the engine stopped twice in a row while processing this "
                               "instance; it is suspended so that the others can run: retry it "
                               "once the cause is fixed, or skip or cancel it");
    settle(*inst);
  }
  quarantine_->cleared();
}

}  // namespace rmaflow
