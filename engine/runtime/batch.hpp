// The transitions being gathered for the next commit (group commit), and what may happen
// only once they are durable.
//
// Everything an instance does is recorded here first; the engine commits the batch in one
// transaction and only then runs the deferred effects (adapter calls, answers to callers,
// in-memory timers). Instance rows are written once per batch however many transitions the
// instance made in it.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/runtime/instance.hpp"
#include "rmaflow/store.hpp"

namespace rmaflow {

class Batch {
 public:
  // Appends an event to the instance's history (its next seq) at `at`, at the cursor's step
  // and branch; returns its place in this batch, for amend().
  std::size_t record(Instance& inst, const Cursor& at_cursor, EventType type, TimePoint at,
                     nlohmann::json data);
  // The same on the main line.
  std::size_t record(Instance& inst, EventType type, TimePoint at, nlohmann::json data) {
    return record(inst, inst.main(), type, at, std::move(data));
  }
  // Sets `key` in the data of an event recorded in this batch (an operator action's "after",
  // known only once the action's own transitions are recorded).
  void amend(std::size_t event, const std::string& key, nlohmann::json value);
  // Marks the instance's row for writing without an event (e.g. a context patch).
  void touch(Instance& inst);
  void set_timer(Instance& inst, const std::string& branch, const std::string& name,
                 TimePoint due);
  void clear_timer(Instance& inst, const std::string& branch, const std::string& name);
  void add_signal(Instance& inst, SignalRow signal);
  void consume_signal(Instance& inst, const std::string& idempotency_key, TimePoint at);
  // True when this batch already adds a signal with this key to the instance.
  bool adds_signal(const std::string& instance_id, const std::string& idempotency_key) const;
  void command_done(std::int64_t id, TimePoint at, std::string outcome);
  // Writes a bulk job's row (once per batch: a later put replaces an earlier one).
  void put_job(const JobRow& job);
  void add_job_item(JobItemRow item);
  // Queues a command for another node to apply (WriteBatch::commands_added).
  void add_command(CommandRow command);
  // Replaces what is indexed of the instance's search attributes with `values`.
  void set_attributes(const Instance& inst, nlohmann::json values);
  // Runs `effect` after the batch is committed, in the order added.
  void then(std::function<void()> effect) { effects_.push_back(std::move(effect)); }

  bool empty() const { return writes_.empty() && effects_.empty() && dirty_.empty(); }
  // Rows to write, as opposed to effects only.
  bool has_writes() const { return !writes_.empty() || !dirty_.empty(); }
  std::size_t event_count() const { return writes_.events.size(); }

  // How take_writes() puts an instance's row in: `lent`, holding its instance's cursor inputs
  // rather than copies, for a commit that runs before anything else touches the instance,
  // give_back() returning them once it has; `copied`, for a commit written on another thread
  // while the engine goes on. Either way the context is not copied but shared with the
  // instance (SharedJson): deep copies of it, and their destruction, cost a fifth of a commit.
  enum class Rows { lent, copied };
  // Either way, an instance whose state was last stored as at least `state_bytes` puts its
  // cursors in already encoded (Instance::encoded_row()). Unset: none does.
  void encode_cursors_from(std::uint64_t state_bytes) { encode_cursors_from_ = state_bytes; }
  // Puts the dirty instances' rows into the write batch and hands both over; the Batch is
  // empty afterwards.
  WriteBatch take_writes(Rows rows);
  // The dirty instances' rows, copied as take_writes(Rows::copied) would copy them: taken
  // ahead, while the engine thread waits anyway, for a batch that nothing changes before it
  // is taken with them.
  std::vector<InstanceRow> copy_rows();
  // take_writes(Rows::copied) with the rows copy_rows() returned, the batch unchanged since.
  WriteBatch take_writes(std::vector<InstanceRow> copied);
  // Returns what take_writes() lent to `writes`: moved back after a commit, copied when the
  // writes are kept to be committed again.
  void give_back(WriteBatch& writes, bool keep_writes);
  std::vector<std::function<void()>> take_effects();

 private:
  // Hands the writes over with the rows put in; nothing is dirty afterwards.
  WriteBatch take_dirty();

  bool encodes_cursors(const Instance& inst) const {
    return inst.held_state_bytes >= encode_cursors_from_;
  }

  WriteBatch writes_;
  std::uint64_t encode_cursors_from_ = std::numeric_limits<std::uint64_t>::max();
  std::vector<Instance*> dirty_;
  std::vector<Instance*> lent_;  // the instance of each row of the writes handed over
  std::vector<std::function<void()>> effects_;
};

}  // namespace rmaflow
