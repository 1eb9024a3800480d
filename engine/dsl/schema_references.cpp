#include "engine/dsl/schema_references.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>
#include <vector>

namespace rmaflow::dsl {

namespace {

using Pointer = nlohmann::json::json_pointer;

// "#/definitions/a%20b" as the pointer "/definitions/a b"; nullopt for a malformed escape.
std::optional<std::string> decode_fragment(const std::string& fragment) {
  std::string out;
  for (std::size_t i = 0; i < fragment.size(); ++i) {
    if (fragment[i] != '%') {
      out += fragment[i];
      continue;
    }
    if (i + 2 >= fragment.size() || !std::isxdigit(static_cast<unsigned char>(fragment[i + 1])) ||
        !std::isxdigit(static_cast<unsigned char>(fragment[i + 2]))) {
      return std::nullopt;
    }
    out += static_cast<char>(std::stoi(fragment.substr(i + 1, 2), nullptr, 16));
    i += 2;
  }
  return out;
}

std::string shown(const std::string& pointer) {
  return "#" + pointer;
}

// The schema's subschemas, each by its pointer, with the ones applied to the same value as it.
class SchemaGraph {
 public:
  explicit SchemaGraph(const nlohmann::json& root) : root_(root) {}

  std::optional<std::string> problem() {
    visit(root_, Pointer());
    // A $ref may name a place the walk did not read as a schema ("#/properties"): valijson
    // reads it as one, and so is it read here.
    while (problem_.empty() && !unread_.empty()) {
      auto at = *unread_.begin();
      unread_.erase(unread_.begin());
      if (!read_.count(at)) visit(root_.at(Pointer(at)), Pointer(at));
    }
    if (problem_.empty()) find_ring();
    if (problem_.empty()) return std::nullopt;
    return problem_;
  }

  SchemaFacts facts;  // at the places read as schemas

 private:
  void applies(const Pointer& from, const Pointer& to) {
    same_value_[from.to_string()].push_back(to.to_string());
  }

  // `node`, a schema at `at`, and every schema below it.
  void visit(const nlohmann::json& node, const Pointer& at) {
    if (!problem_.empty() || !node.is_object() || !read_.insert(at.to_string()).second) return;
    if (!at.empty()) {
      for (const char* key : {"$id", "id"}) {
        if (node.contains(key) && node[key].is_string()) {
          problem_ = fmt::format(
              "\"{}\" at {} would change what the references below it name; "
              "give \"{}\" only at the schema's root",
              key, shown(at.to_string()), key);
          return;
        }
      }
    }
    for (const char* key :
         {"pattern", "patternProperties", "propertyNames", "format", "uniqueItems"}) {
      if (node.contains(key)) facts.costly_checks = true;
    }
    if (auto pattern = node.find("pattern"); pattern != node.end() && pattern->is_string()) {
      facts.values.push_back(pattern->get<std::string>());
    }
    if (auto map = node.find("patternProperties"); map != node.end() && map->is_object()) {
      SchemaFacts::KeyPatterns keys{at.to_string(), {}};
      for (const auto& [key, _] : map->items()) keys.patterns.push_back(key);
      facts.keys.push_back(std::move(keys));
    }
    if (auto ref = node.find("$ref"); ref != node.end() && ref->is_string()) {
      const auto& text = ref->get_ref<const std::string&>();
      auto pointer = text.rfind('#', 0) == 0 ? decode_fragment(text.substr(1)) : std::nullopt;
      if (!pointer || (!pointer->empty() && pointer->front() != '/')) {
        problem_ = fmt::format(
            "$ref \"{}\" at {} is not a JSON Pointer within the schema (\"#\", "
            "\"#/definitions/name\"); rmaflow reads no other document",
            text, shown(at.to_string()));
        return;
      }
      try {
        Pointer target(*pointer);
        facts.references.push_back({at.to_string(), target.to_string()});
        if (root_.contains(target)) {
          applies(at, target);
          if (!read_.count(target.to_string())) unread_.insert(target.to_string());
        }
      } catch (const nlohmann::json::exception&) {
        // A pointer that does not parse: valijson refuses it, in its words.
      }
    }
    // Applied to the same value.
    for (const char* key : {"allOf", "anyOf", "oneOf"}) {
      if (auto list = node.find(key); list != node.end() && list->is_array()) {
        for (std::size_t i = 0; i < list->size(); ++i) {
          auto child = at / key / i;
          applies(at, child);
          visit((*list)[i], child);
        }
      }
    }
    for (const char* key : {"not", "if", "then", "else"}) {
      if (auto child = node.find(key); child != node.end()) {
        applies(at, at / key);
        visit(*child, at / key);
      }
    }
    for (const char* key : {"dependencies", "dependentSchemas"}) {
      if (auto map = node.find(key); map != node.end() && map->is_object()) {
        for (const auto& [name, value] : map->items()) {
          applies(at, at / key / name);
          visit(value, at / key / name);
        }
      }
    }
    // Applied to what the value holds (its fields, items, names), or only through a $ref.
    for (const char* key : {"additionalItems", "additionalProperties", "contains", "propertyNames",
                            "unevaluatedItems", "unevaluatedProperties"}) {
      if (auto child = node.find(key); child != node.end()) visit(*child, at / key);
    }
    if (auto items = node.find("items"); items != node.end()) {
      if (items->is_array()) {
        for (std::size_t i = 0; i < items->size(); ++i) visit((*items)[i], at / "items" / i);
      } else {
        visit(*items, at / "items");
      }
    }
    for (const char* key : {"properties", "patternProperties", "definitions", "$defs"}) {
      if (auto map = node.find(key); map != node.end() && map->is_object()) {
        for (const auto& [name, value] : map->items()) visit(value, at / key / name);
      }
    }
  }

