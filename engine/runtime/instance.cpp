#include "engine/runtime/instance.hpp"

#include <algorithm>

#include "rmaflow/errors.hpp"

namespace rmaflow {

LiveCursor& CursorList::push_back(LiveCursor cursor) {
  LiveCursor& added = list_.emplace_back(std::move(cursor));
  by_branch_.emplace(added.branch, &added);
  if (!added.branch.empty()) {
    Children& siblings = children_[parent_branch(added.branch)];
    siblings.cursors.push_back(&added);
    siblings.changed = ++changes_;
  }
  return added;
}

void CursorList::erase(const std::vector<iterator>& doomed) {
  std::vector<const LiveCursor*> gone;
  std::vector<std::string> parents;
  for (auto it : doomed) {
    gone.push_back(&*it);
    if (!it->branch.empty()) parents.push_back(parent_branch(it->branch));
  }
  std::sort(gone.begin(), gone.end());
  std::sort(parents.begin(), parents.end());
  parents.erase(std::unique(parents.begin(), parents.end()), parents.end());
  for (const auto& parent : parents) {
    auto found = children_.find(parent);
    if (found == children_.end()) continue;
    std::erase_if(found->second.cursors, [&](const LiveCursor* c) {
      return std::binary_search(gone.begin(), gone.end(), c);
    });
    if (found->second.cursors.empty()) {
      children_.erase(found);
    } else {
      found->second = Children{std::move(found->second.cursors), ++changes_};
    }
  }
  for (auto it : doomed) {
    by_branch_.erase(it->branch);
    list_.erase(it);
  }
  hinted_ = false;
}

CursorList::Children* CursorList::children(const std::string& parent) {
  auto it = children_.find(parent);
  return it == children_.end() ? nullptr : &it->second;
}

bool CursorList::has_descendants(const std::string& branch) const {
  if (branch.empty()) return !children_.empty();
  auto it = children_.lower_bound(branch);
  if (it != children_.end() && it->first == branch) return true;
  // A branch nested deeper without its holder (no row the engine writes has one).
  std::string below = branch + '/';
  it = children_.lower_bound(below);
  return it != children_.end() && it->first.compare(0, below.size(), below) == 0;
}

LiveCursor* CursorList::find(const std::string& branch) {
  auto it = by_branch_.find(branch);
  return it == by_branch_.end() ? nullptr : it->second;
}

const LiveCursor* CursorList::find(const std::string& branch) const {
  auto it = by_branch_.find(branch);
  return it == by_branch_.end() ? nullptr : it->second;
}

LiveCursor* Instance::find(const std::string& branch) {
  return cursors.find(branch);
}

const LiveCursor* Instance::find(const std::string& branch) const {
  return cursors.find(branch);
}

LiveCursor& Instance::at(const std::string& branch) {
  if (LiveCursor* c = find(branch)) return *c;
  throw Error(Errc::not_found, "instance " + row.id + " has no branch " + branch);
}

std::string Instance::visit_key(const Cursor& c, const std::string& step) {
  if (c.branch.empty()) return step;
  std::string key = step;
  for (const auto& segment : branch_segments(c.branch)) key += "[" + segment.key + "]";
  return key;
}

int Instance::visit(const Cursor& c) const {
  auto it = row.visits.find(visit_key(c, c.step));
  return it == row.visits.end() ? 0 : it->second;
}

std::string Instance::idempotency_key(const Cursor& c) const {
  if (c.compensation) {
    if (const SagaEntry* entry = undoing(c.branch)) return key_of(*entry) + ":compensate";
  }
  return row.id + ":" + visit_key(c, c.step) + ":" + std::to_string(visit(c));
}

std::string Instance::key_of(const SagaEntry& entry) const {
  Cursor at;
  at.branch = entry.branch;
  return row.id + ":" + visit_key(at, entry.step) + ":" + std::to_string(entry.visit);
}

const SagaEntry* Instance::undoing(const std::string& branch) const {
  const auto& done = row.saga.done;
  for (auto it = done.rbegin(); it != done.rend(); ++it)
    if (within(it->branch, branch)) return &*it;
  return nullptr;
}

const nlohmann::json& Instance::view(const Cursor& c) const {
  if (c.branch.empty()) return row.context;
  const nlohmann::json& context = row.context;
  if (scratch_revision != row.context.revision()) {
    scratch = context;
    scratch_revision = row.context.revision();
  } else {
    for (const auto& key : scratch_keys) {
      if (auto it = context.find(key); it != context.end()) {
        scratch[key] = *it;
      } else {
        scratch.erase(key);
      }
    }
  }
  scratch_keys.clear();
  // Outermost first, so that an inner branch's keys win.
  std::vector<const Cursor*> chain;
  for (std::string b = c.branch; !b.empty(); b = parent_branch(b)) {
    if (const Cursor* enclosing = find(b)) chain.push_back(enclosing);
  }
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    if (!(*it)->scope->is_object()) continue;
    for (const auto& [key, value] : (*it)->scope->items()) {
      scratch[key] = value;
      scratch_keys.push_back(key);
    }
  }
  return scratch;
}

