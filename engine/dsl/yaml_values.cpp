#include "engine/dsl/yaml_values.hpp"

#include "engine/support/yaml_json.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <set>

namespace rmaflow::dsl {

namespace {

// Deeper than any sensible workflow; guards against alias cycles.
constexpr int kMaxDepth = 200;

std::string key_text(const YAML::Node& key) {
  return key.IsScalar() ? key.Scalar() : to_json(key).dump();
}

nlohmann::json convert(const YAML::Node& node, DiagnosticSink* sink, const std::string& context,
                       const StringVisitor& visit, const nlohmann::json::json_pointer& where,
                       int depth) {
  if (depth > kMaxDepth) return nullptr;
  switch (node.Type()) {
    case YAML::NodeType::Scalar: {
      nlohmann::json value = scalar_value(node);
      if (value.is_string() && visit) visit(value.get_ref<const std::string&>(), where, node);
      return value;
    }
    case YAML::NodeType::Sequence: {
      nlohmann::json out = nlohmann::json::array();
      std::size_t i = 0;
      for (const auto& item : node) {
        out.push_back(convert(item, sink, context, visit, where / i, depth + 1));
        ++i;
      }
      return out;
    }
    case YAML::NodeType::Map: {
      nlohmann::json out = nlohmann::json::object();
      std::map<std::string, SourceLocation> seen;
      for (const auto& entry : node) {
        const YAML::Node& key = entry.first;
        SourceLocation key_where = location_of(key);
        if (!key.IsScalar() && sink != nullptr) {
          sink->error(key_where, "wrong-type",
                      fmt::format("a key in {} must be a string, not {}", context, describe(key)));
          continue;
        }
        std::string name = key_text(key);
        auto [first, inserted] = seen.emplace(name, key_where);
        if (!inserted) {
          if (sink != nullptr)
            sink->error(key_where, "duplicate-key",
                        fmt::format("duplicate key \"{}\" in {} (first at line {})", name, context,
                                    first->second.line));
          continue;
        }
        out[name] = convert(entry.second, sink, context, visit, where / name, depth + 1);
      }
      return out;
    }
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      break;
  }
  return nullptr;
}

}  // namespace

nlohmann::json scalar_value(const YAML::Node& scalar) { return yaml_scalar_value(scalar); }

std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return "empty";
    case YAML::NodeType::Scalar:
      break;
  }
  nlohmann::json value = scalar_value(node);
  if (value.is_boolean()) return "a boolean";
  if (value.is_number_integer()) return "an integer";
  if (value.is_number()) return "a number";
  if (value.is_null()) return "null";
  return "a string";
}

nlohmann::json to_json(const YAML::Node& node, DiagnosticSink* sink, const std::string& context,
                       const StringVisitor& visit) {
  return convert(node, sink, context, visit, nlohmann::json::json_pointer(), 0);
}

}  // namespace rmaflow::dsl