  // A ring in same_value_, by a depth-first walk that keeps its own stack (a chain of $refs may
  // be as long as the schema).
  void find_ring() {
    enum class Mark { unseen, open, done };
    std::map<std::string, Mark> marks;
    for (const auto& [start, _] : same_value_) {
      if (marks[start] != Mark::unseen) continue;
      std::vector<std::pair<std::string, std::size_t>> stack{{start, 0}};
      marks[start] = Mark::open;
      while (!stack.empty()) {
        auto& [at, next] = stack.back();
        auto found = same_value_.find(at);
        if (found == same_value_.end() || next == found->second.size()) {
          marks[at] = Mark::done;
          stack.pop_back();
          continue;
        }
        const std::string to = found->second[next++];
        auto& mark = marks[to];
        if (mark == Mark::open) {
          problem_ = fmt::format(
              "the subschema at {} is applied to the same value again through itself ($ref, "
              "allOf, anyOf, oneOf, not, if/then/else or dependencies), without end",
              shown(to));
          return;
        }
        if (mark == Mark::unseen) {
          mark = Mark::open;
          stack.emplace_back(to, 0);
        }
      }
    }
  }

  const nlohmann::json& root_;
  std::set<std::string> read_;    // the pointers read as schemas
  std::set<std::string> unread_;  // named by a $ref, not read yet
  std::map<std::string, std::vector<std::string>> same_value_;
  std::string problem_;
};

// Follows an input through the subschemas that may apply at each of its places.
class CostlyPlaces {
 public:
  explicit CostlyPlaces(const nlohmann::json& root) : root_(root) {}

