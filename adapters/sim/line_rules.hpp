// What a simulated system does for one RMA line, configured per line, per RMA or by default:
//
//   grades: { default: A, RMA-1009: D, RMA-3001/L2: C }
//
// "RMA-3001/L2" is line L2 of RMA-3001 (the ERP numbers an RMA's lines L1, L2, ... in the order
// the RMA lists them), "RMA-3001" every line of that RMA, "default" everything else. The most
// specific entry wins.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace rmaflow::sim {

template <typename T>
class LineRules {
 public:
  LineRules() = default;
  explicit LineRules(T fallback) : fallback_(std::move(fallback)) {}

  // Sets the rule for a key ("default" sets the fallback).
  void set(const std::string& key, T value) {
    if (key == "default") {
      fallback_ = std::move(value);
    } else {
      rules_[key] = std::move(value);
    }
  }

  // The rule set for that line (or, with an empty line id, for the RMA), not the fallback;
  // null when there is none.
  const T* specific(std::string_view rma_id, std::string_view line_id = {}) const {
    if (!line_id.empty()) {
      if (auto it = rules_.find(fmt::format("{}/{}", rma_id, line_id)); it != rules_.end())
        return &it->second;
    }
    if (auto it = rules_.find(rma_id); it != rules_.end()) return &it->second;
    return nullptr;
  }

  // The most specific rule, else the fallback; null when neither is set.
  const T* find(std::string_view rma_id, std::string_view line_id = {}) const {
    if (const T* rule = specific(rma_id, line_id)) return rule;
    return fallback_ ? &*fallback_ : nullptr;
  }

  const std::optional<T>& fallback() const { return fallback_; }

 private:
  std::map<std::string, T, std::less<>> rules_;
  std::optional<T> fallback_;
};

}  // namespace rmaflow::sim
