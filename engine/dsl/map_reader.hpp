// MapReader: reads one YAML mapping of the DSL key by key and reports, in the DSL's terms, what
// is wrong with it: duplicate keys, keys the DSL does not know, missing keys, values of the
// wrong type or out of range. Every read returns nullopt after reporting, so a caller can go on
// and find the next problem.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/dsl/diagnostic_sink.hpp"
#include "rmaflow/time.hpp"

namespace rmaflow::dsl {

// One key of a mapping as written.
struct MapEntry {
  std::string key;
  YAML::Node value;
  SourceLocation key_where;
  SourceLocation where;  // of the value; the key's position when the value is empty
};

class MapReader {
 public:
  // `map` must be a mapping. `context` names it in messages ("step \"authorize\""); `where` is
  // where a missing key is reported (the mapping's own key, usually). A repeated key is reported
  // with `duplicate_code`, and only its first occurrence is kept.
  MapReader(const YAML::Node& map, std::string context, SourceLocation where, DiagnosticSink& sink,
            std::string_view duplicate_code = "duplicate-key");

  // Reports each key not in `allowed` as unknown-key, suggesting the closest allowed one.
  void allow_only(std::initializer_list<std::string_view> allowed);
  void allow_only(const std::vector<std::string_view>& allowed);

  const std::vector<MapEntry>& entries() const { return entries_; }
  const MapEntry* find(std::string_view key) const;
  // find(), reporting missing-key when the key is absent.
  const MapEntry* require(std::string_view key);

  const std::string& context() const { return context_; }
  SourceLocation where() const { return where_; }
  DiagnosticSink& sink() { return sink_; }

  // Typed reads: wrong-type when the value has another type.
  std::optional<std::string> string(const MapEntry& e);  // any non-empty scalar, as written
  std::optional<std::int64_t> integer(const MapEntry& e, std::int64_t min);  // bad-value below min
  std::optional<double> number(const MapEntry& e, double min);               // bad-value below min
  std::optional<bool> boolean(const MapEntry& e);
  std::optional<Duration> duration(
      const MapEntry& e);  // bad-duration unless parse_duration takes it
  std::optional<std::vector<std::string>> string_list(const MapEntry& e);

  // Reports wrong-type for `e` ("\"key\" in CONTEXT must be EXPECTED, not ACTUAL").
  void wrong_type(const MapEntry& e, std::string_view expected);
  // Reports bad-value for `e` with `why` completing "\"key\" in CONTEXT ...".
  void bad_value(const MapEntry& e, std::string_view why);

 private:
  std::string context_;
  SourceLocation where_;
  DiagnosticSink& sink_;
  std::vector<MapEntry> entries_;
};

// The entry of `allowed` closest to `key` by edit distance, or "" when none is close enough
// to be a likely typo.
std::string closest_match(std::string_view key, const std::vector<std::string_view>& allowed);

}  // namespace rmaflow::dsl
