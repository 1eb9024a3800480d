// check_actions (rmaflow/adapter.hpp): a workflow's actions against the configured adapters,
// so that a missing adapter or a misspelt operation is refused at deploy, not met days later
// when an instance reaches the step.
#include <fmt/format.h>

#include "rmaflow/adapter.hpp"

namespace rmaflow {

namespace {

// Empty when `adapters` can run `adapter`.`operation`; otherwise why not, naming what there is.
std::string why_not(const AdapterRegistry& adapters, const std::string& adapter,
                    const std::string& operation) {
  const Adapter* found = adapters.find(adapter);
  if (found == nullptr) {
    return fmt::format("no adapter named {} is configured (the adapters are: {})", adapter,
                       fmt::join(adapters.names(), ", "));
  }
  if (found->has_operation(operation)) return {};
  auto known = found->operations();
  if (known.empty()) return fmt::format("adapter {} has no operation {}", adapter, operation);
  return fmt::format("adapter {} has no operation {} (it has: {})", adapter, operation,
                     fmt::join(known, ", "));
}

}  // namespace

std::vector<Diagnostic> check_actions(const Definition& definition, const AdapterRegistry& adapters) {
  std::vector<Diagnostic> out;
  auto report = [&](SourceLocation where, std::string message) {
    out.push_back(Diagnostic{definition.file, where, Severity::error, "unknown-action",
                             std::move(message)});
  };
  for (const auto& step : definition.steps) {
    const TaskStep* task = step.task();
    if (task == nullptr) continue;
    if (auto why = why_not(adapters, task->adapter, task->operation); !why.empty()) {
      report(step.where, fmt::format("step \"{}\" calls {}.{}, but {}", step.name, task->adapter,
                                     task->operation, why));
    }
    if (!task->compensate) continue;
    const Compensation& undo = *task->compensate;
    if (auto why = why_not(adapters, undo.adapter, undo.operation); !why.empty()) {
      report(undo.where.line > 0 ? undo.where : step.where,
             fmt::format("the compensation of step \"{}\" calls {}.{}, but {}", step.name,
                         undo.adapter, undo.operation, why));
    }
  }
  return out;
}

}  // namespace rmaflow
