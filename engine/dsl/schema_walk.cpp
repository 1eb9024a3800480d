#include "engine/dsl/schema_walk.hpp"

#include <charconv>

#include "engine/dsl/schema_references.hpp"

namespace rmaflow::dsl {

namespace {

// `node` with its local $ref followed (a few levels); null for a remote or broken reference.
const nlohmann::json* resolve(const nlohmann::json& root, const nlohmann::json* node) {
  for (int depth = 0; node != nullptr && depth < 16; ++depth) {
    if (!node->is_object() || !node->contains("$ref")) return node;
    const auto& ref = (*node)["$ref"];
    node = ref.is_string() ? referenced(root, ref.get_ref<const std::string&>()) : nullptr;
  }
  return nullptr;
}

// A schema whose meaning at this place also comes from elsewhere.
bool combines(const nlohmann::json& schema) {
  for (const char* key : {"allOf", "anyOf", "oneOf", "if", "not", "patternProperties",
                          "dependencies", "dependentSchemas"}) {
    if (schema.contains(key)) return true;
  }
  return false;
}

bool is_array_schema(const nlohmann::json& schema) {
  if (schema.contains("items")) return true;
  const auto type = schema.value("type", nlohmann::json());
  return type == "array";
}

}  // namespace

const nlohmann::json* subschema_at(const nlohmann::json& root, const std::vector<DocStep>& path) {
  const nlohmann::json* node = resolve(root, &root);
  for (const auto& step : path) {
    if (node == nullptr || !node->is_object() || combines(*node)) return nullptr;
    if (step.element) {
      if (!node->contains("items")) return nullptr;
      const auto& items = (*node)["items"];
      if (items.is_array()) {
        if (step.index < 0 || static_cast<std::size_t>(step.index) >= items.size()) return nullptr;
        node = resolve(root, &items[static_cast<std::size_t>(step.index)]);
      } else {
        node = resolve(root, &items);
      }
      continue;
    }
    const auto props = node->find("properties");
    if (props != node->end() && props->is_object() && props->contains(step.field)) {
      node = resolve(root, &(*props)[step.field]);
      continue;
    }
    const auto more = node->find("additionalProperties");
    if (more == node->end() || !more->is_object()) return nullptr;
    node = resolve(root, &*more);
  }
  return node != nullptr && node->is_object() ? node : nullptr;
}

std::vector<DocStep> steps_of_pointer(const nlohmann::json& root, const std::string& pointer) {
  std::vector<DocStep> steps;
  std::size_t at = 0;
  while (at < pointer.size() && pointer[at] == '/') {
    auto next = pointer.find('/', at + 1);
    std::string token = pointer.substr(at + 1, next == std::string::npos ? std::string::npos
                                                                           : next - at - 1);
    std::string field;
    for (std::size_t i = 0; i < token.size(); ++i) {
      if (token[i] == '~' && i + 1 < token.size()) {
        field += token[i + 1] == '1' ? '/' : '~';
        ++i;
      } else {
        field += token[i];
      }
    }
    const nlohmann::json* here = subschema_at(root, steps);
    long index = -1;
    auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), index);
    bool numeric = ec == std::errc() && end == field.data() + field.size() && index >= 0;
    if (numeric && here != nullptr && is_array_schema(*here)) {
      steps.push_back(DocStep{{}, index, true});
    } else {
      steps.push_back(DocStep{field, -1, false});
    }
    if (next == std::string::npos) break;
    at = next;
  }
  return steps;
}

FieldFacts field_facts(const nlohmann::json& root, const nlohmann::json& object_schema,
                       const std::string& field) {
  FieldFacts facts;
  const nlohmann::json* node = resolve(root, &object_schema);
  if (node == nullptr || !node->is_object() || combines(*node)) return facts;
  auto props = node->find("properties");
  if (props == node->end() || !props->is_object()) return facts;
  for (const auto& [name, _] : props->items()) facts.declared.push_back(name);
  facts.kind = props->contains(field) ? FieldFacts::Kind::declared : FieldFacts::Kind::undeclared;
  return facts;
}

}  // namespace rmaflow::dsl
