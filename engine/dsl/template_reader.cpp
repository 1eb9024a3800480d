#include "engine/dsl/template_reader.hpp"

#include <fmt/format.h>

#include <vector>

#include "engine/dsl/jq_bounds.hpp"
#include "engine/dsl/yaml_values.hpp"

namespace rmaflow::dsl {

namespace {

using Site = JqSite;

std::string site_label(const std::string& label, const nlohmann::json::json_pointer& where) {
  return where.empty() ? label : label + where.to_string();
}

// Reports jq-unbounded and jq-env; true when the program may be compiled.
bool bounded(const Site& site, const std::string& context, DiagnosticSink& sink) {
  if (auto env = find_environment_access(site.program)) {
    sink.error(site.where, "jq-env",
               fmt::format("jq expression \"{}\" in {} of {} reads the environment ({}); "
                           "expressions may read only the instance context",
                           site.program, site.label, context, env->construct));
    return false;
  }
  auto construct = find_unbounded_construct(site.program);
  if (!construct) return true;
  sink.error(site.where, "jq-unbounded",
             fmt::format("jq expression \"{}\" in {} of {} uses {}, which may not terminate; v1 "
                         "expressions must be bounded",
                         site.program, site.label, context, construct->construct));
  return false;
}

void report_compile_error(const Site& site, const std::string& context, const ExpressionError& e,
                          DiagnosticSink& sink) {
  sink.error(site.where, "jq-compile", fmt::format("{} ({} of {})", e.what(), site.label, context));
}

}  // namespace

std::optional<Template> read_template(const YAML::Node& value, SourceLocation where,
                                      const std::string& label, const std::string& context,
                                      DiagnosticSink& sink, std::vector<JqSite>* found) {
  std::vector<Site> sites;
  auto visit = [&](const std::string& text, const nlohmann::json::json_pointer& pointer,
                   const YAML::Node& node) {
    std::string program;
    if (Template::is_expression(text, &program)) {
      sites.push_back({program, site_label(label, pointer), location_of(node, where)});
    } else if (text.find("${") != std::string::npos) {
      sink.warning(location_of(node, where), "template-in-string",
                   fmt::format("\"{}\" in {} of {} is not a template: only a value that is exactly "
                               "${{ ... }} is evaluated (v1 has no interpolation)",
                               text, site_label(label, pointer), context));
    }
  };
  std::size_t errors_before = sink.error_count();
  nlohmann::json raw = to_json(value, &sink, fmt::format("{} of {}", label, context), visit);
  if (found != nullptr) found->insert(found->end(), sites.begin(), sites.end());
  bool ok = sink.error_count() == errors_before;
  std::vector<const Site*> compilable;
  for (const auto& site : sites) {
    if (bounded(site, context, sink))
      compilable.push_back(&site);
    else
      ok = false;
  }
  if (ok) {
    try {
      return Template::compile(raw, label, context, sink.jq_compilation());
    } catch (const ExpressionError&) {
      // Reported below, where each bad expression is written.
    }
  }
  // Something is wrong: compile one by one, so that every bad expression is reported.
  for (const Site* site : compilable) {
    try {
      Expression::compile(site->program);
    } catch (const ExpressionError& e) {
      report_compile_error(*site, context, e, sink);
    }
  }
  return std::nullopt;
}

std::optional<Expression> read_expression(const YAML::Node& value, SourceLocation where,
                                          const std::string& label, const std::string& context,
                                          DiagnosticSink& sink, std::vector<JqSite>* found) {
  where = location_of(value, where);
  if (!value.IsScalar() || value.Scalar().empty()) {
    sink.error(where, "wrong-type",
               fmt::format("\"{}\" in {} must be a jq expression, not {}", label, context,
                           describe(value)));
    return std::nullopt;
  }
  Site site{value.Scalar(), label, where};
  std::string inner;
  if (Template::is_expression(site.program, &inner)) site.program = inner;
  if (found != nullptr) found->push_back(site);
  if (!bounded(site, context, sink)) return std::nullopt;
  try {
    return Expression::compile(site.program, fmt::format("{} of {}", label, context),
                               sink.jq_compilation());
  } catch (const ExpressionError& e) {
    report_compile_error(site, context, e, sink);
    return std::nullopt;
  }
}

}  // namespace rmaflow::dsl
