// An unfinished instance as the engine holds it in memory while it can make progress.
//
// The row is what the store has (or will have once the current batch commits), except its
// cursors: in memory they live in `cursors` (a CursorList) and are copied into the row when a
// batch is cut.
//
// A cursor is one position: the main line, or a branch of a fan-out step. Each has its own
// step, phase, attempt, deadline and generation; the instance's context is shared, and a
// branch's own keys (its element, .branch, its results) live in its scope.
#pragma once

#include <chrono>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "engine/runtime/timer_queue.hpp"
#include "engine/store/state_codec.hpp"
#include "engine/support/branch_path.hpp"
#include "rmaflow/definition.hpp"
#include "rmaflow/store.hpp"

namespace rmaflow {

struct LiveCursor : Cursor {
  // Bumped whenever the cursor moves on; an adapter outcome or timer carrying an older
  // generation is stale and ignored.
  std::uint64_t generation = 0;
  // Its text as last written, in a big instance (Instance::encoded_row()).
  std::unique_ptr<store::KeptCursorText> kept_text;
  // The timeout of the attempt out, taken out of the timers when its answer comes.
  std::optional<TimerKey> timeout_timer;
};

// An instance's cursors: the main line first, then the branches in the order they were made. A
// list, so that a reference to one stays valid while others are added and removed, and found by
// branch through an index: a return may run a branch per line, and have ten thousand lines. A
// cursor's branch does not change while the list holds it.
//
// The list also keeps, for each branch that holds a fan-out, its branches in the order they
// were made (children()): a join and a branch's end then look at those alone, not at every
// cursor of the instance, so that a step of one of n branches does not cost O(n).
class CursorList {
 public:
  using iterator = std::list<LiveCursor>::iterator;
  using const_iterator = std::list<LiveCursor>::const_iterator;

  // The branches directly under one branch. `changed` is new whenever the set changes (a
  // number no set of this list had before). `first_open` and `first_pending` are hints for
  // StepMachine::join, valid while `changed` is: no cursor before them is open (not ended),
  // or pending, as far as the join has looked.
  struct Children {
    std::vector<LiveCursor*> cursors;
    std::uint64_t changed = 0;
    std::size_t first_open = 0;
    std::size_t first_pending = 0;
  };

  CursorList() = default;
  CursorList(const CursorList&) = delete;
  CursorList& operator=(const CursorList&) = delete;
  // The nodes move, and the indexes with them; where find_remembered() looked last does not.
  CursorList(CursorList&& other) noexcept
      : list_(std::move(other.list_)),
        by_branch_(std::move(other.by_branch_)),
        children_(std::move(other.children_)),
        changes_(other.changes_) {
    other.hinted_ = false;
  }
  CursorList& operator=(CursorList&& other) noexcept {
    list_ = std::move(other.list_);
    by_branch_ = std::move(other.by_branch_);
    children_ = std::move(other.children_);
    changes_ = other.changes_;
    hinted_ = false;
    other.hinted_ = false;
    return *this;
  }
  ~CursorList() = default;

  iterator begin() { return list_.begin(); }
  iterator end() { return list_.end(); }
  const_iterator begin() const { return list_.begin(); }
  const_iterator end() const { return list_.end(); }
  std::size_t size() const { return list_.size(); }
  LiveCursor& front() { return list_.front(); }
  const LiveCursor& front() const { return list_.front(); }

  // Adds a cursor at the end. Its branch is not one the list holds (a fan-out's keys are
  // unique).
  LiveCursor& push_back(LiveCursor cursor);
  // Removes each cursor `remove(const LiveCursor&)` is true for.
  template <class Predicate>
  void remove_if(Predicate remove) {
    std::vector<iterator> doomed;
    for (auto it = list_.begin(); it != list_.end(); ++it) {
      if (remove(std::as_const(*it))) doomed.push_back(it);
    }
    if (!doomed.empty()) erase(doomed);
  }
  // The cursor at `branch` ("" is the main line), or null.
  LiveCursor* find(const std::string& branch);
  const LiveCursor* find(const std::string& branch) const;
  // The branches directly under `parent` ("" for the top-level ones), or null when it has none.
  Children* children(const std::string& parent);
  // Whether any cursor lies inside `branch` (below it, not at it).
  bool has_descendants(const std::string& branch) const;
  // A cursor `match` is true for, or null. It looks first where the last call found one, then
  // on from there and round: a branch that moves on usually still matches, and the next
  // matching one is usually the next branch.
  template <class Predicate>
  const LiveCursor* find_remembered(Predicate match) const {
    auto from = hinted_ ? hint_ : list_.begin();
    for (auto it = from; it != list_.end(); ++it) {
      if (match(*it)) return remember(it);
    }
    for (auto it = list_.begin(); it != from; ++it) {
      if (match(*it)) return remember(it);
    }
    return nullptr;
  }

 private:
  void erase(const std::vector<iterator>& doomed);
  const LiveCursor* remember(const_iterator it) const {
    hint_ = it;
    hinted_ = true;
    return &*it;
  }

