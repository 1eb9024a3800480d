#include "engine/dsl/input_schema.hpp"

#include <algorithm>
#include <cmath>
#include <optional>
#include <regex>
#include <string_view>
#include <unordered_map>

#define VALIJSON_USE_EXCEPTIONS 1
#include <fmt/format.h>

#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include "engine/dsl/key_patterns.hpp"
#include "engine/dsl/schema_references.hpp"
#include "engine/dsl/schema_walk.hpp"
#include "engine/support/utf8.hpp"

namespace rmaflow {

namespace {

// valijson names a place as {"<root>", "[lines]", "[0]", ...}; RFC 6901 as "/lines/0".
std::string to_pointer(const std::vector<std::string>& context) {
  std::string out;
  for (const auto& part : context) {
    if (part == "<root>") continue;
    std::string token = part.size() >= 2 && part.front() == '[' && part.back() == ']'
                            ? part.substr(1, part.size() - 2)
                            : part;
    out += '/' + dsl::pointer_token(token);
  }
  return out;
}

// valijson reports a failure inside an item, a property or a subschema twice: once where it
// happened and once, in these words, at each enclosing place. Only the first says anything.
bool is_wrapper(const std::string& description) {
  for (const char* prefix :
       {"Failed to validate item #", "Failed to validate against schema associated with property",
        "Failed to validate against schema associated with pattern",
        "Failed to validate against additional properties schema",
        "Failed to validate against child schema #", "Failed to validate against dependent schema",
        "Failed to validate against a conditional schema"}) {
    if (description.rfind(prefix, 0) == 0) return true;
  }
  return false;
}

// "1.000000" (std::to_string of a double) as people write it: "1", "0.5".
std::string number_text(const std::string& text) {
  double value = 0;
  try {
    value = std::stod(text);
  } catch (const std::exception&) {
    return text;
  }
  if (std::floor(value) == value && std::fabs(value) < 1e15) return fmt::format("{}", static_cast<long long>(value));
  return fmt::format("{}", value);
}

std::string json_type(const nlohmann::json& value) {
  if (value.is_number_integer() || value.is_number_unsigned()) return "an integer";
  if (value.is_number()) return "a number";
  if (value.is_string()) return "a string";
  if (value.is_boolean()) return "a boolean";
  if (value.is_null()) return "null";
  if (value.is_array()) return "an array";
  return "an object";
}

std::string type_word(const std::string& type) {
  if (type == "integer" || type == "array" || type == "object") return "an " + type;
  if (type == "null") return "null";
  return "a " + type;
}

std::string list_of(const std::vector<std::string>& items, const char* last) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += i + 1 == items.size() ? fmt::format(" {} ", last) : ", ";
    out += items[i];
  }
  return out;
}

// An input's value as a violation quotes it: its JSON, cut short.
std::string shown(const nlohmann::json& value) {
  return quote_utf8(value.dump(), 200);
}

