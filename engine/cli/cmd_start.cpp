// rmaflow start: starts instances on a running server, one per input. A start is idempotent
// on the workflow's business key: an input already started is reported, not started twice.
#include <fmt/format.h>

#include "engine/cli/api_client.hpp"
#include "engine/cli/cli_support.hpp"
#include "engine/cli/commands.hpp"
#include "engine/cli/endpoint.hpp"

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

int start(StartOptions& opt) {
  resolve(opt.endpoint, /*db_allowed=*/false);
  // Read every input before sending any, so a bad file starts nothing.
  std::vector<std::pair<std::string, nlohmann::json>> inputs;
  if (!opt.input.empty()) {
    auto doc = nlohmann::json::parse(opt.input, nullptr, false);
    if (!doc.is_object()) throw Error(Errc::invalid_argument, "--input must be a JSON object");
    inputs.emplace_back("--input", std::move(doc));
  }
  for (auto& named : read_named_inputs(opt.files)) inputs.push_back(std::move(named));
  if (inputs.empty()) throw Error(Errc::invalid_argument, "give the input: --input JSON or FILE...");
  if (!opt.business_key.empty() && inputs.size() > 1) {
    throw Error(Errc::invalid_argument, "--business-key names one instance; give one input");
  }

  ApiClient client(opt.endpoint);
  auto results = nlohmann::json::array();
  int exit_code = kExitOk;
  for (auto& [name, input] : inputs) {
    nlohmann::json body = {{"workflow", opt.workflow}, {"input", std::move(input)}};
    if (opt.version > 0) body["version"] = opt.version;
    if (!opt.business_key.empty()) body["business_key"] = opt.business_key;
    if (!opt.correlation_id.empty()) body["correlation_id"] = opt.correlation_id;
    try {
      auto answer = client.post("/v1/instances", body).body;
      results.push_back(answer);
      if (opt.format == "text") {
        fmt::print("{}: {} instance {} ({} version {})\n", name,
                   answer.value("created", false) ? "started" : "already started as",
                   answer.value("id", ""), opt.workflow, answer.value("version", 0));
      }
    } catch (const ServerRefusal& e) {
      fmt::print(stderr, "rmaflow: {}: {}\n", name, e.what());
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
  cmd->add_option("--workflow", opt->workflow, "The workflow to start")->required();
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
  cmd->add_option("inputs", opt->files, "JSON files, each one input object or an array of them");
  cmd->callback([opt, &exit_code] { exit_code = start(*opt); });
}

}  // namespace rmaflow::cli
