// Operator actions: asked for by callers (the API), or queued in the database by other
// processes (the offline CLI) and applied by the engine when it opens and, while it runs, as
// they arrive. Each queued command's outcome is recorded with the transition that applied it.
#include <fmt/format.h>

#include <limits>

#include "engine/runtime/command_outcome.hpp"
#include "engine/runtime/engine_impl.hpp"
#include "engine/runtime/request_checks.hpp"
#include "engine/support/json_depth.hpp"

namespace rmaflow {

namespace {

// How many queued commands one poll applies; the rest wait for the next.
constexpr std::size_t kCommandsPerPoll = 1000;

}  // namespace

ActionResult EngineImpl::handle_action(const OperatorAction& action) {
  check_request(action);
  if (json_deeper_than(action.args)) {
    throw Error(Errc::invalid_argument,
                fmt::format("the arguments of {} nest deeper than {} levels",
                            to_string(action.kind), kMaxJsonDepth));
  }
  if (action.kind == ActionKind::redrive) return handle_redrive(action);
  auto marked = processing(action.instance_id);
  Instance* inst = &acquire_unfinished(action.instance_id, "cannot be changed");
  try {
    machine_.apply(*inst, action);
  } catch (const Error&) {
    settle(*inst);  // refused: nothing changed; do not keep it in memory
    throw;
  }
  settle(*inst);
  std::string branch;
  if (!action.branch.empty()) {
    for (const auto& c : inst->cursors)
      if (c.branch == action.branch || branch_key(c.branch) == action.branch) branch = c.branch;
    if (branch.empty()) branch = action.branch;
  }
  return ActionResult{inst->row.id, inst->row.status, inst->row.step, branch};
}

ActionResult EngineImpl::handle_redrive(const OperatorAction& action) {
  if (!action.branch.empty()) {
    throw ArgumentError(Errc::invalid_argument,
                        "redrive applies to the whole instance, not to a branch", "branch");
  }
  auto marked = processing(action.instance_id);
  if (!holds(store_->held_shards(), action.instance_id)) {
    throw RoutedElsewhere(action.instance_id, shard_of(action.instance_id));
  }
  auto not_finished = [&](InstanceStatus status) {
    return Error(Errc::refused, fmt::format("instance {} is {}: only a finished instance can be "
                                            "redriven; retry, skip or goto it instead",
                                            action.instance_id, to_string(status)));
  };
  if (Instance* held = find_any(action.instance_id)) {
    if (!is_final(held->row.status)) throw not_finished(held->row.status);
    // Its end is in the batch being committed; the history read below would miss it.
    throw Error(Errc::conflict, fmt::format("instance {} has just ended and its end is not "
                                            "recorded yet; redrive it again in a moment",
                                            action.instance_id));
  }
  std::optional<InstanceRow> row;
  std::vector<EventRow> history;
  {
    std::lock_guard lock(store_mu_);
    row = store_->get_instance(action.instance_id);
    if (row && is_final(row->status)) history = store_->history(action.instance_id);
  }
  if (!row) throw Error(Errc::not_found, fmt::format("no instance {}", action.instance_id));
  if (!is_final(row->status)) throw not_finished(row->status);
  auto loaded = load_instance(std::move(*row));
  std::string step;
  if (action.args.is_object() && action.args.contains("step")) {
    if (!action.args["step"].is_string()) {
      throw Error(Errc::invalid_argument, "the step to redrive at must be a step's name");
    }
    step = action.args["step"].get<std::string>();
  }
  auto plan = plan_redrive(loaded->row, *loaded->definition, history, step);
  Instance& inst = held_.hold_loaded(std::move(loaded));
  try {
    machine_.redrive(inst, action, plan);
  } catch (const Error&) {
    held_.drop(action.instance_id);
    throw;
  }
  settle(inst);
  return ActionResult{inst.row.id, inst.row.status, inst.row.step, ""};
}

void EngineImpl::apply_pending_commands(std::size_t limit) {
  std::vector<CommandRow> pending;
  {
    std::lock_guard lock(store_mu_);
    pending = store_->pending_commands(limit);
  }
  for (const auto& command : pending) {
    // Applied already; its outcome waits in the batch for the next commit.
    if (!applying_.insert(command.id).second) continue;
    batch().then([this, id = command.id] { applying_.erase(id); });
    std::string outcome = "applied";
    try {
      auto body = nlohmann::json::parse(command.body);
      if (body.is_object() && body.contains("job")) {  // a job's, passed on by its node
        outcome = apply_job_command(command, body);
      } else if (command.kind == "cancel_job") {  // passed on by another node (engine_nodes.cpp)
        handle_cancel_job(command.instance_id, body.value("actor", std::string("unknown")),
                          body.value("reason", std::string()));
      } else if (command.kind == "start") {  // passed on by another node (engine_nodes.cpp)
        StartRequest request;
        request.workflow = body.value("workflow", std::string());
        if (body.contains("version")) request.version = body["version"].get<int>();
        request.input = body.value("input", nlohmann::json::object());
        if (body.contains("business_key")) {
          request.business_key = body["business_key"].get<std::string>();
        }
        request.correlation_id = body.value("correlation_id", std::string());
        auto started = handle_start(std::move(request), command.instance_id);
        if (!started.created) {
          outcome = fmt::format("applied: existing instance {}", started.instance_id);
        }
      } else if (command.kind == "signal") {
        SignalRequest request;
        request.instance_id = command.instance_id;
        request.name = body.value("name", std::string());
        request.payload = body.value("payload", nlohmann::json());
        request.match = body.value("match", nlohmann::json());
        request.idempotency_key = body.value("idempotency_key", std::string());
        if (handle_signal(request).duplicate) outcome = "applied: duplicate signal, ignored";
      } else if (auto kind = parse_action_kind(command.kind)) {
        OperatorAction action;
        action.instance_id = command.instance_id;
        action.kind = *kind;
        action.actor = body.value("actor", std::string("unknown"));
        action.reason = body.value("reason", std::string());
        action.args = body.value("args", nlohmann::json::object());
        action.branch = body.value("branch", std::string());
        handle_action(action);
      } else {
        outcome =
            fmt::format("refused: this engine does not know the command \"{}\"", command.kind);
      }
    } catch (const Error& e) {
      outcome = refused_outcome(e);
    } catch (const nlohmann::json::exception& e) {
      outcome = fmt::format("refused: the command's body is not valid JSON ({})", e.what());
    }
    batch().command_done(command.id, clock_->now(), outcome);
  }
}

void EngineImpl::arm_command_poll() {
  if (options_.command_poll <= std::chrono::milliseconds::zero()) return;
  command_poll_.expires_after(options_.command_poll);
  command_poll_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;  // stopping
    // While a kept batch waits to commit, queued commands wait too.
    if (!commit_->holding()) apply_pending_commands(kCommandsPerPoll);
    commit_->request();
    arm_command_poll();
  });
}

}  // namespace rmaflow
