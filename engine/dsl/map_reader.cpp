#include "engine/dsl/map_reader.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "engine/dsl/yaml_values.hpp"

namespace rmaflow::dsl {

namespace {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace

std::string closest_match(std::string_view key, const std::vector<std::string_view>& allowed) {
  std::string best;
  // A likely typo changes at most half of the word, and does not replace all of the candidate.
  std::size_t best_distance = std::max<std::size_t>(2, key.size() / 2) + 1;
  for (auto candidate : allowed) {
    std::size_t d = edit_distance(key, candidate);
    if (d < best_distance && d < candidate.size()) {
      best_distance = d;
      best = std::string(candidate);
    }
  }
  return best;
}

MapReader::MapReader(const YAML::Node& map, std::string context, SourceLocation where,
                     DiagnosticSink& sink, std::string_view duplicate_code)
    : context_(std::move(context)), where_(where), sink_(sink) {
  std::map<std::string, SourceLocation, std::less<>> seen;
  for (const auto& pair : map) {
    SourceLocation key_where = location_of(pair.first, where_);
    if (!pair.first.IsScalar()) {
      sink_.error(
          key_where, "wrong-type",
          fmt::format("a key in {} must be a name, not {}", context_, describe(pair.first)));
      continue;
    }
    std::string key = pair.first.Scalar();
    auto [first, inserted] = seen.emplace(key, key_where);
    if (!inserted) {
      std::string what = duplicate_code == "duplicate-step" ? "step" : "key";
      sink_.error(key_where, std::string(duplicate_code),
                  fmt::format("duplicate {} \"{}\" in {} (first at line {})", what, key, context_,
                              first->second.line));
      continue;
    }
    entries_.push_back({key, pair.second, key_where, location_of(pair.second, key_where)});
  }
}

void MapReader::allow_only(std::initializer_list<std::string_view> allowed) {
  allow_only(std::vector<std::string_view>(allowed));
}

void MapReader::allow_only(const std::vector<std::string_view>& allowed) {
  for (const auto& e : entries_) {
    if (std::find(allowed.begin(), allowed.end(), e.key) != allowed.end()) continue;
    std::string suggestion = closest_match(e.key, allowed);
    if (!suggestion.empty()) {
      sink_.error(e.key_where, "unknown-key",
                  fmt::format("unknown key \"{}\" in {}; did you mean \"{}\"?", e.key, context_,
                              suggestion));
    } else {
      sink_.error(e.key_where, "unknown-key",
                  fmt::format("unknown key \"{}\" in {}; allowed keys: {}", e.key, context_,
                              fmt::join(allowed, ", ")));
    }
  }
}

const MapEntry* MapReader::find(std::string_view key) const {
  for (const auto& e : entries_)
    if (e.key == key) return &e;
  return nullptr;
}

const MapEntry* MapReader::require(std::string_view key) {
  const MapEntry* e = find(key);
  if (e == nullptr)
    sink_.error(where_, "missing-key", fmt::format("missing key \"{}\" in {}", key, context_));
  return e;
}

void MapReader::wrong_type(const MapEntry& e, std::string_view expected) {
  sink_.error(
      e.where, "wrong-type",
      fmt::format("\"{}\" in {} must be {}, not {}", e.key, context_, expected, describe(e.value)));
}

void MapReader::bad_value(const MapEntry& e, std::string_view why) {
  sink_.error(e.where, "bad-value", fmt::format("\"{}\" in {} {}", e.key, context_, why));
}

std::optional<std::string> MapReader::string(const MapEntry& e) {
  if (!e.value.IsScalar() || e.value.Scalar().empty()) {
    wrong_type(e, "a string");
    return std::nullopt;
  }
  return e.value.Scalar();
}

std::optional<std::int64_t> MapReader::integer(const MapEntry& e, std::int64_t min) {
  nlohmann::json value = e.value.IsScalar() ? scalar_value(e.value) : nlohmann::json();
  if (!value.is_number_integer()) {
    wrong_type(e, "an integer");
    return std::nullopt;
  }
  auto n = value.get<std::int64_t>();
  if (n < min) {
    bad_value(e, fmt::format("must be at least {}, not {}", min, n));
    return std::nullopt;
  }
  return n;
}

std::optional<double> MapReader::number(const MapEntry& e, double min) {
  nlohmann::json value = e.value.IsScalar() ? scalar_value(e.value) : nlohmann::json();
  if (!value.is_number()) {
    wrong_type(e, "a number");
    return std::nullopt;
  }
  auto n = value.get<double>();
  if (n < min) {
    bad_value(e, fmt::format("must be at least {}, not {}", min, n));
    return std::nullopt;
  }
  return n;
}

std::optional<bool> MapReader::boolean(const MapEntry& e) {
  nlohmann::json value = e.value.IsScalar() ? scalar_value(e.value) : nlohmann::json();
  if (!value.is_boolean()) {
    wrong_type(e, "true or false");
    return std::nullopt;
  }
  return value.get<bool>();
}

std::optional<Duration> MapReader::duration(const MapEntry& e) {
  if (!e.value.IsScalar()) {
    wrong_type(e, "a duration");
    return std::nullopt;
  }
  auto d = parse_duration(e.value.Scalar());
  if (!d) {
    sink_.error(e.where, "bad-duration",
                fmt::format("\"{}\" in {} is not a duration: \"{}\"; write an integer and ms, s, "
                            "m, h or d, e.g. 30s",
                            e.key, context_, e.value.Scalar()));
  }
  return d;
}

std::optional<std::vector<std::string>> MapReader::string_list(const MapEntry& e) {
  if (!e.value.IsSequence()) {
    wrong_type(e, "a list");
    return std::nullopt;
  }
  std::vector<std::string> out;
  bool ok = true;
  for (const auto& item : e.value) {
    if (!item.IsScalar() || item.Scalar().empty()) {
      sink_.error(location_of(item, e.where), "wrong-type",
                  fmt::format("each item of \"{}\" in {} must be a string, not {}", e.key, context_,
                              describe(item)));
      ok = false;
      continue;
    }
    out.push_back(item.Scalar());
  }
  if (!ok) return std::nullopt;
  return out;
}

}  // namespace rmaflow::dsl
