// Operator actions: asked for by callers (the API), or queued in the database by other
// processes (the offline CLI) and applied by the engine when it opens and, while it runs, as
// they arrive. Each queued command's outcome is recorded with the transition that applied it.
#include <fmt/format.h>

#include <limits>

#include "engine/runtime/engine_impl.hpp"
#include "engine/runtime/request_checks.hpp"
#include "engine/support/json_depth.hpp"

namespace rmaflow {

namespace {

// How many queued commands one poll applies; the rest wait for the next.
constexpr std::size_t kCommandsPerPoll = 1000;

}  // namespace

void EngineImpl::act(OperatorAction action, ReplyFn<ActionResult> done) {
  submit<ActionResult>([this, action = std::move(action)] { return handle_action(action); },
                       std::move(done));
}

ActionResult EngineImpl::handle_action(const OperatorAction& action) {
  check_request(action);
  if (json_deeper_than(action.args)) {
    throw Error(Errc::invalid_argument,
                fmt::format("the arguments of {} nest deeper than {} levels",
                            to_string(action.kind), kMaxJsonDepth));
  }
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

void EngineImpl::apply_pending_commands(std::size_t limit) {
  std::vector<CommandRow> pending;
  {
    std::lock_guard lock(store_mu_);
    pending = store_->pending_commands(limit);
  }
  for (const auto& command : pending) {
    // Applied already; its outcome waits in the batch for the next commit.
    if (command.id <= last_command_) continue;
    last_command_ = command.id;
    std::string outcome = "applied";
    try {
      auto body = nlohmann::json::parse(command.body);
      if (command.kind == "signal") {
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
      outcome = fmt::format("refused: {}", e.what());
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
