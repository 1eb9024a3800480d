#include "engine/runtime/batch.hpp"

#include <algorithm>

namespace rmaflow {

void Batch::touch(Instance& inst) {
  if (!inst.dirty) {
    inst.dirty = true;
    dirty_.push_back(&inst);
  }
}

std::size_t Batch::record(Instance& inst, EventType type, TimePoint at, nlohmann::json data) {
  touch(inst);
  inst.row.updated_at = at;
  writes_.events.push_back(
      EventRow{inst.row.id, ++inst.row.last_seq, type, inst.row.step, at, data.dump()});
  return writes_.events.size() - 1;
}

void Batch::amend(std::size_t event, const std::string& key, nlohmann::json value) {
  auto& row = writes_.events.at(event);
  auto data = nlohmann::json::parse(row.data);
  data[key] = std::move(value);
  row.data = data.dump();
}

// The store applies a batch's clears before its sets, so within one batch the last word on a
// (instance, name) timer must be the only one left.
void Batch::set_timer(Instance& inst, const std::string& name, TimePoint due) {
  touch(inst);
  std::erase_if(writes_.timers_cleared,
                [&](const auto& c) { return c.first == inst.row.id && c.second == name; });
  writes_.timers_set.push_back(TimerRow{inst.row.id, name, due});
}

void Batch::clear_timer(Instance& inst, const std::string& name) {
  touch(inst);
  std::erase_if(writes_.timers_set,
                [&](const TimerRow& t) { return t.instance_id == inst.row.id && t.name == name; });
  writes_.timers_cleared.emplace_back(inst.row.id, name);
}

void Batch::add_signal(Instance& inst, SignalRow signal) {
  touch(inst);
  writes_.signals_added.push_back(std::move(signal));
}

void Batch::consume_signal(Instance& inst, const std::string& idempotency_key, TimePoint at) {
  touch(inst);
  // A signal added and consumed in the same batch is stored consumed.
  for (auto& added : writes_.signals_added) {
    if (added.instance_id == inst.row.id && added.idempotency_key == idempotency_key) {
      added.consumed_at = at;
      return;
    }
  }
  writes_.signals_consumed.push_back(SignalConsumed{inst.row.id, idempotency_key, at});
}

bool Batch::adds_signal(const std::string& instance_id, const std::string& idempotency_key) const {
  return std::any_of(writes_.signals_added.begin(), writes_.signals_added.end(), [&](const auto& s) {
    return s.instance_id == instance_id && s.idempotency_key == idempotency_key;
  });
}

void Batch::command_done(std::int64_t id, TimePoint at, std::string outcome) {
  writes_.commands_done.push_back(CommandDone{id, at, std::move(outcome)});
}

WriteBatch Batch::take_writes() {
  writes_.instances.reserve(dirty_.size());
  for (Instance* inst : dirty_) {
    writes_.instances.push_back(inst->snapshot());
    inst->dirty = false;
  }
  dirty_.clear();
  WriteBatch out = std::move(writes_);
  writes_.clear();
  return out;
}

std::vector<std::function<void()>> Batch::take_effects() {
  auto out = std::move(effects_);
  effects_.clear();
  return out;
}

}  // namespace rmaflow
