#include "engine/dsl/workflow_parser.hpp"

#include "engine/dsl/input_schema.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "engine/dsl/dsl_keys.hpp"
#include "engine/dsl/map_reader.hpp"
#include "engine/dsl/policy_reader.hpp"
#include "engine/dsl/step_parser.hpp"
#include "engine/dsl/template_reader.hpp"
#include "engine/dsl/yaml_values.hpp"

namespace rmaflow::dsl {

namespace {

constexpr std::string_view kContext = "the workflow";

// `input:` is a path to a JSON Schema file (relative to base_dir) or the schema inline.
std::optional<nlohmann::json> read_input_schema(const MapEntry& e, const std::string& base_dir,
                                                DiagnosticSink& sink) {
  if (e.value.IsMap()) return to_json(e.value, &sink, "the input schema");
  if (!e.value.IsScalar() || e.value.Scalar().empty()) {
    sink.error(e.where, "bad-input-schema",
               fmt::format("\"input\" must be a JSON Schema file path or an inline schema "
                           "mapping, not {}",
                           describe(e.value)));
    return std::nullopt;
  }
  const std::string& path = e.value.Scalar();
  std::filesystem::path resolved = std::filesystem::path(path).is_absolute()
                                       ? std::filesystem::path(path)
                                       : std::filesystem::path(base_dir) / path;
  std::ifstream in(resolved, std::ios::binary);
  std::error_code ec;
  if (!in || !std::filesystem::is_regular_file(resolved, ec)) {
    sink.error(
        e.where, "bad-input-schema",
        fmt::format("input schema \"{}\" cannot be read (looked for {})", path, resolved.string()));
    return std::nullopt;
  }
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json schema = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (schema.is_discarded()) {
    sink.error(e.where, "bad-input-schema",
               fmt::format("input schema \"{}\" is not valid JSON", path));
    return std::nullopt;
  }
  if (!schema.is_object()) {
    sink.error(
        e.where, "bad-input-schema",
        fmt::format("input schema \"{}\" must be a JSON object, not {}", path, schema.type_name()));
    return std::nullopt;
  }
  return schema;
}

void read_steps(const MapEntry& e, const StepDefaults& defaults, DiagnosticSink& sink,
                ParsedWorkflow& out) {
  if (!e.value.IsMap()) {
    sink.error(e.where, "wrong-type",
               fmt::format("\"steps\" in the workflow must be a mapping of step names to steps, "
                           "not {}",
                           describe(e.value)));
    return;
  }
  MapReader steps(e.value, "steps", e.key_where, sink, "duplicate-step");
  if (steps.entries().empty())
    sink.error(e.where, "bad-value", "\"steps\" in the workflow must define at least one step");
  for (const auto& entry : steps.entries()) {
    out.facts.declared.insert(entry.key);
    if (auto step = parse_step(entry, defaults, sink, out.facts))
      out.definition.steps.push_back(std::move(*step));
  }
}

}  // namespace

ParsedWorkflow parse_workflow(const YAML::Node& document, const std::string& base_dir,
                              DiagnosticSink& sink,
                              const std::optional<nlohmann::json>& stored_schema) {
  ParsedWorkflow out;
  Definition& d = out.definition;
  MapReader r(document, std::string(kContext), location_of(document, {1, 1}), sink);
  r.allow_only(keys_of("workflow"));

  if (auto* e = r.require("workflow")) {
    static const std::regex kName("[a-z][a-z0-9-]*");
    if (auto name = r.string(*e)) {
      if (std::regex_match(*name, kName))
        d.name = *name;
      else
        r.bad_value(*e, fmt::format("must match [a-z][a-z0-9-]*, not \"{}\"", *name));
    }
  }
  if (auto* e = r.require("version"))
    if (auto v = r.integer(*e, 1))
      d.version = static_cast<int>(std::min<std::int64_t>(*v, INT32_MAX));
  if (auto* e = r.find("description")) {
    if (e->value.IsScalar())
      d.description = e->value.Scalar();
    else if (!e->value.IsNull())
      r.wrong_type(*e, "a string");
  }
  if (auto* e = r.find("input")) {
    d.input_schema = stored_schema ? stored_schema : read_input_schema(*e, base_dir, sink);
    if (d.input_schema) {
      try {
        InputSchema compiled(*d.input_schema);
      } catch (const Error& err) {
        sink.error(e->where, "bad-input-schema",
                   fmt::format("the input schema is {}", err.what()));
        d.input_schema.reset();
      }
    }
  }
  if (auto* e = r.find("business_key")) {
    std::vector<JqSite> found;
    d.business_key =
        read_expression(e->value, e->where, "business_key", "the workflow", sink, &found);
    for (auto& site : found) {
      out.facts.expressions.push_back({ExpressionSite::Role::business_key, "", "business_key", "",
                                       0, std::move(site.program), site.where});
    }
  }
  if (auto* e = r.find("on_failure")) {
    if (auto policy = r.string(*e)) {
      if (*policy == "suspend")
        d.on_failure = FailurePolicy::suspend;
      else if (*policy == "compensate")
        d.on_failure = FailurePolicy::compensate;
      else
        r.bad_value(*e, fmt::format("must be suspend or compensate, not \"{}\"", *policy));
    }
  }
  if (auto* e = r.find("sla")) d.sla = r.duration(*e);

  StepDefaults defaults;
  if (auto* e = r.find("defaults")) defaults = read_defaults(*e, sink);
  d.default_retry = defaults.retry;
  d.default_timeout = defaults.timeout;

  if (auto* e = r.require("start")) {
    if (auto start = r.string(*e)) {
      d.start = *start;
      out.facts.transitions.push_back({"", *start, "start", "the workflow", e->where});
    }
  }
  if (auto* e = r.require("steps")) read_steps(*e, defaults, sink, out);
  d.index_steps();
  return out;
}

}  // namespace rmaflow::dsl
