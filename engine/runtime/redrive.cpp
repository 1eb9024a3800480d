// Redrive (see redrive.hpp): the plan is read from the history of the run that ended; the
// transition reopens the instance under the same id, records the previous end in one audited
// operator_action, and enters the step. Steps before it keep their results; what runs again
// is entered anew, so its visit, and with it its idempotency key, is new.
#include "engine/runtime/redrive.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <span>

#include "engine/runtime/step_machine.hpp"
#include "engine/support/branch_path.hpp"

namespace rmaflow {

namespace {

[[noreturn]] void refuse_redrive(const InstanceRow& row, const std::string& why) {
  throw Error(Errc::refused,
              fmt::format("instance {} is {}: {}", row.id, to_string(row.status), why));
}

nlohmann::json run_event_data(const EventRow& event) {
  auto data = nlohmann::json::parse(event.data, nullptr, false);
  return data.is_object() ? data : nlohmann::json::object();
}

// The events of the run that ended: those after the last redrive, or all of them.
std::span<const EventRow> last_run(const std::vector<EventRow>& history) {
  std::size_t from = 0;
  for (std::size_t i = history.size(); i-- > 0;) {
    const auto& e = history[i];
    if (e.type == EventType::operator_action &&
        run_event_data(e).value("action", "") == "redrive") {
      from = i + 1;
      break;
    }
  }
  return {history.data() + from, history.size() - from};
}

// The top-level branch an event happened in ("inspect[L1]" for "inspect[L1]/check[A]").
std::string top_branch(const std::string& branch) {
  return branch.substr(0, branch.find('/'));
}

// The top-level step an event belongs to: its own, or the fan-out step of its branch.
std::string top_step(const EventRow& e) {
  return e.branch.empty() ? e.step : e.branch.substr(0, e.branch.find('['));
}

bool is_end(const Step& step) {
  return step.kind() == StepKind::end;
}

}  // namespace

RedrivePlan plan_redrive(const InstanceRow& row, const Definition& definition,
                         const std::vector<EventRow>& history, const std::string& requested) {
  if (!is_final(row.status)) {
    refuse_redrive(row, "only a finished instance can be redriven; retry, skip or goto it instead");
  }
  if (row.status == InstanceStatus::completed) {
    refuse_redrive(row, "it completed, so nothing failed that could run again");
  }
  if (row.parent) {
    refuse_redrive(row,
                   fmt::format("it was started by step {} of instance {}; redrive that instance at "
                               "step {} instead",
                               row.parent->step, row.parent->instance_id, row.parent->step));
  }
  auto run = last_run(history);

  // Where the main line entered each top-level step last, and what compensation undid.
  std::map<std::string, std::int64_t> entered;
  std::string last_before_end;  // the last step entered that is not an end step
  std::set<std::string> undone_steps;
  std::set<std::string> undone_branches;
  for (const auto& e : run) {
    if (e.type == EventType::step_entered && e.branch.empty()) {
      entered[e.step] = e.seq;
      const Step* step = definition.find(e.step);
      if (step != nullptr && !is_end(*step)) last_before_end = e.step;
    } else if (e.type == EventType::compensation_step_completed) {
      undone_steps.insert(top_step(e));
      if (!e.branch.empty()) undone_branches.insert(top_branch(e.branch));
    }
  }
  std::string first_undone;
  for (const auto& name : undone_steps) {
    auto at = entered.find(name);
    if (at == entered.end()) continue;
    if (first_undone.empty() || at->second < entered[first_undone]) first_undone = name;
  }

  RedrivePlan plan;
  plan.previous_end = {{"status", to_string(row.status)}, {"step", row.step}};
  if (row.ended_at) plan.previous_end["ended_at"] = format_time(*row.ended_at);

  plan.step = requested;
  if (plan.step.empty()) {
    const Step* stood = definition.find(row.step);
    if (!first_undone.empty()) {
      plan.step = first_undone;  // everything from there on was undone
    } else if (stood != nullptr && !is_end(*stood)) {
      plan.step = row.step;  // where it failed or was cancelled
    } else if (!last_before_end.empty()) {
      plan.step = last_before_end;  // what led to its end step (a switch, a wait that expired)
    } else {
      refuse_redrive(row, "it ran no step that could run again; name the step to redrive it at");
    }
  }
  const Step* step = definition.find(plan.step);
  if (step == nullptr) {
    throw Error(Errc::not_found, fmt::format("workflow {} version {} has no step {}", row.workflow,
                                             row.version, plan.step));
  }
  if (!step->flow.empty()) {
    refuse_redrive(row,
                   fmt::format("step {} is inside the sub-flow of step {}; an instance is redriven "
                               "at a top-level step (a foreach or parallel step keeps the branches "
                               "that completed and runs the others again)",
                               plan.step, step->flow.substr(0, step->flow.find('.'))));
  }
  if (is_end(*step))
    refuse_redrive(row, fmt::format("step {} is an end step: nothing would run", plan.step));
  if (!first_undone.empty()) {
    auto at = entered.find(plan.step);
    if (at == entered.end() || at->second > entered[first_undone]) {
      refuse_redrive(
          row, fmt::format("its compensation undid step {} and what came after it; redrive it "
                           "at step {} or at a step before it",
                           first_undone, first_undone));
    }
  }

  // A fan-out step keeps the branches that reached an end in its last run, unless undone.
  if (step->fans_out()) {
    auto started = std::find_if(run.rbegin(), run.rend(), [&](const EventRow& e) {
      return e.type == EventType::branches_started && e.branch.empty() && e.step == plan.step;
    });
    for (auto it = started.base(); started != run.rend() && it != run.end(); ++it) {
      if (it->type != EventType::branch_ended || parent_branch(it->branch) != "" ||
          top_step(*it) != plan.step || undone_branches.count(it->branch) > 0) {
        continue;
      }
      auto data = run_event_data(*it);
      auto status = data.value("status", "");
      if (status.empty() || status == "failed" || status == "abandoned" || data.contains("error")) {
        continue;
      }
      plan.kept_branches[branch_key(it->branch)] = {
          {"status", status}, {"output", data.value("output", nlohmann::json())}};
    }
  }
  return plan;
}

void StepMachine::redrive(Instance& inst, const OperatorAction& action, const RedrivePlan& plan) {
  if (action.reason.empty()) {
    throw Error(Errc::invalid_argument, "an operator action needs a reason");
  }
  nlohmann::json args = {{"step", plan.step}};
  const auto* patch =
      action.args.is_object() && action.args.contains("patch") ? &action.args["patch"] : nullptr;
  if (patch != nullptr) {
    check_patch(*patch);
    args["patch"] = *patch;
  }
  if (!plan.kept_branches.empty()) {
    nlohmann::json keys = nlohmann::json::array();
    for (const auto& [key, output] : plan.kept_branches) keys.push_back(key);
    args["kept_branches"] = std::move(keys);
  }

  LiveCursor& line = inst.main();
  auto audit = host_.batch().record(inst, line, EventType::operator_action, host_.now(),
                                    {{"action", to_string(action.kind)},
                                     {"actor", action.actor},
                                     {"reason", action.reason},
                                     {"args", args},
                                     {"before", plan.previous_end}});
  inst.cursors.remove_if([](const LiveCursor& c) { return !c.branch.empty(); });
  inst.row.status = InstanceStatus::running;
  inst.row.ended_at.reset();
  inst.row.paused_at.reset();
  line.phase = Phase::idle;
  line.label.clear();
  line.output = nullptr;
  line.incident.reset();
  line.compensation.reset();
  ++line.generation;
  if (patch != nullptr) inst.row.context.edit().merge_patch(*patch);
  host_.batch().touch(inst);
  if (patch != nullptr) refresh_attributes(inst);

  inst.kept_branches = plan.kept_branches;
  enter(inst, "", plan.step);
  inst.kept_branches.clear();
  inst.refresh_summary();
  host_.batch().amend(audit, "after",
                      {{"status", to_string(inst.row.status)}, {"step", inst.main().step}});
}

}  // namespace rmaflow
