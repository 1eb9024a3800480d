#include "engine/runtime/instance.hpp"

#include "rmaflow/errors.hpp"

namespace rmaflow {

InstanceRow Instance::snapshot() const {
  InstanceRow out = row;
  out.context = context.dump();
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
  } catch (const nlohmann::json::exception& e) {
    throw Error(Errc::storage, "instance " + row.id + " has a corrupt JSON column: " + e.what());
  }
  inst->row = std::move(row);
  inst->definition = std::move(definition);
  return inst;
}

}  // namespace rmaflow
