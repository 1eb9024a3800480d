#include "engine/dsl/workflow_parser.hpp"

#include <fmt/format.h>

#include <filesystem>

#include "engine/dsl/dsl_keys.hpp"
#include "engine/dsl/dsl_names.hpp"
#include "engine/dsl/input_schema.hpp"
#include "engine/dsl/map_reader.hpp"
#include "engine/dsl/policy_reader.hpp"
#include "engine/dsl/step_parser.hpp"
#include "engine/dsl/template_reader.hpp"
#include "engine/dsl/yaml_bounds.hpp"
#include "engine/dsl/yaml_values.hpp"
#include "engine/support/file_text.hpp"
#include "engine/support/strict_json.hpp"

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
  // Bounded as the workflow file that names it, and read as JSON from outside is: the schema
  // validator recurses through the schema, and a schema nested 80,000 levels deep overflowed
  // its stack.
  auto file = read_file_text(resolved.string(), kMaxWorkflowBytes);
  if (file.fault == FileText::Fault::too_large) {
    sink.error(e.where, "bad-input-schema",
               fmt::format("input schema \"{}\" {}", path,
                           past_bound(file.size, kMaxWorkflowBytes, "an input schema file")));
    return std::nullopt;
  }
  if (!file.read()) {
    sink.error(e.where, "bad-input-schema",
               fmt::format("input schema \"{}\" cannot be read (looked for {}): {}", path,
                           resolved.string(), unread_reason(file)));
    return std::nullopt;
  }
  nlohmann::json schema;
  try {
    schema = parse_strict_json(file.text, fmt::format("input schema \"{}\"", path));
  } catch (const Error& error) {
    sink.error(e.where, "bad-input-schema", error.what());
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

// `milestones: {credited: post_credit_memo, received: {step: await_receipt, sla: 10d}}`, read
// once the steps are known: each names a top-level step.
std::vector<Milestone> read_milestones(const MapEntry& e, const Definition& d, DiagnosticSink& sink) {
  std::vector<Milestone> out;
  if (!e.value.IsMap()) {
    sink.error(e.where, "wrong-type",
               fmt::format("\"milestones\" must map milestone names to steps, not {}",
                           describe(e.value)));
    return out;
  }
  MapReader all(e.value, "milestones", e.where, sink);
  for (const auto& entry : all.entries()) {
    Milestone m;
    m.name = entry.key;
    m.where = entry.key_where;
    if (!valid_branch_status(m.name)) {
      sink.error(entry.key_where, "bad-value",
                 fmt::format("milestone name \"{}\" must match [a-z][a-z0-9_-]*", m.name));
      continue;
    }
    if (entry.value.IsMap()) {
      MapReader r(entry.value, fmt::format("milestone \"{}\"", m.name), entry.where, sink);
      r.allow_only(keys_of("milestone"));
      if (auto* step = r.require("step")) m.step = r.string(*step).value_or("");
      if (auto* sla = r.find("sla")) m.sla = r.duration(*sla);
    } else if (entry.value.IsScalar()) {
      m.step = entry.value.Scalar();
    } else {
      all.wrong_type(entry, "a step name or {step, sla}");
      continue;
    }
    if (m.step.empty()) continue;
    const Step* step = d.find(m.step);
    if (step == nullptr) {
      sink.error(entry.where, "unknown-target",
                 fmt::format("milestone \"{}\" names step \"{}\", which the workflow does not have",
                             m.name, m.step));
    } else if (!step->flow.empty()) {
      sink.error(entry.where, "bad-value",
                 fmt::format("milestone \"{}\" names step \"{}\", which runs inside a branch; a "
                             "milestone is a top-level step (reached once per instance)",
                             m.name, m.step));
    } else {
      out.push_back(std::move(m));
    }
  }
  return out;
}

// `attributes: {customer_id: ${ .input.customer_id }, value: ${ [.input.lines[].price] | add }}`:
// the business fields lists filter on.
std::vector<SearchAttribute> read_attributes(const MapEntry& e, DiagnosticSink& sink) {
  std::vector<SearchAttribute> out;
  if (!e.value.IsMap()) {
    sink.error(e.where, "wrong-type",
               fmt::format("\"attributes\" must map attribute names to expressions, not {}",
                           describe(e.value)));
    return out;
  }
  MapReader all(e.value, "attributes", e.where, sink);
  const auto& entries = all.entries();
  if (entries.size() > kMaxSearchAttributes) {
    sink.error(e.where, "bad-value",
               fmt::format("\"attributes\" declares {}; a workflow has at most {}", entries.size(),
                           kMaxSearchAttributes));
  }
  for (const auto& entry : entries) {
    bool named =
        !entry.key.empty() && entry.key.size() <= 63 && entry.key[0] >= 'a' && entry.key[0] <= 'z';
    for (char ch : entry.key) {
      named = named && ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_');
    }
    if (!named) {
      sink.error(entry.key_where, "bad-value",
                 fmt::format("attribute name \"{}\" must match [a-z][a-z0-9_]* (at most 63 "
                             "characters)",
                             entry.key));
      continue;
    }
    auto value =
        read_expression(entry.value, entry.where, "attribute " + entry.key, "the workflow", sink);
    if (value && out.size() < kMaxSearchAttributes) {
      out.push_back({entry.key, std::move(*value), entry.key_where});
    }
  }
  return out;
}

// `incidents: [{errors: [CreditHold], if: ${ ... }, team: finance, sla: 4h}, ...]`: the routes
// an incident is matched against, in order.
std::vector<IncidentRoute> read_incident_routes(const MapEntry& e, DiagnosticSink& sink) {
  std::vector<IncidentRoute> out;
  if (!e.value.IsSequence()) {
    sink.error(e.where, "wrong-type",
               fmt::format("\"incidents\" must be a list of routes ({{errors, if, team, sla}}), "
                           "not {}",
                           describe(e.value)));
    return out;
  }
  int index = 0;
  for (const auto& item : e.value) {
    ++index;
    SourceLocation where = location_of(item, e.where);
    std::string owner = fmt::format("incident route {}", index);
    if (!item.IsMap()) {
      sink.error(where, "wrong-type",
                 fmt::format("{} must be a mapping with team (and errors, if, sla), not {}", owner,
                             describe(item)));
      continue;
    }
    MapReader r(item, owner, where, sink);
    r.allow_only(keys_of("incident_route"));
    IncidentRoute route;
    route.where = where;
    if (auto* errors = r.find("errors")) {
      if (auto codes = r.string_list(*errors)) {
        if (codes->empty()) r.bad_value(*errors, "must name at least one error code (or leave errors out)");
        route.errors = std::move(*codes);
      }
    }
    if (auto* cond = r.find("if")) {
      std::vector<JqSite> found;
      route.condition = read_expression(cond->value, cond->where, "if", owner, sink, &found);
    }
    if (auto* team = r.require("team")) {
      if (auto name = r.string(*team)) {
        if (valid_branch_status(*name))
          route.team = *name;
        else
          r.bad_value(*team, fmt::format("team \"{}\" must match [a-z][a-z0-9_-]*", *name));
      }
    }
    if (auto* sla = r.find("sla")) route.sla = r.duration(*sla);
    if (!route.team.empty()) out.push_back(std::move(route));
  }
  return out;
}

}  // namespace

