#include "engine/runtime/batch.hpp"

#include <algorithm>
#include <cassert>

namespace rmaflow {

namespace {

// The most events a new batch makes room for in advance.
constexpr std::size_t kEventsReserved = 8192;

}  // namespace

void Batch::touch(Instance& inst) {
  if (!inst.dirty) {
    inst.dirty = true;
    dirty_.push_back(&inst);
  }
}

std::size_t Batch::record(Instance& inst, const Cursor& at_cursor, EventType type, TimePoint at,
                          nlohmann::json data) {
  touch(inst);
  ++inst.epoch;
  inst.row.updated_at = at;
  writes_.events.push_back(EventRow{inst.row.id, ++inst.row.last_seq, type, at_cursor.step,
                                    at_cursor.branch, at, data.dump()});
  return writes_.events.size() - 1;
}

void Batch::amend(std::size_t event, const std::string& key, nlohmann::json value) {
  auto& row = writes_.events.at(event);
  auto data = nlohmann::json::parse(row.data);
  data[key] = std::move(value);
  row.data = data.dump();
}

namespace {
bool same_timer(const TimerRow& t, const std::string& id, const std::string& branch,
                const std::string& name) {
  return t.instance_id == id && t.branch == branch && t.name == name;
}
}  // namespace

// The store applies a batch's clears before its sets, so within one batch the last word on a
// (instance, branch, name) timer must be the only one left.
void Batch::set_timer(Instance& inst, const std::string& branch, const std::string& name,
                      TimePoint due) {
  touch(inst);
  std::erase_if(writes_.timers_cleared,
                [&](const TimerRow& t) { return same_timer(t, inst.row.id, branch, name); });
  writes_.timers_set.push_back(TimerRow{inst.row.id, branch, name, due});
}

void Batch::clear_timer(Instance& inst, const std::string& branch, const std::string& name) {
  touch(inst);
  std::erase_if(writes_.timers_set,
                [&](const TimerRow& t) { return same_timer(t, inst.row.id, branch, name); });
  writes_.timers_cleared.push_back(TimerRow{inst.row.id, branch, name, {}});
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

void Batch::put_job(const JobRow& job) {
  for (auto& row : writes_.jobs) {
    if (row.id == job.id) {
      row = job;
      return;
    }
  }
  writes_.jobs.push_back(job);
}

void Batch::add_command(CommandRow command) {
  writes_.commands_added.push_back(std::move(command));
}

void Batch::add_job_item(JobItemRow item) {
  writes_.job_items.push_back(std::move(item));
}

void Batch::set_attributes(const Instance& inst, nlohmann::json values) {
  writes_.attributes.push_back(AttributeUpdate{inst.row.id, std::move(values)});
}

WriteBatch Batch::take_writes(Rows rows) {
  if (rows == Rows::copied) return take_writes(copy_rows());
  lent_.clear();
  writes_.instances.reserve(dirty_.size());
  for (Instance* inst : dirty_) {
    inst->refresh_summary();
    writes_.instances.push_back(encodes_cursors(*inst) ? inst->encoded_row() : inst->lend_row());
    lent_.push_back(inst);
  }
  return take_dirty();
}

std::vector<InstanceRow> Batch::copy_rows() {
  std::vector<InstanceRow> rows;
  rows.reserve(dirty_.size());
  for (Instance* inst : dirty_) {
    inst->refresh_summary();
    rows.push_back(encodes_cursors(*inst) ? inst->encoded_row() : inst->snapshot());
  }
  return rows;
}

WriteBatch Batch::take_writes(std::vector<InstanceRow> copied) {
  assert(copied.size() == dirty_.size());
  lent_.clear();
  writes_.instances = std::move(copied);
  return take_dirty();
}

WriteBatch Batch::take_dirty() {
  for (std::size_t i = 0; i < dirty_.size(); ++i) {
    Instance* inst = dirty_[i];
    inst->dirty = false;
    auto& row = writes_.instances[i];
    row.context_unchanged = row.context.revision() == inst->context_handed_over;
    inst->context_handed_over = row.context.revision();
  }
  dirty_.clear();
  WriteBatch out = std::move(writes_);
  writes_.clear();
  // The next batch is about as large as this one: room for twice its events, so that they are
  // not moved at every growth (bounded: a burst's batch may be thousands).
  writes_.events.reserve(std::min<std::size_t>(2 * out.events.size(), kEventsReserved));
  return out;
}

void Batch::give_back(WriteBatch& writes, bool keep_writes) {
  for (std::size_t i = 0; i < lent_.size() && i < writes.instances.size(); ++i) {
    lent_[i]->take_back(writes.instances[i], keep_writes);
  }
  lent_.clear();
}

std::vector<std::function<void()>> Batch::take_effects() {
  auto out = std::move(effects_);
  effects_.clear();
  effects_.reserve(out.size());
  return out;
}

}  // namespace rmaflow