// What the schema at the failing place requires, in words, from valijson's description of
// the failure and the schema itself. `value` is the input's value there (null when absent).
std::string requirement(const std::string& d, const nlohmann::json* schema,
                        const nlohmann::json& value) {
  static const std::vector<std::pair<std::regex, const char*>> kNumeric = {
      {std::regex("Expected number greater than or equal to (.*)"), "must be at least {}"},
      {std::regex("Expected number greater than (.*)"), "must be greater than {}"},
      {std::regex("Expected number less than or equal to (.*)"), "must be at most {}"},
      {std::regex("Expected number less than (.*)"), "must be less than {}"},
      {std::regex("Value should be a multiple of (.*)"), "must be a multiple of {}"},
  };
  static const std::vector<std::pair<std::regex, const char*>> kCounted = {
      {std::regex("String should be no fewer than ([0-9]+) characters.*"),
       "must be at least {} character(s) long"},
      {std::regex("String should be no more than ([0-9]+) characters.*"),
       "must be at most {} character(s) long"},
      {std::regex("Array should contain no fewer than ([0-9]+) elements.*"),
       "must have at least {} item(s)"},
      {std::regex("Array should contain no more than ([0-9]+) elements.*"),
       "must have at most {} item(s)"},
      {std::regex("Object should have no fewer than ([0-9]+) properties.*"),
       "must have at least {} field(s)"},
      {std::regex("Object should have no more than ([0-9]+) properties.*"),
       "must have at most {} field(s)"},
  };
  std::smatch m;
  // valijson's own sentences are short; a long one quotes the input, and std::regex recurses
  // per character.
  if (d.size() > 1024) return "is invalid";
  for (const auto& [pattern, words] : kNumeric) {
    if (std::regex_match(d, m, pattern)) return fmt::format(fmt::runtime(words), number_text(m[1]));
  }
  for (const auto& [pattern, words] : kCounted) {
    if (std::regex_match(d, m, pattern)) return fmt::format(fmt::runtime(words), m[1].str());
  }
  if (d.rfind("Value type not permitted", 0) == 0) {
    std::vector<std::string> wanted;
    if (schema != nullptr && schema->contains("type")) {
      const auto& type = (*schema)["type"];
      if (type.is_string()) wanted.push_back(type_word(type.get<std::string>()));
      if (type.is_array()) {
        for (const auto& t : type)
          if (t.is_string()) wanted.push_back(type_word(t.get<std::string>()));
      }
    }
    if (wanted.empty()) return fmt::format("must not be {}", json_type(value));
    return fmt::format("must be {}, not {}", list_of(wanted, "or"), json_type(value));
  }
  if (d.rfind("Failed to match against any enum values", 0) == 0) {
    if (schema != nullptr && schema->contains("enum") && (*schema)["enum"].is_array()) {
      std::vector<std::string> values;
      for (const auto& v : (*schema)["enum"]) values.push_back(v.dump());
      return fmt::format("must be one of {}, not {}", list_of(values, "or"), shown(value));
    }
    return "is not one of the allowed values";
  }
  if (d.rfind("Failed to match regex", 0) == 0) {
    if (schema != nullptr && schema->contains("pattern") && (*schema)["pattern"].is_string()) {
      return fmt::format("must match the pattern {}, and {} does not",
                         (*schema)["pattern"].get<std::string>(), shown(value));
    }
    return "does not match the required pattern";
  }
  if (d.rfind("Failed to match expected value set by 'const'", 0) == 0) {
    if (schema != nullptr && schema->contains("const")) {
      return fmt::format("must be {}", (*schema)["const"].dump());
    }
    return "is not the required value";
  }
  if (d.rfind("String should be a valid date-time", 0) == 0) {
    return "must be a date and time (RFC 3339, such as 2026-01-31T12:00:00Z)";
  }
  if (d.rfind("String should be a valid date", 0) == 0) return "must be a date (such as 2026-01-31)";
  if (d.rfind("String should be a valid time", 0) == 0) return "must be a time (such as 12:00:00Z)";
  if (d.find("anyOf") != std::string::npos || d.find("oneOf") != std::string::npos ||
      d.find("exactly one") != std::string::npos) {
    return "matches none of the shapes the schema allows here";
  }
  if (d.rfind("Target should not validate", 0) == 0) return "has a shape the schema forbids here";
  if (d.find("uniqueness") != std::string::npos) return "must not hold the same item twice";
  return "is invalid: " + d;  // a check this wording does not know yet: valijson's own words
}

// The name quoted at the end of valijson's `description`, after `lead` (at its start when
// `at_start`): "...constraints: 'name'." gives "name". Read without a regex: the name may be
// a field of the input, of any length, and std::regex recurses per character.
std::optional<std::string> quoted_after(const std::string& description, std::string_view lead,
                                        bool at_start) {
  auto begin =
      at_start ? (description.rfind(lead, 0) == 0 ? 0 : std::string::npos) : description.find(lead);
  if (begin == std::string::npos) return std::nullopt;
  begin += lead.size();
  auto end = description.size();
  if (end > begin && description[end - 1] == '.') --end;
  if (end <= begin || description[end - 1] != '\'') return std::nullopt;
  return description.substr(begin, end - 1 - begin);
}

void parse(const nlohmann::json& document, valijson::Schema& schema) {
  valijson::SchemaParser parser;
  valijson::adapters::NlohmannJsonAdapter adapter(document);
  parser.populateSchema(adapter, schema);
}

// "/lines/0/qty", or "the input" for the whole of it.
std::string place(const std::string& pointer) { return pointer.empty() ? "the input" : pointer; }

}  // namespace

struct InputSchema::Impl {
  nlohmann::json document;
  valijson::Schema schema;
  // The schema's patterns, by their text, compiled for a search in linear time (see
  // key_patterns.hpp): valijson compiles a pattern it does not find here for its depth-first
  // matcher, which backtracks.
  std::unordered_map<std::string, std::regex> regexes;
  std::optional<dsl::KeyPatterns> key_patterns;  // when it has patternProperties
  bool costly_checks = false;  // a pattern, a date or time format, key patterns, uniqueItems
};

