// rmaflow start: starts instances on a running server, one per input. A start is idempotent
// on the workflow's business key: an input already started is reported, not started twice.
// Files hold what `rmaflow run` takes: bare inputs (for --workflow), or start requests
// {workflow, input, business_key?} that name their own workflow.
#include <fmt/format.h>

#include "engine/cli/api_client.hpp"
#include "engine/cli/cli_support.hpp"
#include "engine/cli/commands.hpp"
#include "engine/cli/endpoint.hpp"
#include "engine/support/strict_json.hpp"

namespace rmaflow::cli {

namespace {

struct StartOptions {
  Endpoint endpoint;
  std::string workflow;
  int version = 0;
  std::string business_key;
  std::string correlation_id;
  std::string input;
  std::string format = "text";
  std::vector<std::string> files;
};

// Every input, read before any is sent so that a bad file starts nothing; each names its
// workflow (its own, else --workflow).
std::vector<StartInput> read_start_requests(const StartOptions& opt) {
  std::vector<StartInput> inputs;
  if (!opt.input.empty()) {
    auto doc = parse_strict_json(opt.input, "--input");
    if (!doc.is_object()) throw Error(Errc::invalid_argument, "--input must be a JSON object");
    inputs.push_back(read_start_input("--input", std::move(doc)));
  }
  for (auto& in : read_start_inputs(opt.files)) inputs.push_back(std::move(in));
  if (inputs.empty()) throw Error(Errc::invalid_argument, "give the input: --input JSON or FILE...");
  if (!opt.business_key.empty() && inputs.size() > 1) {
    throw Error(Errc::invalid_argument, "--business-key names one instance; give one input");
  }
  for (auto& in : inputs) {
    if (in.names_workflow) continue;
    if (opt.workflow.empty()) {
      throw Error(Errc::invalid_argument,
                  fmt::format("{} is a bare input: name its workflow with --workflow, or write it "
                              "as {{\"workflow\": ..., \"input\": {{...}}}}",
                              in.name));
    }
    in.request.workflow = opt.workflow;
  }
  return inputs;
}

int start(StartOptions& opt) {
  resolve(opt.endpoint, /*db_allowed=*/false);
  auto inputs = read_start_requests(opt);
  ApiClient client(opt.endpoint);
  auto results = nlohmann::json::array();
  int exit_code = kExitOk;
  for (auto& in : inputs) {
    const auto& workflow = in.request.workflow;
    nlohmann::json body = {{"workflow", workflow}, {"input", std::move(in.request.input)}};
    if (opt.version > 0) body["version"] = opt.version;
    if (in.request.business_key) body["business_key"] = *in.request.business_key;
    if (!opt.business_key.empty()) body["business_key"] = opt.business_key;
    if (!opt.correlation_id.empty()) body["correlation_id"] = opt.correlation_id;
    try {
      auto answer = client.post("/v1/instances", body, in.name).body;
      results.push_back(answer);
      if (opt.format == "text") {
        fmt::print("{}: {} instance {} ({} version {})\n", in.name,
                   answer.value("created", false) ? "started" : "already started as",
                   answer.value("id", ""), workflow, answer.value("version", 0));
      }
    } catch (const ServerRefusal& e) {
      fmt::print(stderr, "rmaflow: {}: {}\n", in.name, e.what());
      exit_code = kExitFailure;
    }
  }
  if (opt.format == "json") fmt::print("{}\n", results.dump(2));
  return exit_code;
}

}  // namespace

void register_start(CLI::App& app, int& exit_code) {
  auto opt = std::make_shared<StartOptions>();
  auto* cmd = app.add_subcommand(
      "start", "Start instances on a running server: one per input (idempotent on the business key)");
  add_server_options(cmd, opt->endpoint);
  cmd->add_option("--workflow", opt->workflow,
                  "The workflow to start for bare inputs (an input {\"workflow\": W, \"input\": "
                  "{...}} names its own)");
  cmd->add_option("--version", opt->version, "A deployed version (default: the newest)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--business-key", opt->business_key,
                  "The business key (default: the workflow's business_key of the input)");
  cmd->add_option("--input", opt->input, "The input as a JSON object");
  cmd->add_option("--correlation-id", opt->correlation_id,
                  "The caller's correlation id (an order or case number; a 32-hex W3C trace id "
                  "is continued as the trace): it reaches the history, every log line and every "
                  "adapter call (default: the instance id)");
  cmd->add_option("--format", opt->format, "Output: text (default) or json")
      ->check(CLI::IsMember({"text", "json"}));
  cmd->add_option("inputs", opt->files,
                  "JSON files, each an input object or an array of them; an element "
                  "{\"workflow\": W, \"input\": {...}} starts workflow W");
  cmd->callback([opt, &exit_code] { exit_code = start(*opt); });
}

}  // namespace rmaflow::cli
