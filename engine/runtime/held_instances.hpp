// The instances the engine holds in memory (running or compensating; waiting, suspended and
// finished ones are rows only), by id, with how many there are and the bytes of context they
// hold: what EngineOptions::max_running and max_running_bytes bound.
//
// Used on the engine's thread only, except size() and bytes(), which any thread may read (the
// engine's stats, the metrics).
#pragma once

#include <atomic>
#include <cstdint>
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

  // Holds `inst` under its id, in place of any instance held under it, counted for `bytes`
  // (a start's input text) until recount() sees its context written.
  Instance& hold(std::unique_ptr<Instance> inst, std::size_t bytes) {
    inst->held_bytes = bytes;
    auto& slot = map_[inst->row.id];
    move_bytes(slot ? slot->held_bytes : 0, bytes);
    slot = std::move(inst);
    count_ = map_.size();
    return *slot;
  }
  // An instance loaded from its row: counted for the text its context was read from.
  Instance& hold_loaded(std::unique_ptr<Instance> inst) {
    auto bytes = inst->row.context.text().size();
    return hold(std::move(inst), bytes);
  }

  // After a commit of `written`: each instance held whose context it wrote, and which still
  // holds that very value, is counted for that text from now on (encoded for the commit, so
  // asking for it costs nothing). One whose context changed since is counted at its next.
  void recount(const std::vector<InstanceRow>& written) {
    for (const auto& row : written) {
      if (row.context_unchanged) continue;
      Instance* inst = find(row.id);
      if (inst == nullptr || !inst->row.context.shares(row.context)) continue;
      const auto bytes = row.context.text().size();
      move_bytes(inst->held_bytes, bytes);
      inst->held_bytes = bytes;
    }
  }

  void drop(const std::string& id) {
    if (auto it = map_.find(id); it != map_.end()) drop(it);
  }
  // Drops the instance held under `id` if nothing happened to it since `epoch` (Instance::epoch).
  void drop_if_unchanged(const std::string& id, std::uint64_t epoch) {
    if (auto it = map_.find(id); it != map_.end() && it->second->epoch == epoch) drop(it);
  }
  // Drops every instance whose id `pred` holds true for.
  template <typename Pred>
  void drop_where(Pred pred) {
    for (auto it = map_.begin(); it != map_.end();) {
      if (pred(it->first)) {
        it = drop(it);
      } else {
        ++it;
      }
    }
  }

  std::size_t size() const { return count_; }
  std::uint64_t bytes() const { return bytes_; }

 private:
  using Map = std::unordered_map<std::string, std::unique_ptr<Instance>>;

  // One instance's count moved from `before` to `after` bytes, in one step, so that a reader
  // never sees the total without it (unsigned arithmetic wraps: a fall adds its complement).
  void move_bytes(std::uint64_t before, std::uint64_t after) {
    bytes_.fetch_add(after - before, std::memory_order_relaxed);
  }

  Map::iterator drop(Map::iterator it) {
    move_bytes(it->second->held_bytes, 0);
    auto next = map_.erase(it);
    count_ = map_.size();
    return next;
  }

  Map map_;
  std::atomic<std::size_t> count_{0};
  std::atomic<std::uint64_t> bytes_{0};
};

}  // namespace rmaflow
