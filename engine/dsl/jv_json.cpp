#include "engine/dsl/jv_json.hpp"

#include "engine/dsl/jq_cost_guard.hpp"

#include <cmath>
#include <limits>

namespace rmaflow::dsl {

namespace {

// 2^53: beyond it a double no longer holds every integer, so we keep it a double.
constexpr double kMaxExactInteger = 9007199254740992.0;

jv string_jv(const std::string& s) {
  return jv_string_sized(s.data(), static_cast<int>(s.size()));
}

std::string jv_string_text(jv s) {  // borrows `s`
  return std::string(jv_string_value(s),
                     static_cast<std::size_t>(jv_string_length_bytes(jv_copy(s))));
}

}  // namespace

jv to_jv(const nlohmann::json& value) {
  using Type = nlohmann::json::value_t;
  switch (value.type()) {
    case Type::null:
      return jv_null();
    case Type::boolean:
      return jv_bool(value.get<bool>());
    case Type::number_integer:
      return jv_number(static_cast<double>(value.get<std::int64_t>()));
    case Type::number_unsigned:
      return jv_number(static_cast<double>(value.get<std::uint64_t>()));
    case Type::number_float:
      return jv_number(value.get<double>());
    case Type::string:
      return string_jv(value.get_ref<const std::string&>());
    case Type::array: {
      jv out = jv_array_sized(static_cast<int>(value.size()));
      for (const auto& item : value) out = jv_array_append(out, to_jv(item));
      return out;
    }
    case Type::object: {
      jv out = jv_object();
      for (const auto& [key, item] : value.items())
        out = jv_object_set(out, string_jv(key), to_jv(item));
      return out;
    }
    case Type::binary:
    case Type::discarded:
      break;
  }
  return jv_null();
}

jv to_jv_members(const nlohmann::json& object, const std::vector<std::string>& keys) {
  jv out = jv_object();
  for (const auto& key : keys) {
    if (auto it = object.find(key); it != object.end())
      out = jv_object_set(out, string_jv(key), to_jv(*it));
  }
  return out;
}

namespace {

// from_jv within a budget; `depth` counts the levels above `value`.
nlohmann::json convert(jv value, JvBudget& budget, std::size_t depth) {
  nlohmann::json out;
  auto spend = [&](std::size_t bytes) {
    budget.bytes_left = budget.bytes_left > bytes ? budget.bytes_left - bytes : 0;
    if (budget.bytes_left == 0) {
      jv_free(value);
      throw JvTooLarge{"size"};
    }
  };
  spend(8);
  switch (jv_get_kind(value)) {
    case JV_KIND_INVALID:
    case JV_KIND_NULL:
      break;
    case JV_KIND_FALSE:
      out = false;
      break;
    case JV_KIND_TRUE:
      out = true;
      break;
    case JV_KIND_NUMBER: {
      double d = jv_number_value(value);
      if (std::isnan(d)) break;
      if (std::trunc(d) == d && std::fabs(d) <= kMaxExactInteger)
        out = static_cast<std::int64_t>(d);
      else
        out = d;
      break;
    }
    case JV_KIND_STRING:
      spend(static_cast<std::size_t>(jv_string_length_bytes(jv_copy(value))));
      out = jv_string_text(value);
      break;
    case JV_KIND_ARRAY:
    case JV_KIND_OBJECT:
      if (depth + 1 > budget.max_depth) {
        jv_free(value);
        throw JvTooLarge{"depth"};
      }
      if (jv_get_kind(value) == JV_KIND_ARRAY) {
        out = nlohmann::json::array();
        int n = jv_array_length(jv_copy(value));
        for (int i = 0; i < n; ++i) {
          try {
            out.push_back(convert(jv_array_get(jv_copy(value), i), budget, depth + 1));
          } catch (const JvTooLarge&) {
            jv_free(value);
            throw;
          }
        }
      } else {
        out = nlohmann::json::object();
        for (int it = jv_object_iter(value); jv_object_iter_valid(value, it);
             it = jv_object_iter_next(value, it)) {
          jv key = jv_object_iter_key(value, it);
          std::string name = jv_string_text(key);
          jv_free(key);
          try {
            spend(name.size());
            out[name] = convert(jv_object_iter_value(value, it), budget, depth + 1);
          } catch (const JvTooLarge&) {
            jv_free(value);
            throw;
          }
        }
      }
      break;
  }
  jv_free(value);
  return out;
}

}  // namespace

nlohmann::json from_jv(jv value) {
  JvBudget unlimited{std::numeric_limits<std::size_t>::max(), std::numeric_limits<std::size_t>::max()};
  return convert(value, unlimited, 0);
}

nlohmann::json from_jv(jv value, JvBudget& budget) {
  return convert(value, budget, 0);
}

std::string jv_message(jv value) {
  if (jv_get_kind(value) == JV_KIND_STRING) {
    std::string text = jv_string_text(value);
    jv_free(value);
    return text;
  }
  // An error payload is shown, never walked in full: jq may have built it by sharing.
  constexpr std::size_t kShown = 64 << 10;
  if (!jv_within(value, kShown)) {
    std::string text = std::string(jv_kind_name(jv_get_kind(value))) + " (too large to show)";
    jv_free(value);
    return text;
  }
  jv dumped = jv_dump_string(value, 0);
  std::string text = jv_string_text(dumped);
  jv_free(dumped);
  return text;
}

}  // namespace rmaflow::dsl
