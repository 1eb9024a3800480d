// The parts of the definition model that do not depend on how it was loaded.
#include "rmaflow/definition.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "engine/support/name_table.hpp"

namespace rmaflow {

Duration RetryPolicy::delay_after(int failed_attempt) const {
  double factor = std::pow(backoff, std::max(0, failed_attempt - 1));
  double millis = static_cast<double>(interval.count()) * factor;
  double cap = static_cast<double>(max_interval.count());
  if (!(millis < cap)) millis = cap;  // also catches overflow to inf
  return Duration(static_cast<Duration::rep>(millis));
}

bool RetryPolicy::retries(const std::string& code, bool retryable) const {
  for (const auto& e : errors) {
    if (e == code) return true;
    if (e == "any" && retryable) return true;
  }
  return false;
}

bool CatchRule::matches(const std::string& code) const {
  return std::any_of(errors.begin(), errors.end(),
                     [&](const std::string& e) { return e == "any" || e == code; });
}

const IncidentRoute* Definition::route_incident(const std::string& code,
                                                const nlohmann::json& context) const {
  for (const auto& route : incident_routes) {
    if (!route.errors.empty() &&
        std::find(route.errors.begin(), route.errors.end(), code) == route.errors.end())
      continue;
    try {
      if (route.condition && !route.condition->test(context)) continue;
    } catch (const ExpressionError&) {
      continue;
    }
    return &route;
  }
  return nullptr;
}

namespace {
constexpr NameTable<StepKind, 8> kStepKinds{{{StepKind::task, "task"},
                                             {StepKind::switch_, "switch"},
                                             {StepKind::wait, "wait"},
                                             {StepKind::set, "set"},
                                             {StepKind::end, "end"},
                                             {StepKind::foreach, "foreach"},
                                             {StepKind::parallel, "parallel"},
                                             {StepKind::call, "call"}}};
}  // namespace

std::string_view to_string(StepKind kind) { return name_of(kStepKinds, kind); }

const std::vector<CatchRule>& Step::catches() const {
  static const std::vector<CatchRule> kNone;
  if (auto* t = std::get_if<TaskStep>(&body)) return t->catches;
  if (auto* f = std::get_if<ForeachStep>(&body)) return f->catches;
  if (auto* p = std::get_if<ParallelStep>(&body)) return p->catches;
  if (auto* c = std::get_if<CallStep>(&body)) return c->catches;
  return kNone;
}

std::vector<std::string> Step::successors() const {
  std::vector<std::string> out;
  auto add = [&](const std::string& s) {
    if (!s.empty() && std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
  };
  add(next);
  for (const auto& c : catches()) add(c.next);
  if (auto* s = std::get_if<SwitchStep>(&body)) {
    for (const auto& c : s->cases) add(c.next);
    add(s->default_next);
  } else if (auto* w = std::get_if<WaitStep>(&body)) {
    add(w->on_timeout);
  }
  return out;
}

const Step* Definition::find(const std::string& step) const {
  auto it = index_.find(step);
  return it == index_.end() ? nullptr : &steps[it->second];
}

const Flow* Definition::flow(const std::string& id) const {
  if (id.empty()) return &top;
  auto dot = id.find('.');
  const Step* owner = find(id.substr(0, dot));
  if (owner == nullptr) return nullptr;
  if (dot == std::string::npos) {
    auto* foreach = std::get_if<ForeachStep>(&owner->body);
    return foreach != nullptr ? &foreach->flow : nullptr;
  }
  auto* parallel = std::get_if<ParallelStep>(&owner->body);
  if (parallel == nullptr) return nullptr;
  auto branch = id.substr(dot + 1);
  for (const auto& [name, flow] : parallel->branches)
    if (name == branch) return &flow;
  return nullptr;
}

void Definition::index_steps() {
  index_.clear();
  top.start = start;
  top.steps.clear();
  for (std::size_t i = 0; i < steps.size(); ++i) {
    index_.emplace(steps[i].name, i);
    if (steps[i].flow.empty()) top.steps.push_back(steps[i].name);
  }
}

std::string format_diagnostic(const Diagnostic& d) {
  return fmt::format("{}:{}:{}: {}[{}]: {}", d.file, d.where.line, d.where.column,
                     d.severity == Severity::error ? "error" : "warning", d.code, d.message);
}

namespace {
std::string first_error_message(const std::vector<Diagnostic>& diagnostics) {
  for (const auto& d : diagnostics)
    if (d.severity == Severity::error) return format_diagnostic(d);
  return "the workflow definition is invalid";
}
}  // namespace

DefinitionError::DefinitionError(std::vector<Diagnostic> diagnostics)
    : Error(Errc::invalid_definition, first_error_message(diagnostics)),
      diagnostics_(std::move(diagnostics)) {}

}  // namespace rmaflow
