// load_definition and load_definition_file: YAML text -> parsed, validated Definition.
#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>

#include "engine/dsl/context_flow.hpp"
#include "engine/dsl/diagnostic_sink.hpp"
#include "engine/dsl/graph_checks.hpp"
#include "engine/dsl/lints.hpp"
#include "engine/dsl/syntax_hint.hpp"
#include "engine/dsl/workflow_parser.hpp"
#include "engine/dsl/yaml_bounds.hpp"
#include "engine/dsl/yaml_values.hpp"
#include "engine/support/file_text.hpp"
#include "engine/support/sha256.hpp"
#include "rmaflow/definition.hpp"

namespace rmaflow {

namespace {

// The canonical content: the document as JSON (objects keep their keys sorted, so formatting,
// comments and key order do not matter) and the resolved input schema.
std::string content_hash(const YAML::Node& document, const Definition& d) {
  std::string canonical = dsl::to_json(document).dump();
  canonical += '\n';
  if (d.input_schema) canonical += d.input_schema->dump();
  return sha256_hex(canonical);
}

void report_syntax_error(const YAML::ParserException& e, const std::string& yaml,
                         dsl::DiagnosticSink& sink) {
  std::string message = e.msg;
  std::size_t at = e.mark.pos >= 0 ? static_cast<std::size_t>(e.mark.pos) : yaml.size();
  if (dsl::unquoted_template_in_flow(yaml, at)) {
    message +=
        "; a ${ } template inside a flow collection ({ } or [ ]) must be quoted, as YAML "
        "requires: write \"${ ... }\"";
  }
  SourceLocation where = dsl::location_of(e.mark);
  sink.error(where.line == 0 ? SourceLocation{1, 1} : where, "yaml-syntax",
             fmt::format("YAML syntax error: {}", message));
}

LoadResult finish(dsl::DiagnosticSink& sink, std::shared_ptr<const Definition> definition) {
  LoadResult result;
  if (!sink.has_errors()) result.definition = std::move(definition);
  result.diagnostics = sink.take();
  return result;
}

}  // namespace

namespace {

LoadResult load(const std::string& yaml, const std::string& file, const std::string& base_dir,
                const std::optional<nlohmann::json>& stored_schema, Compilation jq) {
  dsl::DiagnosticSink sink(file, jq);
  if (auto problem = dsl::check_yaml_bounds(yaml)) {
    sink.error(problem->where, problem->code, problem->message);
    return finish(sink, nullptr);
  }
  YAML::Node document;
  try {
    document = YAML::Load(yaml);
  } catch (const YAML::ParserException& e) {
    report_syntax_error(e, yaml, sink);
    return finish(sink, nullptr);
  } catch (const YAML::Exception& e) {
    sink.error(dsl::location_of(e.mark), "yaml-syntax", fmt::format("YAML error: {}", e.msg));
    return finish(sink, nullptr);
  }
  if (!document.IsMap()) {
    sink.error(dsl::location_of(document, {1, 1}), "wrong-type",
               fmt::format("a workflow file must be a YAML mapping (workflow, version, start, "
                           "steps, ...), not {}",
                           dsl::describe(document)));
    return finish(sink, nullptr);
  }
  try {
    dsl::ParsedWorkflow parsed = dsl::parse_workflow(document, base_dir, sink, stored_schema);
    dsl::check_graph(parsed.definition, parsed.facts, sink);
    if (sink.has_errors()) return finish(sink, nullptr);
    // The lints read a definition that holds together: every transition names a step.
    dsl::check_context_flow(parsed.definition, parsed.facts, sink);
    dsl::check_lints(parsed.definition, parsed.facts, sink);
    auto definition = std::make_shared<Definition>(std::move(parsed.definition));
    definition->source = yaml;
    definition->file = file;
    definition->content_hash = content_hash(document, *definition);
    definition->index_steps();  // the move kept the index, but the contract is: call after filling
    return finish(sink, std::move(definition));
  } catch (const YAML::Exception& e) {
    // yaml-cpp raises on some malformed documents only when a node is read.
    sink.error(dsl::location_of(e.mark), "yaml-syntax", fmt::format("YAML error: {}", e.msg));
    return finish(sink, nullptr);
  }
}

}  // namespace

LoadResult load_definition(const std::string& yaml, const std::string& file,
                           const std::string& base_dir, Compilation jq) {
  return load(yaml, file, base_dir, std::nullopt, jq);
}

LoadResult load_stored_definition(const std::string& yaml, const std::string& file,
                                  const std::string& input_schema, Compilation jq) {
  std::optional<nlohmann::json> schema;
  if (!input_schema.empty()) {
    schema = nlohmann::json::parse(input_schema, nullptr, /*allow_exceptions=*/false);
    if (schema->is_discarded()) {
      LoadResult result;
      result.diagnostics.push_back(Diagnostic{file, {1, 1}, Severity::error, "bad-input-schema",
                                              "the stored input schema is not valid JSON"});
      return result;
    }
  }
  return load(yaml, file, ".", schema, jq);
}

LoadResult load_definition_file(const std::string& path, Compilation jq) {
  auto file = read_file_text(path, dsl::kWorkflowBounds.bytes);
  if (!file.read()) {
    dsl::DiagnosticSink sink(path);
    if (file.fault == FileText::Fault::too_large) {
      auto problem = dsl::too_large(file.size, dsl::kWorkflowBounds);
      sink.error(problem.where, problem.code, problem.message);
    } else {
      sink.error({1, 1}, "io", unread_sentence(path, file, "the workflow file"));
    }
    return finish(sink, nullptr);
  }
  std::string base_dir = std::filesystem::path(path).parent_path().string();
  return load_definition(file.text, path, base_dir.empty() ? "." : base_dir, jq);
}

}  // namespace rmaflow