  void walk(const nlohmann::json& value, const std::vector<const nlohmann::json*>& schemas,
            const std::string& pointer) {
    auto applied = closure(schemas);
    if (applied.empty()) return;
    if (value.is_string()) {
      bool matched = std::any_of(applied.begin(), applied.end(), [](const nlohmann::json* s) {
        if (s->contains("pattern")) return true;
        auto format = s->find("format");
        return format != s->end() &&
               (*format == "date" || *format == "time" || *format == "date-time");
      });
      auto bytes = value.get_ref<const std::string&>().size();
      if (matched && bytes > kMaxMatchedString) {
        found.push_back({CostlyPlace::Kind::string, pointer, bytes});
      }
      return;
    }
    if (value.is_object()) {
      bool keys_matched = std::any_of(applied.begin(), applied.end(), [](const nlohmann::json* s) {
        return s->contains("patternProperties") || s->contains("propertyNames");
      });
      for (const auto* s : applied) {
        if (auto patterns = s->find("patternProperties");
            patterns != s->end() && patterns->is_object()) {
          if (value.size() > kMaxPatternKeys) {
            found.push_back({CostlyPlace::Kind::pattern_keys, pointer, value.size()});
            break;
          }
          auto& keys = pattern_keys[s];
          for (const auto& [key, _] : value.items()) keys.insert(key);
        }
      }
      for (const auto& [key, member] : value.items()) {
        auto at = pointer + "/" + pointer_token(key);
        if (keys_matched && key.size() > kMaxMatchedString) {
          found.push_back({CostlyPlace::Kind::key, pointer, key.size()});
        }
        std::vector<const nlohmann::json*> inner;
        for (const auto* s : applied) {
          if (auto props = s->find("properties"); props != s->end() && props->is_object()) {
            if (auto p = props->find(key); p != props->end()) inner.push_back(&*p);
          }
          if (auto patterns = s->find("patternProperties");
              patterns != s->end() && patterns->is_object()) {
            for (const auto& [_, schema] : patterns->items()) inner.push_back(&schema);
          }
          if (auto more = s->find("additionalProperties"); more != s->end())
            inner.push_back(&*more);
        }
        walk(member, inner, at);
      }
      return;
    }
    if (value.is_array()) {
      bool unique = std::any_of(applied.begin(), applied.end(), [](const nlohmann::json* s) {
        auto flag = s->find("uniqueItems");
        return flag != s->end() && *flag == true;
      });
      if (unique && value.size() > kMaxUniqueItems) {
        found.push_back({CostlyPlace::Kind::unique_items, pointer, value.size()});
      }
      for (std::size_t i = 0; i < value.size(); ++i) {
        std::vector<const nlohmann::json*> inner;
        for (const auto* s : applied) {
          if (auto items = s->find("items"); items != s->end()) {
            if (items->is_array()) {
              if (i < items->size())
                inner.push_back(&(*items)[i]);
              else if (auto more = s->find("additionalItems"); more != s->end())
                inner.push_back(&*more);
            } else {
              inner.push_back(&*items);
            }
          }
          if (auto contains = s->find("contains"); contains != s->end())
            inner.push_back(&*contains);
        }
        walk(value[i], inner, pointer + "/" + std::to_string(i));
      }
    }
  }

  std::vector<CostlyPlace> found;
  std::map<const nlohmann::json*, std::set<std::string>> pattern_keys;

 private:
  // The schemas applied to the same value as `schemas`: through $ref and every branch.
  std::vector<const nlohmann::json*> closure(const std::vector<const nlohmann::json*>& schemas) {
    std::vector<const nlohmann::json*> out;
    std::set<const nlohmann::json*> seen;
    std::vector<const nlohmann::json*> next(schemas.begin(), schemas.end());
    while (!next.empty()) {
      const auto* s = next.back();
      next.pop_back();
      if (!s->is_object() || !seen.insert(s).second) continue;
      out.push_back(s);
      if (auto ref = s->find("$ref"); ref != s->end() && ref->is_string()) {
        if (const auto* target = referenced(root_, ref->get_ref<const std::string&>()))
          next.push_back(target);
      }
      for (const char* key : {"allOf", "anyOf", "oneOf"}) {
        if (auto list = s->find(key); list != s->end() && list->is_array()) {
          for (const auto& child : *list) next.push_back(&child);
        }
      }
      for (const char* key : {"not", "if", "then", "else"}) {
        if (auto child = s->find(key); child != s->end()) next.push_back(&*child);
      }
      for (const char* key : {"dependencies", "dependentSchemas"}) {
        if (auto map = s->find(key); map != s->end() && map->is_object()) {
          for (const auto& [_, child] : map->items()) next.push_back(&child);
        }
      }
    }
    return out;
  }

  const nlohmann::json& root_;
};

}  // namespace

const nlohmann::json* referenced(const nlohmann::json& root, const std::string& reference) {
  auto pointer = reference.rfind('#', 0) == 0 ? decode_fragment(reference.substr(1)) : std::nullopt;
  if (!pointer) return nullptr;
  try {
    Pointer at(*pointer);
    return root.contains(at) ? &root.at(at) : nullptr;
  } catch (const nlohmann::json::exception&) {
    return nullptr;  // not a pointer
  }
}

std::string pointer_token(const std::string& key) {
  std::string out;
  for (char c : key) out += c == '~' ? "~0" : c == '/' ? "~1" : std::string(1, c);
  return out;
}

std::optional<std::string> schema_reference_problem(const nlohmann::json& root) {
  return SchemaGraph(root).problem();
}

SchemaFacts schema_facts(const nlohmann::json& root) {
  SchemaGraph graph(root);
  graph.problem();
  return std::move(graph.facts);
}

InputPlaces input_places(const nlohmann::json& root, const nlohmann::json& input) {
  CostlyPlaces walk(root);
  walk.walk(input, {&root}, "");
  return {std::move(walk.found), std::move(walk.pattern_keys)};
}

}  // namespace rmaflow::dsl
