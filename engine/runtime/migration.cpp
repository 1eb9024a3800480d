// Migrations (rmaflow/migration.hpp): the check both the dry run and the engine apply, the
// plan, and the engine's move of one instance (StepMachine::migrate).
#include "rmaflow/migration.hpp"

#include <fmt/format.h>

#include <limits>

#include "engine/runtime/step_machine.hpp"
#include "rmaflow/versions.hpp"

namespace rmaflow {

namespace {

std::string mapped(const std::map<std::string, std::string>& steps, const std::string& step) {
  auto it = steps.find(step);
  return it == steps.end() ? step : it->second;
}

MigrationTarget refused(std::string why) { return {"", std::move(why)}; }

std::shared_ptr<const Definition> deployed(Store& store, const std::string& workflow, int version) {
  auto row = store.get_definition(workflow, version);
  if (!row)
    throw Error(Errc::not_found, fmt::format("workflow {} has no version {}", workflow, version));
  return load_deployed(*row);
}

}  // namespace

std::size_t MigrationPlan::movable() const {
  std::size_t n = 0;
  for (const auto& item : items) n += item.refusal.empty() ? 1 : 0;
  return n;
}

MigrationTarget migration_target(const InstanceRow& row, const Definition& from,
                                 const Definition& to,
                                 const std::map<std::string, std::string>& steps) {
  if (is_final(row.status)) {
    return refused(fmt::format("it is {}: a finished instance cannot move", to_string(row.status)));
  }
  if (row.cursors.size() > 1) {
    return refused(fmt::format("it has {} branches of step {} under way; an instance moves only "
                               "once its fan-out steps have joined",
                               row.cursors.size() - 1, row.step));
  }
  const Step* here = from.find(row.step);
  if (row.status != InstanceStatus::waiting || row.cursors.empty() ||
      row.main().phase != Phase::waiting || here == nullptr || here->kind() != StepKind::wait) {
    return refused(fmt::format("it is {} at {} step {}; only an instance waiting at a wait step "
                               "can move",
                               to_string(row.status), here ? to_string(here->kind()) : "a",
                               row.step));
  }
  std::string target = mapped(steps, row.step);
  const Step* there = to.find(target);
  if (there == nullptr) {
    return refused(fmt::format("version {} has no step {}; map it with --map {}=STEP", to.version,
                               target, row.step));
  }
  if (there->kind() != StepKind::wait) {
    return refused(fmt::format("step {} of version {} is a {} step; an instance can only move to "
                               "a wait step",
                               target, to.version, to_string(there->kind())));
  }
  for (const auto& entry : row.saga.done) {
    const std::string& done = entry.step;
    std::string now = mapped(steps, done);
    const Step* undo = to.find(now);
    bool can_undo = undo != nullptr && (entry.child.empty()
                                            ? undo->task() != nullptr && undo->task()->compensate
                                            : undo->kind() == StepKind::call);
    if (!can_undo) {
      return refused(fmt::format("its completed step {} may still need compensating, and version "
                                 "{} has no compensation at step {}",
                                 done, to.version, now));
    }
  }
  return {target, ""};
}

MigrationPlan plan_migration(Store& store, const MigrationRequest& request) {
  if (request.from == request.to) {
    throw Error(Errc::invalid_argument,
                fmt::format("--from and --to are both version {}", request.from));
  }
  auto from = deployed(store, request.workflow, request.from);
  auto to = deployed(store, request.workflow, request.to);
  for (const auto& [old_step, new_step] : request.steps) {
    if (from->find(old_step) == nullptr || to->find(new_step) == nullptr) {
      bool old_missing = from->find(old_step) == nullptr;
      throw Error(Errc::invalid_argument,
                  fmt::format("--map {}={}: version {} of {} has no step {}", old_step, new_step,
                              old_missing ? request.from : request.to, request.workflow,
                              old_missing ? old_step : new_step));
    }
  }
  std::vector<InstanceRow> rows;
  if (request.instances.empty()) {
    InstanceFilter filter;
    filter.workflow = request.workflow;
    filter.version = request.from;
    filter.statuses = {InstanceStatus::running, InstanceStatus::waiting, InstanceStatus::suspended,
                       InstanceStatus::compensating};
    filter.limit = std::numeric_limits<std::size_t>::max();
    rows = store.list_instances(filter);
  }
  for (const auto& id : request.instances) {
    auto row = store.get_instance(id);
    if (!row) throw Error(Errc::not_found, fmt::format("no instance {}", id));
    if (row->workflow != request.workflow || row->version != request.from) {
      throw Error(Errc::invalid_argument,
                  fmt::format("instance {} runs workflow {} version {}, not {} version {}", id,
                              row->workflow, row->version, request.workflow, request.from));
    }
    rows.push_back(std::move(*row));
  }
  MigrationPlan plan;
  for (const auto& row : rows) {
    auto target = migration_target(row, *from, *to, request.steps);
    plan.items.push_back({row.id, row.status, row.step, target.step, target.refusal});
  }
  return plan;
}

OperatorAction migration_action(const MigrationRequest& request, const std::string& instance_id,
                                std::string actor, std::string reason) {
  OperatorAction action;
  action.instance_id = instance_id;
  action.kind = ActionKind::migrate;
  action.actor = std::move(actor);
  action.reason = std::move(reason);
  action.args = {{"to", request.to}, {"steps", request.steps}};
  return action;
}

StepMachine::Migration StepMachine::migration_of(const Instance& inst, const nlohmann::json& args) {
  Migration m;
  const auto& to = args.contains("to") ? args["to"] : nlohmann::json();
  const auto& steps = args.contains("steps") ? args["steps"] : nlohmann::json::object();
  if (!to.is_number_integer() || !steps.is_object()) {
    throw Error(Errc::invalid_argument,
                "migrate needs {\"to\": VERSION, \"steps\": {\"old\": \"new\", ...}}");
  }
  for (const auto& [old_step, new_step] : steps.items()) {
    if (!new_step.is_string())
      throw Error(Errc::invalid_argument, fmt::format("migrate maps step {} to a non-name", old_step));
    m.steps[old_step] = new_step.get<std::string>();
  }
  m.definition = host_.find_definition(inst.row.workflow, to.get<int>());
  if (!m.definition) {
    throw Error(Errc::not_found,
                fmt::format("workflow {} has no version {}", inst.row.workflow, to.get<int>()));
  }
  if (m.definition->version == inst.row.version) {
    m.refusal = fmt::format("it already runs on version {}", inst.row.version);
    return m;
  }
  auto target = migration_target(inst.snapshot(), *inst.definition, *m.definition, m.steps);
  m.step = target.step;
  m.refusal = target.refusal;
  return m;
}

void StepMachine::migrate(Instance& inst, const Migration& to) {
  auto now = host_.now();
  LiveCursor& c = inst.main();
  auto old_span = std::get<WaitStep>(inst.step(c).body).span();
  // The wait keeps its start: a new timeout counts from when the instance began waiting.
  TimePoint began = c.deadline && old_span ? *c.deadline - *old_span : now;
  std::string old_step = c.step;

  inst.definition = to.definition;
  inst.row.version = to.definition->version;
  inst.row.context.edit()["instance"]["version"] = inst.row.version;
  auto& visits = inst.row.visits;
  if (to.step != old_step && !visits.contains(to.step)) {
    auto old = visits.find(old_step);
    visits[to.step] = old == visits.end() ? 1 : old->second;
  }
  c.step = to.step;
  for (auto& entry : inst.row.saga.done) entry.step = mapped(to.steps, entry.step);
  ++c.generation;
  // The new version's attributes replace the old one's, whatever this process knew of them.
  inst.attributes = nlohmann::json::array();
  refresh_attributes(inst);

  const auto& wait = std::get<WaitStep>(inst.step(c).body);
  if (auto span = wait.span()) {
    set_wait_timer(inst, c, began + *span);
  } else if (c.deadline) {
    host_.batch().clear_timer(inst, "", "wait");
    c.deadline.reset();
  }
  // The new wait may be for a signal that has already arrived.
  if (!wait.signal.empty()) try_consume(inst, "");
}

}  // namespace rmaflow