void Instance::write(Cursor& c, const std::string& key, nlohmann::json value) {
  if (c.branch.empty()) {
    row.context.set(key, std::move(value));
    return;
  }
  c.scope.set(key, std::move(value));
}

std::optional<Instance::Action> Instance::action(const Cursor& c) const {
  const Step* s = definition->find(c.step);
  const TaskStep* task = s ? s->task() : nullptr;
  if (task == nullptr) return std::nullopt;
  if (c.compensation) {
    if (!task->compensate) return std::nullopt;
    const auto& comp = *task->compensate;
    return Action{comp.adapter, comp.operation, comp.timeout, comp.retry};
  }
  return Action{task->adapter, task->operation, task->timeout, task->retry};
}

bool Instance::runnable() const {
  // Asked after every step: with a branch per line, the branch found last time usually still
  // runs, or the next one does.
  return cursors.find_remembered([](const Cursor& c) {
    if (c.incident) return false;
    return c.phase == Phase::invoking || c.phase == Phase::backoff ||
           (c.phase == Phase::idle && c.compensation);
  }) != nullptr;
}

void Instance::refresh_summary() {
  row.deadline.reset();
  for (const auto& c : cursors) {
    if (c.deadline && (!row.deadline || *c.deadline < *row.deadline)) row.deadline = c.deadline;
  }
  refresh_status();
}

void Instance::refresh_status() {
  const Cursor& line = main();
  row.step = line.step;
  if (is_final(row.status)) return;
  if (line.compensation && !line.incident) {
    row.status = InstanceStatus::compensating;
  } else if (runnable()) {
    row.status = InstanceStatus::running;
  } else if (std::any_of(cursors.begin(), cursors.end(),
                         [](const Cursor& c) { return c.incident.has_value(); })) {
    row.status = InstanceStatus::suspended;
  } else {
    row.status = InstanceStatus::waiting;
  }
}

InstanceRow Instance::snapshot() const {
  InstanceRow out = row;
  out.cursors.assign(cursors.begin(), cursors.end());
  return out;
}

InstanceRow Instance::lend_row() {
  std::vector<nlohmann::json> inputs;
  inputs.reserve(cursors.size());
  for (auto& c : cursors) inputs.push_back(std::move(c.input));
  InstanceRow out = snapshot();
  for (std::size_t i = 0; i < inputs.size(); ++i) out.cursors[i].input = std::move(inputs[i]);
  return out;
}

InstanceRow Instance::encoded_row() {
  // The row copied without the saga and the visits, which go encoded.
  struct Aside {
    InstanceRow& home;
    Saga saga = std::move(home.saga);
    std::map<std::string, int> visits = std::move(home.visits);
    ~Aside() {
      home.saga = std::move(saga);
      home.visits = std::move(visits);
    }
  };
  InstanceRow out = [&] {
    Aside aside{row};
    return row;
  }();
  out.visits.clear();  // a moved-from map is left valid, not necessarily empty
  for (const auto& [key, count] : row.visits) {
    if (on_main_line(key)) out.visits.emplace_hint(out.visits.end(), key, count);
  }
  auto& encoded = out.encoded.emplace();
  encoded.visits = store::encode_visits(row.visits);
  if (!kept_saga) kept_saga = std::make_unique<store::KeptSagaText>();
  encoded.saga = store::encode_saga(row.saga, *kept_saga);
  std::string& text = encoded.cursors;
  text.reserve(held_state_bytes);
  text += '[';
  for (auto& c : cursors) {
    if (text.size() > 1) text += ',';
    if (!c.kept_text) c.kept_text = std::make_unique<store::KeptCursorText>();
    store::append_cursor(text, c, *c.kept_text);
  }
  text += ']';
  return out;
}

void Instance::take_back(InstanceRow& lent, bool keep_row) {
  std::size_t i = 0;
  for (auto& c : cursors) {
    if (i == lent.cursors.size()) break;
    auto& input = lent.cursors[i++].input;
    c.input = keep_row ? input : std::move(input);
  }
}

std::unique_ptr<Instance> Instance::from_row(InstanceRow row,
                                             std::shared_ptr<const Definition> definition) {
  auto inst = std::make_unique<Instance>();
  for (auto& c : row.cursors) {
    LiveCursor live;
    static_cast<Cursor&>(live) = std::move(c);
    inst->cursors.push_back(std::move(live));
  }
  row.cursors.clear();
  inst->row = std::move(row);
  inst->definition = std::move(definition);
  return inst;
}

}  // namespace rmaflow