ParsedWorkflow parse_workflow(const YAML::Node& document, const std::string& base_dir,
                              DiagnosticSink& sink,
                              const std::optional<nlohmann::json>& stored_schema) {
  ParsedWorkflow out;
  Definition& d = out.definition;
  MapReader r(document, std::string(kContext), location_of(document, {1, 1}), sink);
  r.allow_only(keys_of("workflow"));

  if (auto* e = r.require("workflow"))
    if (auto name = read_workflow_name(r, *e)) d.name = *name;
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
  if (auto* e = r.find("incidents")) d.incident_routes = read_incident_routes(*e, sink);
  if (auto* e = r.find("attributes")) d.attributes = read_attributes(*e, sink);

  StepDefaults defaults;
  if (auto* e = r.find("defaults")) defaults = read_defaults(*e, sink);
  d.default_retry = defaults.retry;
  d.default_timeout = defaults.timeout;

  ParseContext cx{defaults, sink, out.facts};
  const MapEntry* start = r.require("start");
  const MapEntry* steps = r.require("steps");
  d.start = parse_flow(start, steps, {"", std::string(kContext)}, std::string(kContext), cx,
                       d.steps)
                .start;
  d.index_steps();
  if (auto* e = r.find("milestones")) d.milestones = read_milestones(*e, d, sink);
  return out;
}

}  // namespace rmaflow::dsl
