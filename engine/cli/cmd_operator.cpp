// rmaflow signal / retry / skip / goto / cancel / patch / resolve. Against a running server
// (--server) each is a request, answered once the engine committed it. Offline on a database
// (--db), the command is checked against the instance as stored and its workflow version (it
// exists and is unfinished, a goto's step exists, a signal is one it can wait for), then
// written to the database's command queue, durably; the engine applies it the next time it
// runs there (or within a moment, when it is running), and with --wait the command says what
// the engine did. Either way its outcome (applied, or refused and why) lands in the instance's
// history; `rmaflow commands` lists the queue and withdraws what is pending.
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "engine/cli/api_client.hpp"
#include "engine/cli/cli_support.hpp"
#include "engine/cli/commands.hpp"
#include "engine/cli/endpoint.hpp"
#include "engine/dsl/signal_names.hpp"
#include "engine/support/json_depth.hpp"
#include "engine/support/strict_json.hpp"
#include "rmaflow/engine.hpp"
#include "rmaflow/versions.hpp"

namespace rmaflow::cli {

namespace {

struct CommandOptions {
  Endpoint endpoint;
  std::string id;
  std::string reason;
  std::string actor;
  // signal
  std::string name;
  std::string data = "null";
  std::string key;
  std::string match;  // JSON; empty: none
  // retry / skip / goto / cancel / patch
  std::string input;
  std::string output;
  std::string step;
  bool compensate = false;
  std::string patch;
  std::string branch;  // retry / skip / goto / resolve: the branch, by path or key
  // offline: wait for the engine's verdict
  bool wait = false;
  std::string timeout = "30s";
};

// The engine refuses documents nested deeper than kMaxJsonDepth when it applies a command;
// an operator action's arguments wrap the option's value in one more level ({"input": ...}).
constexpr std::size_t kMaxArgDepth = kMaxJsonDepth - 1;

constexpr const char* kQueueHelp =
    "Database (a SQLite file or a postgresql:// URI): the command is queued there for the engine (applied when it runs)";

nlohmann::json parse_json_option(const std::string& option, const std::string& text,
                                 std::size_t max_depth = kMaxArgDepth) {
  try {
    return parse_strict_json(text, option, max_depth);
  } catch (const Error& e) {
    // What the shell passed, when it is short enough to read: quoting often mangles it.
    constexpr std::size_t kEchoed = 80;
    if (text.size() > kEchoed) throw;
    throw Error(e.code(), fmt::format("{}: {}", e.what(), text));
  }
}

nlohmann::json action_body(const CommandOptions& opt, nlohmann::json args) {
  nlohmann::json body = {{"actor", opt.actor.empty() ? default_actor() : opt.actor},
                         {"reason", opt.reason},
                         {"args", std::move(args)}};
  if (!opt.branch.empty()) body["branch"] = opt.branch;
  return body;
}

// What can be checked before the engine sees the command: the instance exists and is
// unfinished (finished, for a redrive), and its workflow version has the step a goto or a
// redrive names and waits for the signal a
// signal names. Throws Error saying what is wrong.
void check_queueable(Store& store, const CommandOptions& opt, const std::string& kind,
                     const nlohmann::json& body) {
  const auto& db = opt.endpoint.db;
  auto row = store.get_instance(opt.id);
  if (!row) throw Error(Errc::not_found, fmt::format("no instance {} in {}", opt.id, db));
  if (kind == "redrive" && !is_final(row->status)) {
    throw Error(Errc::refused, fmt::format("instance {} is {}: only a finished instance can be "
                                           "redriven; retry, skip or goto it instead",
                                           opt.id, to_string(row->status)));
  }
  if (kind != "redrive" && is_final(row->status)) {
    throw Error(Errc::refused, fmt::format("instance {} is {}: a finished instance cannot be "
                                           "changed",
                                           opt.id, to_string(row->status)));
  }
  auto stored = store.get_definition(row->workflow, row->version);
  if (!stored) return;  // the engine reports an instance without its definition
  auto definition = load_deployed(*stored);
  if (kind == "goto" || (kind == "redrive" && body["args"].contains("step"))) {
    auto step = body["args"].value("step", std::string());
    if (definition->find(step) == nullptr) {
      std::vector<std::string> steps;
      for (const auto& s : definition->steps) steps.push_back(s.name);
      throw Error(Errc::not_found,
                  fmt::format("workflow {} version {} (instance {}) has no step {}; its steps are: "
                              "{}",
                              row->workflow, row->version, opt.id, step, fmt::join(steps, ", ")));
    }
  }
  if (kind == "signal") {
    if (auto refusal = dsl::signal_refusal(*definition, opt.name); !refusal.empty()) {
      throw Error(Errc::invalid_argument, fmt::format("instance {}: {}", opt.id, refusal));
    }
  }
}

// Waits for the engine to apply or refuse command `id`, and says which.
int await_verdict(const CommandOptions& opt, std::int64_t id) {
  auto timeout = parse_duration(opt.timeout);
  auto deadline = std::chrono::steady_clock::now() + *timeout;
  auto reader = open_for_queries(opt.endpoint.db);
  for (;;) {
    auto command = reader->get_command(id);
    if (command && !command->outcome.empty()) {
      bool refused = !command->outcome.starts_with("applied");
      auto row = reader->get_instance(opt.id);
      fmt::print("command {}: {}{}\n", id, command->outcome,
                 refused || !row ? ""
                                 : fmt::format(" (instance {} is now {} at step {})", opt.id,
                                               to_string(row->status), row->step));
      return refused ? kExitFailure : kExitOk;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      throw Error(Errc::io, fmt::format("command {} is still pending after {}: the engine on {} "
                                        "has not come to it (see rmaflow commands list)",
                                        id, opt.timeout, opt.endpoint.db));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

// Checks the command (check_queueable), then queues it; with --wait, waits for the verdict.
int queue(const CommandOptions& opt, const std::string& kind, nlohmann::json body) {
  const auto& db = opt.endpoint.db;
  if (opt.wait && !parse_duration(opt.timeout)) {
    throw Error(Errc::invalid_argument,
                fmt::format("--timeout \"{}\" is not a duration such as 30s", opt.timeout));
  }
  check_queueable(*open_for_queries(db), opt, kind, body);
  if (opt.wait) {
    if (!engine_running(db)) {
      throw Error(Errc::refused,
                  fmt::format("--wait needs an engine running on {} (rmaflow serve) to apply the "
                              "command, and none is; queue it without --wait and the next "
                              "rmaflow run or serve there applies it",
                              db));
    }
  }
  auto store = open_store(db);
  CommandRow command;
  command.instance_id = opt.id;
  command.kind = kind;
  command.body = body.dump();
  command.created_at = system_clock()->now();
  auto id = store->add_command(command);
  if (opt.wait) {
    fmt::print("queued {} for instance {} as command {}\n", kind, opt.id, id);
    std::fflush(stdout);
    return await_verdict(opt, id);
  }
  fmt::print("queued {} for instance {} as command {}; the engine applies it when it next runs "
             "on {}\n",
             kind, opt.id, id, db);
  return kExitOk;
}

// Asks the server to apply the action `kind` (body: reason and its fields) and says what it did.
int request_action(const CommandOptions& opt, const std::string& kind, const nlohmann::json& body) {
  if (!opt.actor.empty()) {
    throw Error(Errc::invalid_argument,
                "--actor applies offline (--db) only; a server records the token's name");
  }
  auto answer = ApiClient(opt.endpoint)
                    .post(fmt::format("/v1/instances/{}/actions/{}", ApiClient::encode(opt.id),
                                      kind),
                          body)
                    .body;
  fmt::print("{} applied to instance {}: now {} at step {}\n", kind, opt.id,
             answer.value("status", "?"), answer.value("step", "?"));
  return kExitOk;
}

// An operator action: queued offline, or asked of the server. `args` are the action's fields.
int act(CommandOptions& opt, const std::string& kind, nlohmann::json args) {
  resolve(opt.endpoint);
  if (!opt.endpoint.offline()) {
    args["reason"] = opt.reason;
    if (!opt.branch.empty()) args["branch"] = opt.branch;
    return request_action(opt, kind, args);
  }
  return queue(opt, kind, action_body(opt, std::move(args)));
}

int send_signal(CommandOptions& opt) {
  resolve(opt.endpoint);
  auto payload = parse_json_option("--data", opt.data, kMaxJsonDepth);
  auto match = opt.match.empty() ? nlohmann::json() : parse_json_option("--match", opt.match);
  if (opt.endpoint.offline()) {
    return queue(opt, "signal",
                 {{"name", opt.name},
                  {"payload", payload},
                  {"match", match},
                  {"idempotency_key", opt.key}});
  }
  nlohmann::json body = {{"payload", payload}};
  if (!match.is_null()) body["match"] = match;
  if (!opt.key.empty()) body["idempotency_key"] = opt.key;
  auto answer = ApiClient(opt.endpoint)
                    .post(fmt::format("/v1/instances/{}/signals/{}", ApiClient::encode(opt.id),
                                      ApiClient::encode(opt.name)),
                          body)
                    .body;
  if (answer.value("duplicate", false)) {
    fmt::print("signal {} for instance {} was accepted before (key {}); nothing new happened\n",
               opt.name, opt.id, answer.value("idempotency_key", ""));
  } else {
    fmt::print("signal {} accepted for instance {} (key {})\n", opt.name, opt.id,
               answer.value("idempotency_key", ""));
  }
  return kExitOk;
}

// --patch: a JSON object. The engine would refuse one that changes the read-only .input or
// .instance when it applies the command; it is refused before it is queued.
nlohmann::json read_patch(const std::string& text) {
  auto doc = parse_json_option("--patch", text);
  if (!doc.is_object()) throw Error(Errc::invalid_argument, "--patch must be a JSON object");
  for (const char* locked : {"input", "instance"}) {
    if (doc.contains(locked)) {
      throw Error(Errc::refused,
                  fmt::format("--patch cannot change the context's .{}: it is read-only", locked));
    }
  }
  return doc;
}

void add_wait_options(CLI::App* cmd, CommandOptions& opt) {
  auto* wait = cmd->add_flag("--wait", opt.wait,
                             "Offline: wait until the engine running on the database has applied "
                             "or refused the command, and say which (exit 1 when refused)");
  cmd->add_option("--timeout", opt.timeout, "With --wait: how long to wait (default 30s)")
      ->needs(wait);
}

CLI::App* add_action(CLI::App& app, const std::string& name, const std::string& help,
                     const std::shared_ptr<CommandOptions>& opt) {
  auto* cmd = app.add_subcommand(name, help);
  add_endpoint_options(cmd, opt->endpoint, kQueueHelp);
  cmd->add_option("id", opt->id, "Instance id")->required();
  cmd->add_option("--reason", opt->reason, "Why (recorded in the history)")
      ->required()
      ->check(CLI::Validator(
          [](std::string& text) {
            // The engine refuses an action without a reason; say so before it is queued.
            return text.find_first_not_of(" \t") == std::string::npos
                       ? std::string("an operator action needs a reason, not an empty one")
                       : std::string();
          },
          "TEXT", "non-empty"));
  cmd->add_option("--actor", opt->actor, "Who, offline (default: $USER); a server records the token's name");
  if (name != "cancel" && name != "patch" && name != "pause" && name != "resume" &&
      name != "redrive") {
    cmd->add_option("--branch", opt->branch,
                    "The branch to act on (its key, or its path such as inspect_lines[L1]); "
                    "default: the main line, or the one branch with an incident");
  }
  add_wait_options(cmd, *opt);
  return cmd;
}

}  // namespace

void register_operator_commands(CLI::App& app, int& exit_code) {
  auto sig = std::make_shared<CommandOptions>();
  auto* s = app.add_subcommand("signal", "Send a signal to an instance");
  add_endpoint_options(s, sig->endpoint, kQueueHelp);
  s->add_option("id", sig->id, "Instance id")->required();
  s->add_option("name", sig->name, "Signal name, e.g. warehouse.received")->required();
  s->add_option("--data", sig->data, "Payload (JSON, default null)");
  s->add_option("--key", sig->key, "Idempotency key: a repeat with the same key is accepted once");
  s->add_option("--match", sig->match,
                "Match value (JSON, e.g. '\"L1\"'): reaches only the branch whose wait has it");
  add_wait_options(s, *sig);
  s->callback([sig, &exit_code] { exit_code = send_signal(*sig); });

  auto retry = std::make_shared<CommandOptions>();
  auto* r = add_action(app, "retry", "Retry a suspended step (or a pending retry) now", retry);
  r->add_option("--input", retry->input, "Replace the step's input (JSON)");
  r->callback([retry, &exit_code] {
    nlohmann::json args = nlohmann::json::object();
    if (!retry->input.empty()) args["input"] = parse_json_option("--input", retry->input);
    exit_code = act(*retry, "retry", args);
  });

  auto skip = std::make_shared<CommandOptions>();
  auto* k = add_action(app, "skip", "Skip a suspended or waiting step as if it had succeeded", skip);
  k->add_option("--output", skip->output, "The step's result (JSON)");
  k->callback([skip, &exit_code] {
    nlohmann::json args = nlohmann::json::object();
    if (!skip->output.empty()) args["output"] = parse_json_option("--output", skip->output);
    exit_code = act(*skip, "skip", args);
  });

  auto go = std::make_shared<CommandOptions>();
  auto* g = add_action(app, "goto", "Move an instance to another step", go);
  g->add_option("step", go->step, "The step to go to")->required();
  g->callback([go, &exit_code] {
    exit_code = act(*go, "goto", {{"step", go->step}});
  });

  auto cancel = std::make_shared<CommandOptions>();
  auto* c = add_action(app, "cancel", "Cancel an instance", cancel);
  c->add_flag("--compensate", cancel->compensate, "Undo its completed steps first");
  c->callback([cancel, &exit_code] {
    exit_code = act(*cancel, "cancel", {{"compensate", cancel->compensate}});
  });

  auto patch = std::make_shared<CommandOptions>();
  auto* p = add_action(app, "patch", "Apply a JSON merge patch to an instance's context", patch);
  p->add_option("--patch", patch->patch, "The merge patch (a JSON object)")->required();
  p->callback([patch, &exit_code] {
    exit_code = act(*patch, "patch", {{"patch", read_patch(patch->patch)}});
  });

  auto resolve = std::make_shared<CommandOptions>();
  auto* v = add_action(app, "resolve", "Close an instance's incident and end it failed", resolve);
  v->callback([resolve, &exit_code] {
    exit_code = act(*resolve, "resolve", nlohmann::json::object());
  });

  auto pause = std::make_shared<CommandOptions>();
  auto* ps = add_action(app, "pause",
                        "Pause an instance: no step begins and no timer fires until it is "
                        "resumed; calls in flight finish",
                        pause);
  ps->callback([pause, &exit_code] {
    exit_code = act(*pause, "pause", nlohmann::json::object());
  });

  auto redrive = std::make_shared<CommandOptions>();
  auto* rd = add_action(app, "redrive",
                        "Reopen a finished instance that failed, was cancelled, compensated, "
                        "rejected or expired, and run it on from a step",
                        redrive);
  rd->add_option("--step", redrive->step,
                 "The top-level step to run again (default: the one that failed; after a "
                 "compensation, the first one it undid)");
  rd->add_option("--patch", redrive->patch,
                 "A JSON merge patch for its context, applied with the redrive");
  rd->callback([redrive, &exit_code] {
    nlohmann::json args = nlohmann::json::object();
    if (!redrive->step.empty()) args["step"] = redrive->step;
    if (!redrive->patch.empty()) args["patch"] = read_patch(redrive->patch);
    exit_code = act(*redrive, "redrive", args);
  });

  auto resume = std::make_shared<CommandOptions>();
  auto* rs = add_action(app, "resume",
                        "Resume a paused instance: what came due while it was paused happens now",
                        resume);
  rs->callback([resume, &exit_code] {
    exit_code = act(*resume, "resume", nlohmann::json::object());
  });
}

}  // namespace rmaflow::cli