  std::list<LiveCursor> list_;
  std::unordered_map<std::string, LiveCursor*> by_branch_;
  // By parent branch; ordered, so that has_descendants() finds a branch's nested ones by prefix.
  std::map<std::string, Children> children_;
  std::uint64_t changes_ = 0;  // the last Children::changed given
  mutable const_iterator hint_;
  mutable bool hinted_ = false;
};

struct Instance {
  InstanceRow row;  // row.cursors is empty while in memory: see `cursors`
  CursorList cursors;  // the main line first
  std::shared_ptr<const Definition> definition;
  // Bumped on every transition; an instance is dropped from memory after a commit only if
  // nothing happened to it since the drop was asked for.
  std::uint64_t epoch = 0;
  // What HeldInstances counts it for: its context's text and its state's (cursors, visits and
  // saga, as last stored).
  std::size_t held_context_bytes = 0;
  std::size_t held_state_bytes = 0;
  bool dirty = false;  // has changes in the batch being built
  // The revision of the context the last batch handed to a commit carried (0: none yet).
  // Batches commit in the order they are handed over (a failed one is kept and tried again
  // first) or not at all, so a row whose context is still at it needs no new copy of it
  // written (InstanceRow::context_unchanged).
  std::uint64_t context_handed_over = 0;
  // Signals received and not yet consumed, oldest first; loaded from the store on first need.
  std::vector<SignalRow> pending_signals;
  bool signals_loaded = false;
  // When the last adapter outcome reached the engine (for the per-step latency measure).
  std::chrono::steady_clock::time_point outcome_at{};
  // view()'s copy for a branch: the context at revision `scratch_revision`, with the keys in
  // `scratch_keys` laid over it by the last branch viewed.
  mutable nlohmann::json scratch;
  mutable std::uint64_t scratch_revision = 0;
  mutable std::vector<std::string> scratch_keys;
  std::vector<std::string> joins_running;  // fan-out holders whose join is on the stack
  // Its search attributes as last written (Definition::attributes); null: not known in this
  // process yet.
  nlohmann::json attributes;
  // While a redrive enters its fan-out step: the branches it keeps, by key ({status, output}).
  std::map<std::string, nlohmann::json> kept_branches;

  LiveCursor& main() { return cursors.front(); }
  const LiveCursor& main() const { return cursors.front(); }
  // The cursor at `branch` ("" is the main line), or null.
  LiveCursor* find(const std::string& branch);
  const LiveCursor* find(const std::string& branch) const;
  // The cursor at `branch`; it must exist.
  LiveCursor& at(const std::string& branch);

  // The step a cursor stands at. The definition is validated, so the name always resolves.
  const Step& step(const Cursor& c) const { return *definition->find(c.step); }
  // The key its visits are counted under: the step, then each enclosing branch's key:
  // "inspect[L1]", nested "check[L1][P2]".
  static std::string visit_key(const Cursor& c, const std::string& step);
  // Whether a visit key counts a main-line step's entries (a step name has no "[").
  static bool on_main_line(std::string_view visit_key) {
    return visit_key.find('[') == std::string_view::npos;
  }
  int visit(const Cursor& c) const;
  // <instance>:<step>[<branch key>...]:<visit>: stable across retries and restarts, fresh for
  // each entry into the step. While the cursor undoes a step: that step's key + ":compensate".
  std::string idempotency_key(const Cursor& c) const;
  // The key of the call a compensation record undoes.
  std::string key_of(const SagaEntry& entry) const;
  // The newest compensation record the cursor at `branch` has to undo (the main line: any; a
  // branch: its own and its nested branches'); null when none is left.
  const SagaEntry* undoing(const std::string& branch) const;

  // What expressions at the cursor see: the instance's context with the scopes of the
  // enclosing branches and its own laid over it. On the main line the context itself; for a
  // branch a scratch copy, valid until the next call. The copy is made once for each value of
  // the context: a later call only takes the last branch's keys off it and lays its own on, so
  // a step of one of a thousand branches does not copy a context that lists them all.
  const nlohmann::json& view(const Cursor& c) const;
  // Writes a key where the cursor's steps keep their results: its branch scope, or the
  // instance's context on the main line.
  void write(Cursor& c, const std::string& key, nlohmann::json value);

  // The adapter call the cursor makes at its current step: the task's, or while it is
  // undoing a step that step's compensation. Nullopt at a step that calls nothing.
  struct Action {
    std::string adapter;
    std::string operation;
    Duration timeout;
    RetryPolicy retry;
  };
  std::optional<Action> action(const Cursor& c) const;

  // Derives the row's summary (status, step, deadline) from the cursors. Leaves a finished
  // instance's status alone.
  void refresh_summary();
  // The same without the deadline, which only the row written needs: after each step.
  void refresh_status();
  // Whether a cursor can make progress by itself (an attempt out, a retry pending, a branch
  // that is undoing its steps): such an instance is held in memory.
  bool runnable() const;

  // The row with the cursors copied in. The context is shared with the instance until one of
  // them changes it (SharedJson).
  InstanceRow snapshot() const;
  // The row as snapshot() makes it, but holding its cursors' inputs rather than copies: for a
  // commit that writes them before anything else touches the instance. take_back() returns
  // them (copies them, with `keep_row`, when the row is kept).
  InstanceRow lend_row();
  // The row with its cursors, saga and visits encoded in their place (InstanceRow::encoded),
  // each cursor's and saga entry's text kept from the row before while it is as it was then:
  // for a big instance, whose commits would otherwise copy and encode thousands of cursors and
  // entries to write the one that moved, and copy and free a visit count for each of them. The
  // row's `visits` keeps the main line's counts, which the commit's observers read
  // (observe::CommitFacts).
  InstanceRow encoded_row();
  // Its saga's entries' texts as last written, for encoded_row() (null until then).
  std::unique_ptr<store::KeptSagaText> kept_saga;
  void take_back(InstanceRow& row, bool keep_row);
  // Rebuilds an instance from its stored row.
  static std::unique_ptr<Instance> from_row(InstanceRow row,
                                            std::shared_ptr<const Definition> definition);
};

}  // namespace rmaflow
