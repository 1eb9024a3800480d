#include "engine/support/canonical_json.hpp"

#include <algorithm>
#include <cmath>

namespace rmaflow {

namespace {

constexpr double kExactLimit = 9007199254740992.0;  // 2^53

bool integral_float(const nlohmann::json& v) {
  if (!v.is_number_float()) return false;
  double d = v.get<double>();
  return std::isfinite(d) && std::floor(d) == d && std::fabs(d) <= kExactLimit;
}

bool same_number(const nlohmann::json& a, const nlohmann::json& b) {
  auto ca = canonical_json(a);
  auto cb = canonical_json(b);
  if (ca.is_number_float() || cb.is_number_float()) return ca.get<double>() == cb.get<double>();
  return ca == cb;
}

std::string token(const std::string& key) {
  std::string out;
  for (char c : key) out += c == '~' ? "~0" : c == '/' ? "~1" : std::string(1, c);
  return out;
}

}  // namespace

nlohmann::json canonical_json(const nlohmann::json& value) {
  if (integral_float(value)) return static_cast<std::int64_t>(value.get<double>());
  if (value.is_array()) {
    auto out = nlohmann::json::array();
    for (const auto& item : value) out.push_back(canonical_json(item));
    return out;
  }
  if (value.is_object()) {
    auto out = nlohmann::json::object();
    for (const auto& [key, item] : value.items()) out[key] = canonical_json(item);
    return out;
  }
  return value;
}

std::optional<std::string> first_difference(const nlohmann::json& a, const nlohmann::json& b) {
  if (a.is_number() && b.is_number()) {
    if (same_number(a, b)) return std::nullopt;
    return std::string();
  }
  if (a.type() != b.type()) return std::string();
  if (a.is_array()) {
    for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
      if (auto at = first_difference(a[i], b[i])) return "/" + std::to_string(i) + *at;
    }
    if (a.size() == b.size()) return std::nullopt;
    return "/" + std::to_string(std::min(a.size(), b.size()));
  }
  if (a.is_object()) {
    auto ia = a.begin();
    auto ib = b.begin();
    // Both iterate in sorted key order: walk them side by side.
    while (ia != a.end() || ib != b.end()) {
      if (ib == b.end() || (ia != a.end() && ia.key() < ib.key())) return "/" + token(ia.key());
      if (ia == a.end() || ib.key() < ia.key()) return "/" + token(ib.key());
      if (auto at = first_difference(ia.value(), ib.value())) return "/" + token(ia.key()) + *at;
      ++ia;
      ++ib;
    }
    return std::nullopt;
  }
  if (a == b) return std::nullopt;
  return std::string();
}

}  // namespace rmaflow