InputSchema::InputSchema(const nlohmann::json& schema) : impl_(std::make_unique<Impl>()) {
  impl_->document = schema;
  if (auto problem = dsl::schema_reference_problem(schema)) {
    throw Error(Errc::invalid_definition, "not a usable JSON Schema: " + *problem);
  }
  auto facts = dsl::schema_facts(schema);
  impl_->costly_checks = facts.costly_checks;
  for (const auto& pattern : facts.values) {
    impl_->regexes.emplace(pattern, dsl::compiled_pattern(pattern));
  }
  if (!facts.keys.empty()) impl_->key_patterns.emplace(impl_->document, facts);
  try {
    parse(impl_->key_patterns ? impl_->key_patterns->hidden() : impl_->document, impl_->schema);
  } catch (const std::exception& e) {
    throw Error(Errc::invalid_definition, std::string("not a usable JSON Schema: ") + e.what());
  }
}

InputSchema::~InputSchema() = default;

std::vector<InputViolation> InputSchema::check(const nlohmann::json& input) const {
  std::vector<InputViolation> too_costly;
  dsl::InputPlaces places;
  if (impl_->costly_checks) {
    // By kind (string, key, unique_items, pattern_keys): what the place has, what it is, its
    // bound.
    struct Words {
      const char* has;
      const char* what;
      std::size_t most;
    };
    static const Words kWords[] = {
        {"is {} bytes long", "a string the schema matches against a pattern",
         dsl::kMaxMatchedString},
        {"has a field name of {} bytes", "a name the schema matches against a pattern",
         dsl::kMaxMatchedString},
        {"holds {} items", "an array the schema checks for unique items", dsl::kMaxUniqueItems},
        {"holds {} fields", "an object the schema matches against key patterns",
         dsl::kMaxPatternKeys}};
    places = dsl::input_places(impl_->document, input);
    for (const auto& c : places.costly) {
      const auto& w = kWords[static_cast<int>(c.kind)];
      auto message = fmt::format("{} {}; {} may hold at most {}", place(c.pointer),
                                 fmt::format(fmt::runtime(w.has), c.size), w.what, w.most);
      too_costly.push_back({c.pointer, std::move(message)});
    }
  }
  if (!too_costly.empty()) return too_costly;  // valijson would overflow the stack, or stall
  // What valijson::Validator::validate does, with the patterns compiled above (a copy: valijson
  // adds to the map, and checks run on several threads).
  auto regexes = impl_->regexes;
  valijson::ValidationResults results;
  valijson::adapters::NlohmannJsonAdapter target(input);
  valijson::ValidationVisitor<valijson::adapters::NlohmannJsonAdapter> visitor(
      target, std::vector<std::string>(1, "<root>"), true, &results, regexes);
  std::vector<InputViolation> out;
  try {
    // The patternProperties, stated for this input's keys (see key_patterns.hpp).
    const valijson::Schema* schema = &impl_->schema;
    valijson::Schema stated;
    if (impl_->key_patterns) {
      if (auto document = impl_->key_patterns->stated(places.pattern_keys)) {
        parse(*document, stated);
        schema = &stated;
      }
    }
    if (visitor.validateSchema(*schema)) return out;
  } catch (const std::exception& e) {
    // What the checks at load did not foresee: the start is refused, the engine goes on.
    return {{"", fmt::format("the input could not be checked against the schema: {}",
                             quote_utf8(e.what(), 200))}};
  }
  valijson::ValidationResults::Error error;
  while (results.popError(error)) {
    if (is_wrapper(error.description)) continue;
    std::string pointer = to_pointer(error.context);
    std::string message;
    if (auto name = quoted_after(error.description, "Missing required property '", true)) {
      pointer += "/" + dsl::pointer_token(*name);
      message = fmt::format("{} is missing; it is required", quote_utf8(pointer, 200));
    } else if (auto field =
                   quoted_after(error.description, "additionalProperties' constraints: '", false)) {
      pointer += "/" + dsl::pointer_token(*field);
      message = fmt::format("{} is not a field the schema allows", quote_utf8(pointer, 200));
    } else {
      const nlohmann::json* schema =
          dsl::subschema_at(impl_->document, dsl::steps_of_pointer(impl_->document, pointer));
      nlohmann::json value;
      try {
        value = input.at(nlohmann::json::json_pointer(pointer));
      } catch (const nlohmann::json::exception&) {
      }
      message = fmt::format("{} {}", place(pointer), requirement(error.description, schema, value));
    }
    bool repeated = std::any_of(out.begin(), out.end(),
                                [&](const InputViolation& v) { return v.message == message; });
    if (!repeated) out.push_back(InputViolation{pointer, std::move(message)});
  }
  if (out.empty()) out.push_back(InputViolation{"", "the input does not match its schema"});
  return out;
}

InvalidInput schema_violations(const std::string& workflow, std::vector<InputViolation> violations) {
  std::string all;
  for (const auto& v : violations) all += (all.empty() ? "" : "; ") + v.message;
  return InvalidInput(fmt::format("the input of workflow {} fails its schema: {}", workflow, all),
                      std::move(violations));
}

}  // namespace rmaflow
