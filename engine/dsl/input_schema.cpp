#include "engine/dsl/input_schema.hpp"

#define VALIJSON_USE_EXCEPTIONS 1
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include "rmaflow/errors.hpp"

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
    out += '/';
    for (char c : token) {
      if (c == '~') out += "~0";
      else if (c == '/') out += "~1";
      else out += c;
    }
  }
  return out;
}

}  // namespace

struct InputSchema::Impl {
  valijson::Schema schema;
};

InputSchema::InputSchema(const nlohmann::json& schema) : impl_(std::make_unique<Impl>()) {
  try {
    valijson::SchemaParser parser;
    valijson::adapters::NlohmannJsonAdapter adapter(schema);
    parser.populateSchema(adapter, impl_->schema);
  } catch (const std::exception& e) {
    throw Error(Errc::invalid_definition, std::string("not a usable JSON Schema: ") + e.what());
  }
}

InputSchema::~InputSchema() = default;

std::optional<InputSchema::Violation> InputSchema::check(const nlohmann::json& input) const {
  valijson::Validator validator;
  valijson::ValidationResults results;
  valijson::adapters::NlohmannJsonAdapter target(input);
  if (validator.validate(impl_->schema, target, &results)) return std::nullopt;
  // The deepest error names the field at fault; outer ones only say a subschema failed.
  std::optional<Violation> best;
  std::size_t best_depth = 0;
  valijson::ValidationResults::Error error;
  while (results.popError(error)) {
    if (!best || error.context.size() > best_depth) {
      best = Violation{to_pointer(error.context), error.description};
      best_depth = error.context.size();
    }
  }
  return best;
}

}  // namespace rmaflow
