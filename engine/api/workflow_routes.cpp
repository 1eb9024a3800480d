// Workflows: what is deployed, one version with its graph, and deploying a new version through
// the same validation and Engine::deploy as the CLI (errors as `validate` reports them).
#include <charconv>

#include <fmt/format.h>

#include "engine/api/api_context.hpp"
#include "engine/api/handlers.hpp"
#include "engine/api/json_body.hpp"
#include "engine/api/problem.hpp"
#include "engine/api/views.hpp"
#include "rmaflow/versions.hpp"

namespace rmaflow::api {

namespace {

// What a deploy request carries: the YAML, the file name for messages and, when the sender
// resolved it, the input schema its `input:` names.
struct Upload {
  std::string source;
  std::string file = "request.yaml";
  std::optional<nlohmann::json> input_schema;
};

Upload read_upload(const net::HttpRequest& request) {
  Upload upload;
  if (has_content_type(request, "application/yaml") || has_content_type(request, "application/x-yaml") ||
      has_content_type(request, "text/yaml")) {
    upload.source = request.body;
    return upload;
  }
  auto body = json_object_body(request);
  BodyFields fields(body);
  upload.source = fields.required_string("source", std::string::npos);
  upload.file = fields.optional_string("file").value_or(upload.file);
  upload.input_schema = fields.optional_object("input_schema");
  fields.finish();
  return upload;
}

[[noreturn]] void invalid_definition(const std::vector<Diagnostic>& diagnostics) {
  auto errors = nlohmann::json::array();
  const Diagnostic* first = nullptr;
  std::size_t count = 0;
  for (const auto& d : diagnostics) {
    if (d.severity != Severity::error) continue;
    if (first == nullptr) first = &d;
    ++count;
    errors.push_back(diagnostic_json(d));
  }
  auto detail = format_diagnostic(*first);
  if (count > 1) detail += fmt::format(" (and {} more)", count - 1);
  Problem problem = make_problem(422, "invalid-definition", detail);
  problem.extra["errors"] = errors;
  throw ProblemError(std::move(problem));
}

// The version a path's {name} and {version} name, as stored (404 when there is none).
DefinitionRow stored_version(ApiContext& context, const ApiRequest& request) {
  const auto& name = request.path.at("name");
  const auto& text = request.path.at("version");
  int version = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), version);
  if (ec != std::errc() || end != text.data() + text.size() || version < 1) {
    fail(404, "not-found", fmt::format("\"{}\" is not a workflow version (1, 2, ...)", text));
  }
  std::optional<DefinitionRow> row;
  {
    auto store = context.reads.get();
    row = store->get_definition(name, version);
  }
  if (!row) fail(404, "not-found", fmt::format("workflow {} has no version {}", name, version));
  return *row;
}

}  // namespace

void list_workflows(ApiContext& context, ApiRequest& request, const Answer& answer) {
  request.query.finish();
  std::vector<DefinitionRow> rows;
  std::vector<StepCount> unfinished;
  {
    auto store = context.reads.get();
    rows = store->list_definitions();
    unfinished = store->count_unfinished("");
  }
  answer(json_response(200, {{"items", workflows_json(rows, unfinished)}}));
}

void get_workflow(ApiContext& context, ApiRequest& request, const Answer& answer) {
  request.query.finish();
  const auto& name = request.path.at("name");
  std::vector<DefinitionRow> rows;
  std::vector<StepCount> unfinished;
  {
    auto store = context.reads.get();
    for (auto& row : store->list_definitions()) {
      if (row.name == name) rows.push_back(std::move(row));
    }
    if (!rows.empty()) unfinished = store->count_unfinished(name);
  }
  if (rows.empty()) fail(404, "not-found", fmt::format("no workflow named {} is deployed", name));
  answer(json_response(200, workflows_json(rows, unfinished).at(0)));
}

void get_workflow_version(ApiContext& context, ApiRequest& request, const Answer& answer) {
  request.query.finish();
  auto row = stored_version(context, request);
  std::shared_ptr<const Definition> loaded;
  try {
    loaded = context.definitions.get(row);
  } catch (const Error&) {
    // Shown without what only a loaded definition tells (its graph, signals, start).
  }
  answer(json_response(200, definition_json(row, loaded.get())));
}

void answer_graph(ApiContext& context, ApiRequest& request, const DefinitionRow& version,
                  const GraphOverlay* overlay, const Answer& answer) {
  auto format = request.query.text("format").value_or("svg");
  request.query.finish();
  if (format != "svg" && format != "dot" && format != "mermaid") {
    bad_parameter("format", fmt::format("format must be svg, dot or mermaid, not \"{}\"", format));
  }
  auto definition = context.definitions.get(version);
  if (format == "dot") {
    answer(net::HttpResponse::with_body(200, render_graph(*definition, GraphFormat::dot, overlay),
                                        "text/vnd.graphviz; charset=utf-8"));
    return;
  }
  if (format == "mermaid") {
    answer(net::HttpResponse::with_body(200,
                                        render_graph(*definition, GraphFormat::mermaid, overlay),
                                        "text/plain; charset=utf-8"));
    return;
  }
  context.drawings.draw(version, *definition, overlay,
                        [answer](std::string svg, std::exception_ptr error) {
                          if (error) {
                            answer(problem_response(problem_for(error)));
                          } else {
                            answer(svg_response(std::move(svg)));
                          }
                        });
}

void get_workflow_graph(ApiContext& context, ApiRequest& request, const Answer& answer) {
  auto row = stored_version(context, request);
  answer_graph(context, request, row, nullptr, answer);
}

void post_workflow(ApiContext& context, ApiRequest& request, const Answer& answer) {
  bool dry_run = request.query.boolean("dry_run").value_or(false);
  request.query.finish();
  auto upload = read_upload(request.http);
  auto loaded = upload.input_schema
                    ? load_stored_definition(upload.source, upload.file,
                                             upload.input_schema->dump(), Compilation::now)
                    : load_definition(upload.source, upload.file, context.workflows_dir);
  if (!loaded.ok()) invalid_definition(loaded.diagnostics);
  const auto& def = *loaded.definition;
  // The engine refuses a deploy whose actions its adapters cannot run; a dry run says so too.
  if (context.adapters) {
    if (auto unknown = check_actions(def, *context.adapters); !unknown.empty()) {
      invalid_definition(unknown);
    }
  }
  DeployCheck check;
  {
    auto store = context.reads.get();
    check = check_deploy(*store, def);
  }
  if (check.verdict == DeployVerdict::conflict) {
    fail(409, "conflict",
         fmt::format("workflow {} version {} is already deployed with other content; give the "
                     "change a new version number",
                     def.name, def.version));
  }
  bool created = false;
  if (!dry_run) created = context.engine.deploy(loaded.definition).created;  // Error(conflict): 409
  auto out = deploy_check_json(check, loaded.diagnostics);
  out["result"] = dry_run ? (check.verdict == DeployVerdict::new_version ? "would deploy" : "unchanged")
                          : (created ? "deployed" : "unchanged");
  out["created"] = created;
  out["content_hash"] = def.content_hash;
  answer(json_response(created ? 201 : 200, out));
}

}  // namespace rmaflow::api
