#include "engine/runtime/instance.hpp"

#include "rmaflow/errors.hpp"

namespace rmaflow {

std::optional<Instance::Action> Instance::action() const {
  const TaskStep* task = step().task();
  if (task == nullptr) return std::nullopt;
  if (compensating()) {
    if (!task->compensate) return std::nullopt;
    const auto& c = *task->compensate;
    return Action{c.adapter, c.operation, c.timeout, c.retry};
  }
  return Action{task->adapter, task->operation, task->timeout, task->retry};
}

InstanceRow Instance::snapshot() const {
  InstanceRow out = row;
  out.context = context.dump();
  out.saga = saga.dump();
  out.visits = visits.dump();
  out.step_input = step_input.is_null() ? std::string() : step_input.dump();
  return out;
}

std::unique_ptr<Instance> Instance::from_row(InstanceRow row,
                                             std::shared_ptr<const Definition> definition) {
  auto inst = std::make_unique<Instance>();
  try {
    inst->context = nlohmann::json::parse(row.context);
    inst->visits = nlohmann::json::parse(row.visits.empty() ? "{}" : row.visits);
    if (!row.step_input.empty()) inst->step_input = nlohmann::json::parse(row.step_input);
    inst->saga = nlohmann::json::parse(row.saga.empty() ? "{}" : row.saga);
  } catch (const nlohmann::json::exception& e) {
    throw Error(Errc::storage, "instance " + row.id + " has a corrupt JSON column: " + e.what());
  }
  inst->row = std::move(row);
  inst->definition = std::move(definition);
  return inst;
}

}  // namespace rmaflow
