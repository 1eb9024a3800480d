// A JSON value that copies share until one of them is changed (copy on write), with its text
// encoded once for each value.
//
// An instance's context is one. The engine hands a copy of each instance's row to the commit
// writer in every batch, and the writer stores the context as text. A context is a few
// kilobytes in the returns workflows and most transitions leave it as it was: sharing it costs
// neither a deep copy on the engine's thread nor a second encoding on the writer's.
//
// The transitions that do change it mostly set one member (a step's result) beside a large one
// that never changes (the start's input). set() changes one member and keeps the text of the
// others, so the next text() encodes only what changed.
//
// Thread-safety: copies that share a value may be read, and their text() asked for, on
// different threads at once. edit(), set() and assignment change only this copy, on the
// thread that owns it.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

namespace rmaflow {

class SharedJson {
 public:
  SharedJson() : SharedJson(nlohmann::json::object()) {}
  SharedJson(nlohmann::json value);  // NOLINT(google-explicit-constructor): a value like json
  // A value decoded from `text`, which text() returns as it is rather than encoding the value.
  SharedJson(nlohmann::json value, std::string text);

  // A moved-from SharedJson still holds the value (shared): it is never empty.
  SharedJson(const SharedJson&) = default;
  SharedJson(SharedJson&& other) noexcept : state_(other.state_) {}
  SharedJson& operator=(const SharedJson&) = default;
  SharedJson& operator=(SharedJson&& other) noexcept {
    state_ = other.state_;
    return *this;
  }
  ~SharedJson() = default;

  SharedJson& operator=(nlohmann::json value);

  const nlohmann::json& get() const { return state_->value; }
  operator const nlohmann::json&() const { return get(); }  // NOLINT(google-explicit-constructor)
  const nlohmann::json* operator->() const { return &get(); }

  // The value to change now. Shared with another copy, it is copied first; its text is
  // encoded again when next asked for. The reference is for changes made at once: a copy
  // made of this SharedJson, or its text asked for, before the change ends sees part of it.
  nlohmann::json& edit();

  // Sets the member `key` of an object value to `member` (an object is made of a value that is
  // not one), as edit()[key] = member would. The text of the other members is kept, and the
  // next text() encodes only this one.
  void set(const std::string& key, nlohmann::json member);

  // The value as compact JSON text (nlohmann::json::dump()), encoded at the first call for
  // this value and shared by its copies.
  const std::string& text() const;

  // Whether `other` holds this very value (a copy not changed since), not an equal one.
  bool shares(const SharedJson& other) const { return state_ == other.state_; }

  // A number for the value as it is now, never 0: a new value, and every change through
  // edit() or set(), gets one no value of this process had before; copies of it share it. The same
  // revision seen twice is the same value unchanged, without holding a copy of it (which
  // would make the next edit() copy the value).
  std::uint64_t revision() const { return state_->revision; }

  friend bool operator==(const SharedJson& a, const SharedJson& b) { return a.get() == b.get(); }

 private:
  static std::uint64_t next_revision();
  // Makes the value this copy's alone, to be changed: copied if shared (with the text of its
  // members if `keep_members`), else given a new revision and its text dropped.
  void detach(bool keep_members);

  struct State {
    explicit State(nlohmann::json v) : value(std::move(v)) {}
    State(nlohmann::json v, std::string t) : value(std::move(v)), text(std::move(t)) {
      encoded.store(true, std::memory_order_relaxed);
    }
    void encode(std::string& out) const;  // appends to `out`, with mu held

    nlohmann::json value;
    // Changed only by the thread that edits the value while no other copy holds it.
    std::uint64_t revision = next_revision();
    mutable std::mutex mu;  // text's encoding
    mutable std::string text;
    mutable std::atomic<bool> encoded{false};
    // The text (`"key":value`) of an object value's members as they are now: made by
    // encode() (with mu held), and kept by set() for the members it leaves alone.
    mutable std::map<std::string, std::shared_ptr<const std::string>, std::less<>> members;
  };

  std::shared_ptr<State> state_;
};

}  // namespace rmaflow
