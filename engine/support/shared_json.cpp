#include "rmaflow/shared_json.hpp"

namespace rmaflow {

SharedJson::SharedJson(nlohmann::json value) : state_(std::make_shared<State>(std::move(value))) {}

SharedJson::SharedJson(nlohmann::json value, std::string text)
    : state_(std::make_shared<State>(std::move(value), std::move(text))) {}

SharedJson& SharedJson::operator=(nlohmann::json value) {
  state_ = std::make_shared<State>(std::move(value));
  return *this;
}

std::uint64_t SharedJson::next_revision() {
  static std::atomic<std::uint64_t> last{0};
  return last.fetch_add(1, std::memory_order_relaxed) + 1;
}

nlohmann::json& SharedJson::edit() {
  detach(false);
  state_->members.clear();
  return state_->value;
}

void SharedJson::set(const std::string& key, nlohmann::json member) {
  detach(true);
  nlohmann::json& value = state_->value;
  if (!value.is_object()) {
    value = nlohmann::json::object();
    state_->members.clear();
  }
  state_->members.erase(key);
  value[key] = std::move(member);
}

void SharedJson::detach(bool keep_members) {
  // A copy on another thread drops its share with a release; the fence orders what this
  // thread changes after everything that copy read or encoded.
  const bool alone = state_.use_count() == 1;
  std::atomic_thread_fence(std::memory_order_acquire);
  if (!alone) {
    auto copy = std::make_shared<State>(state_->value);
    if (keep_members) {
      // Another thread may be encoding the shared value, which changes its members.
      std::lock_guard lock(state_->mu);
      copy->members = state_->members;
      copy->text.reserve(state_->text.size());
    }
    state_ = std::move(copy);
    return;
  }
  state_->revision = next_revision();
  if (state_->encoded.load(std::memory_order_relaxed)) {
    state_->text.clear();
    state_->encoded.store(false, std::memory_order_relaxed);
  }
}

// The same text as value.dump(): an object's members in its order, each as `"key":value`,
// those encoded before copied as they are. Both are ordered by key.
void SharedJson::State::encode(std::string& out) const {
  if (!value.is_object()) {
    out = value.dump();
    return;
  }
  out += '{';
  bool first = true;
  auto kept = members.begin();
  for (const auto& [key, member] : value.get_ref<const nlohmann::json::object_t&>()) {
    if (!first) out += ',';
    first = false;
    while (kept != members.end() && kept->first < key) kept = members.erase(kept);
    if (kept == members.end() || kept->first != key) {
      std::string encoded = nlohmann::json(key).dump();
      encoded += ':';
      encoded += member.dump();
      kept =
          members.emplace_hint(kept, key, std::make_shared<const std::string>(std::move(encoded)));
    }
    out += *kept->second;
    ++kept;
  }
  members.erase(kept, members.end());
  out += '}';
}

const std::string& SharedJson::text() const {
  State& s = *state_;
  if (!s.encoded.load(std::memory_order_acquire)) {
    std::lock_guard lock(s.mu);
    if (!s.encoded.load(std::memory_order_relaxed)) {
      s.text.clear();  // left with part of a text by a value dump() refused (not UTF-8)
      s.encode(s.text);
      s.encoded.store(true, std::memory_order_release);
    }
  }
  return s.text;
}

}  // namespace rmaflow
