// The instances the engine holds in memory (running or compensating; waiting, suspended and
// finished ones are rows only), by id, with how many there are and the bytes of text they are
// stored as (their contexts, and their cursors, visits and sagas): what
// EngineOptions::max_running and max_running_bytes bound.
//
// Aside from them, big waiting instances kept decoded (EngineOptions::keep_waiting_bytes): one
// is its committed row, already read back, and is held again in place of reading that row when
// something happens to it. Holding an instance under its id forgets any kept copy, so a kept
// one is never older than the row: the engine is the only writer of its instances' rows, and
// writes them from instances it holds.
//
// Used on the engine's thread only, except size(), bytes() and kept_bytes(), which any thread
// may read (the engine's stats, the metrics).
#pragma once

#include <atomic>
#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/runtime/instance.hpp"

namespace rmaflow {

class HeldInstances {
 public:
  Instance* find(const std::string& id) const {
    auto it = map_.find(id);
    return it == map_.end() ? nullptr : it->second.get();
  }
  bool contains(const std::string& id) const { return map_.contains(id); }

  // Holds `inst` under its id, in place of any instance held under it, counted for
  // `context_bytes` (a start's input text) until recount() sees it written.
  Instance& hold(std::unique_ptr<Instance> inst, std::size_t context_bytes,
                 std::size_t state_bytes = 0) {
    inst->held_context_bytes = context_bytes;
    inst->held_state_bytes = state_bytes;
    forget_kept(inst->row.id);
    auto& slot = map_[inst->row.id];
    move_bytes(slot ? held_bytes(*slot) : 0, context_bytes + state_bytes);
    slot = std::move(inst);
    count_ = map_.size();
    return *slot;
  }
  // An instance loaded from its row: counted for the text its row was read from.
  Instance& hold_loaded(std::unique_ptr<Instance> inst) {
    const auto context = inst->row.context.text().size();
    const auto state = inst->row.state_bytes;
    return hold(std::move(inst), context, state);
  }

  // After a commit of `written`, whose rows the store stored with `state_bytes` of state
  // each (CommitReceipt): each instance held is counted for the state written, and, when the
  // commit wrote its context and it still holds that very value, for that text (encoded for
  // the commit, so asking for it costs nothing; one whose context changed since is counted
  // at its next commit).
  void recount(const std::vector<InstanceRow>& written,
               const std::vector<std::size_t>& state_bytes) {
    for (std::size_t i = 0; i < written.size(); ++i) {
      const auto& row = written[i];
      Instance* inst = find(row.id);
      if (inst == nullptr) continue;
      const auto before = held_bytes(*inst);
      if (i < state_bytes.size()) inst->held_state_bytes = state_bytes[i];
      if (!row.context_unchanged && inst->row.context.shares(row.context)) {
        inst->held_context_bytes = row.context.text().size();
      }
      move_bytes(before, held_bytes(*inst));
    }
  }

  void drop(const std::string& id) {
    if (auto it = map_.find(id); it != map_.end()) drop(it);
  }
  // Lets go of the instance held under `id` if nothing happened to it since `epoch`
  // (Instance::epoch), its row committed: kept decoded when it is not finished and its row is
  // at least `least` bytes (keep_waiting()), dropped otherwise.
  void let_go_if_unchanged(const std::string& id, std::uint64_t epoch) {
    auto it = map_.find(id);
    if (it == map_.end() || it->second->epoch != epoch) return;
    const Instance& inst = *it->second;
    const auto bytes = held_bytes(inst);
    if (keep_budget_ == 0 || is_final(inst.row.status) || bytes < keep_least_ ||
        bytes > keep_budget_) {
      drop(it);
      return;
    }
    move_bytes(bytes, 0);
    kept_.push_front(std::move(it->second));
    kept_by_id_[id] = kept_.begin();
    kept_bytes_ += bytes;
    map_.erase(it);
    count_ = map_.size();
    while (kept_bytes_ > keep_budget_) forget_kept(kept_.back()->row.id);
  }
  // Keeps waiting instances whose rows are at least `least` bytes decoded, up to `budget`
  // bytes of them (as max_running_bytes counts), the oldest forgotten first; 0 keeps none.
  void keep_waiting(std::uint64_t budget, std::uint64_t least) {
    keep_budget_ = budget;
    keep_least_ = least;
    while (kept_bytes_ > keep_budget_) forget_kept(kept_.back()->row.id);
  }
  // The instance kept decoded for `id`, handed back to be held again, or null.
  std::unique_ptr<Instance> take_kept(const std::string& id) {
    auto it = kept_by_id_.find(id);
    if (it == kept_by_id_.end()) return nullptr;
    auto inst = std::move(*it->second);
    kept_bytes_ -= held_bytes(*inst);
    kept_.erase(it->second);
    kept_by_id_.erase(it);
    return inst;
  }
  // Drops every instance whose id `pred` holds true for, and forgets those kept.
  template <typename Pred>
  void drop_where(Pred pred) {
    for (auto it = map_.begin(); it != map_.end();) {
      if (pred(it->first)) {
        it = drop(it);
      } else {
        ++it;
      }
    }
    std::vector<std::string> doomed;
    for (const auto& [id, at] : kept_by_id_) {
      if (pred(id)) doomed.push_back(id);
    }
    for (const auto& id : doomed) forget_kept(id);
  }

  std::size_t size() const { return count_; }
  std::uint64_t bytes() const { return bytes_; }
  // The bytes of text the instances kept decoded are stored as.
  std::uint64_t kept_bytes() const { return kept_bytes_; }

 private:
  using Map = std::unordered_map<std::string, std::unique_ptr<Instance>>;

  // One instance's count moved from `before` to `after` bytes, in one step, so that a reader
  // never sees the total without it (unsigned arithmetic wraps: a fall adds its complement).
  void move_bytes(std::uint64_t before, std::uint64_t after) {
    bytes_.fetch_add(after - before, std::memory_order_relaxed);
  }

  static std::uint64_t held_bytes(const Instance& inst) {
    return inst.held_context_bytes + inst.held_state_bytes;
  }

  void forget_kept(const std::string& id) {
    if (kept_by_id_.empty()) return;
    take_kept(id);
  }

  Map::iterator drop(Map::iterator it) {
    move_bytes(held_bytes(*it->second), 0);
    auto next = map_.erase(it);
    count_ = map_.size();
    return next;
  }

  Map map_;
  std::atomic<std::size_t> count_{0};
  std::atomic<std::uint64_t> bytes_{0};
  // Kept decoded, the most recently let go first.
  std::list<std::unique_ptr<Instance>> kept_;
  std::unordered_map<std::string, std::list<std::unique_ptr<Instance>>::iterator> kept_by_id_;
  std::atomic<std::uint64_t> kept_bytes_{0};
  std::uint64_t keep_budget_ = 0;
  std::uint64_t keep_least_ = 0;
};

}  // namespace rmaflow
