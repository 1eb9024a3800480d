// rmaflow graph [FILE] [--format mermaid|dot|svg] [--instance ID --db F]
//
// Prints a workflow as a Mermaid flowchart (default), a Graphviz digraph, or that digraph laid
// out as SVG (as the web console shows it). With --instance the path the instance took is
// highlighted, its current step and failing step marked; without FILE the version the instance
// runs on is read from the database.
#include <fmt/format.h>

#include "engine/api/graph_svg.hpp"
#include "engine/cli/cli_support.hpp"
#include "engine/cli/commands.hpp"
#include "rmaflow/graph.hpp"
#include "rmaflow/versions.hpp"

namespace rmaflow::cli {

namespace {

struct GraphOptions {
  std::string file;
  std::string format = "mermaid";
  std::string instance;
  std::string db;
};

std::shared_ptr<const Definition> stored(Store& store, const InstanceRow& row) {
  auto def = store.get_definition(row.workflow, row.version);
  if (!def)
    throw Error(Errc::not_found, fmt::format("workflow {} version {} is not in the database",
                                             row.workflow, row.version));
  return load_deployed(*def);
}

int graph(const GraphOptions& opt) {
  if (opt.file.empty() && opt.instance.empty())
    throw CLI::ValidationError("a workflow FILE, or --instance ID with --db, is required");
  if (!opt.instance.empty() && opt.db.empty())
    throw CLI::ValidationError("--instance needs --db, the database the instance is in");
  auto draw = [&](const Definition& def, const GraphOverlay* overlay) {
    if (opt.format == "svg") return api::graph_svg(def, overlay);
    return render_graph(def, opt.format == "dot" ? GraphFormat::dot : GraphFormat::mermaid, overlay);
  };
  if (opt.instance.empty()) {
    fmt::print("{}", draw(*load_workflow(opt.file), nullptr));
    return kExitOk;
  }
  auto store = open_for_queries(opt.db);
  auto row = store->get_instance(opt.instance);
  if (!row) throw Error(Errc::not_found, fmt::format("no instance {} in {}", opt.instance, opt.db));
  auto def = opt.file.empty() ? stored(*store, *row) : load_workflow(opt.file);
  if (def->name != row->workflow || def->version != row->version) {
    throw Error(Errc::invalid_argument,
                fmt::format("instance {} runs workflow {} version {}, but {} is workflow {} "
                            "version {}; leave out the file to draw the instance's own version",
                            row->id, row->workflow, row->version, opt.file, def->name,
                            def->version));
  }
  auto overlay = overlay_of(*row, store->history(row->id));
  fmt::print("{}", draw(*def, &overlay));
  return kExitOk;
}

}  // namespace

void register_graph(CLI::App& app, int& exit_code) {
  auto opt = std::make_shared<GraphOptions>();
  auto* cmd = app.add_subcommand(
      "graph",
      "Draw a workflow as a Mermaid flowchart, a Graphviz digraph or SVG: steps, transitions, "
      "catch routes (dashed), timeouts, compensations and ends; with --instance, the path it took");
  cmd->add_option("file", opt->file, "Workflow YAML file (optional with --instance)");
  cmd->add_option("--format", opt->format, "mermaid (default), dot, or svg (laid out by Graphviz)")
      ->check(CLI::IsMember({"mermaid", "dot", "svg"}));
  cmd->add_option("--instance", opt->instance, "Highlight this instance's path and current step");
  cmd->add_option("--db", opt->db, "Database the instance is in");
  cmd->callback([opt, &exit_code] { exit_code = graph(*opt); });
}

}  // namespace rmaflow::cli
