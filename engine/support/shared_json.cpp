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
  // A copy on another thread drops its share with a release; the fence orders what this
  // thread changes after everything that copy read or encoded.
  const bool alone = state_.use_count() == 1;
  std::atomic_thread_fence(std::memory_order_acquire);
  if (!alone) {
    state_ = std::make_shared<State>(state_->value);
  } else {
    state_->revision = next_revision();
    if (state_->encoded.load(std::memory_order_relaxed)) {
      state_->text.clear();
      state_->encoded.store(false, std::memory_order_relaxed);
    }
  }
  return state_->value;
}

const std::string& SharedJson::text() const {
  State& s = *state_;
  if (!s.encoded.load(std::memory_order_acquire)) {
    std::lock_guard lock(s.mu);
    if (!s.encoded.load(std::memory_order_relaxed)) {
      s.text = s.value.dump();
      s.encoded.store(true, std::memory_order_release);
    }
  }
  return s.text;
}

}  // namespace rmaflow
