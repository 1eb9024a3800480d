#include "engine/dsl/key_patterns.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "engine/support/utf8.hpp"
#include "rmaflow/errors.hpp"

namespace rmaflow::dsl {

namespace {

using Pointer = nlohmann::json::json_pointer;

constexpr const char* kHidden = "x-rmaflow-patternProperties";

// A JSON Pointer as a URI fragment ("#/a%20b"): valijson decodes %-escapes in a $ref.
std::string as_reference(const std::string& pointer) {
  std::string out = "#";
  for (unsigned char c : pointer) {
    if (std::isalnum(c) || std::string_view("-._~/!$&'()*+,;=:@").find(static_cast<char>(c)) !=
                               std::string_view::npos) {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

bool within(const std::string& pointer, const std::string& prefix) {
  return pointer.rfind(prefix, 0) == 0 &&
         (pointer.size() == prefix.size() || pointer[prefix.size()] == '/');
}

}  // namespace

std::regex compiled_pattern(const std::string& pattern) {
  auto refuse = [&](const std::string& why) {
    throw Error(Errc::invalid_definition,
                fmt::format("not a usable JSON Schema: the pattern \"{}\" is not an ECMAScript "
                            "regular expression without back-references ({})",
                            quote_utf8(pattern, 200), why));
  };
  std::size_t digits = 0;
  bool in_count = false;  // within "{n,m}"
  for (char c : pattern) {
    if (c == '{') {
      in_count = true;
      digits = 0;
    } else if (in_count && c >= '0' && c <= '9') {
      if (++digits > 6) refuse("a repetition count past 999999");
    } else if (in_count && c == ',') {
      digits = 0;
    } else {
      in_count = false;
    }
  }
  try {
    // Compiled alone first: "a)|(b" must not compile as "^[\s\S]*(?:a)|(b)".
    std::regex alone(pattern, std::regex::ECMAScript | std::regex_constants::__polynomial);
    return std::regex("^[\\s\\S]*(?:" + pattern + ")",
                      std::regex::ECMAScript | std::regex_constants::__polynomial);
  } catch (const std::regex_error& e) {
    refuse(e.what());
  }
  return {};
}

KeyPatterns::KeyPatterns(const nlohmann::json& root, const SchemaFacts& facts) : hidden_(root) {
  // Inner places first: a place's pointer passes through the patternProperties of the places
  // around it, which are renamed after it.
  auto keys = facts.keys;
  std::stable_sort(keys.begin(), keys.end(),
                   [](const auto& a, const auto& b) { return a.schema.size() > b.schema.size(); });
  for (const auto& key : keys) {
    Place place;
    place.schema = &root.at(Pointer(key.schema));
    place.pointer = key.schema;
    place.hidden_name = kHidden;
    while (place.schema->contains(place.hidden_name)) place.hidden_name += '_';
    for (const auto& pattern : key.patterns)
      place.patterns.emplace_back(pattern, compiled_pattern(pattern));
    auto& node = hidden_.at(Pointer(place.pointer));
    node[place.hidden_name] = std::move(node["patternProperties"]);
    node.erase("patternProperties");
    places_.push_back(std::move(place));
  }
  // Where a pointer of root is in hidden_.
  auto moved = [&](std::string pointer) {
    for (const auto& place : places_) {
      auto from = place.pointer + "/patternProperties";
      if (within(pointer, from)) {
        pointer = place.pointer + "/" + place.hidden_name + pointer.substr(from.size());
      }
    }
    return pointer;
  };
  for (const auto& reference : facts.references) {
    auto target = moved(reference.target);
    if (target != reference.target) {
      hidden_.at(Pointer(moved(reference.schema)))["$ref"] = as_reference(target);
    }
  }
  for (auto& place : places_) place.pointer = moved(place.pointer);
}

std::optional<nlohmann::json> KeyPatterns::stated(
    const std::map<const nlohmann::json*, std::set<std::string>>& keys) const {
  std::optional<nlohmann::json> out;
  for (const auto& place : places_) {
    auto found = keys.find(place.schema);
    if (found == keys.end()) continue;
    for (const auto& [pattern, regex] : place.patterns) {
      auto schema = nlohmann::json{{"$ref", as_reference(place.pointer + "/" + place.hidden_name +
                                                         "/" + pointer_token(pattern))}};
      auto matched = nlohmann::json::object();
      for (const auto& key : found->second) {
        if (std::regex_search(key, regex)) matched[key] = schema;
      }
      if (matched.empty()) continue;
      if (!out) out = hidden_;
      auto& node = out->at(Pointer(place.pointer));
      auto& declared = node["properties"];
      if (declared.is_null()) declared = nlohmann::json::object();
      for (const auto& [key, _] : matched.items()) {
        if (!declared.contains(key)) declared[key] = nlohmann::json::object();
      }
      auto& all = node["allOf"];
      if (all.is_null()) all = nlohmann::json::array();
      all.push_back({{"properties", std::move(matched)}});
    }
  }
  return out;
}

}  // namespace rmaflow::dsl
