#include "engine/dsl/step_parser.hpp"

#include <fmt/format.h>

#include "engine/dsl/dsl_names.hpp"
#include "engine/dsl/step_reader.hpp"
#include "engine/dsl/yaml_values.hpp"
#include "engine/support/limits.hpp"
#include "engine/support/utf8.hpp"

namespace rmaflow::dsl {

namespace {

// Where a step name was declared first, for the message about a second declaration.
std::string first_declared(const DeclaredStep& first, const SourceFacts& facts) {
  auto label = facts.flow_labels.find(first.flow);
  return fmt::format("{} (line {})", label == facts.flow_labels.end() ? "" : label->second,
                     first.where.line);
}

// Declares the step in the scope's flow; false (reported) when another flow has the name.
bool declare(const MapEntry& entry, const FlowScope& scope, ParseContext& cx) {
  auto& declared = cx.facts.declared[entry.key];
  bool first = declared.empty();
  if (!first) {
    cx.sink.error(entry.key_where, "duplicate-step",
                  fmt::format("step \"{}\" in {} has the name of a step in {}; step names are "
                              "unique across the workflow, sub-flows included",
                              entry.key, scope.label, first_declared(declared.front(), cx.facts)));
  }
  declared.push_back({scope.id, entry.key_where});
  return first;
}

// One entry of a flow's `steps`: the step, then its sub-flows' steps, appended to `out`; false
// when its kind is unknown.
bool parse_step(const MapEntry& entry, const FlowScope& scope, ParseContext& cx,
                std::vector<Step>& out) {
  if (!valid_step_name(entry.key)) {
    cx.sink.error(entry.key_where, "bad-value",
                  fmt::format("step name \"{}\" must match [a-z_][a-z0-9_-]* in at most {} bytes",
                              quote_utf8(entry.key, 200), kMaxNameBytes));
  }
  if (!entry.value.IsMap()) {
    cx.sink.error(
        entry.where, "wrong-type",
        fmt::format("step \"{}\" must be a mapping, not {}", entry.key, describe(entry.value)));
    return false;
  }
  std::vector<Step> nested;
  auto step = StepReader(entry, scope, cx).read(nested);
  if (!step) return false;
  out.push_back(std::move(*step));
  for (auto& s : nested) out.push_back(std::move(s));
  return true;
}

}  // namespace

Flow parse_flow(const MapEntry* start, const MapEntry* steps, const FlowScope& scope,
                const std::string& owner, ParseContext& cx, std::vector<Step>& out) {
  Flow flow;
  cx.facts.flow_labels.emplace(scope.id, scope.label);
  if (start != nullptr) {
    if (!start->value.IsScalar() || start->value.Scalar().empty()) {
      cx.sink.error(start->where, "wrong-type",
                    fmt::format("\"start\" in {} must be a string, not {}", owner,
                                describe(start->value)));
    } else {
      flow.start = start->value.Scalar();
      cx.facts.transitions.push_back({"", flow.start, "start", owner, start->where, scope.id});
    }
  }
  if (steps == nullptr) return flow;
  if (!steps->value.IsMap()) {
    cx.sink.error(steps->where, "wrong-type",
                  fmt::format("\"steps\" in {} must be a mapping of step names to steps, not {}",
                              owner, describe(steps->value)));
    return flow;
  }
  MapReader entries(steps->value, "steps", steps->key_where, cx.sink, "duplicate-step");
  if (entries.entries().empty())
    cx.sink.error(steps->where, "bad-value",
                  fmt::format("\"steps\" in {} must define at least one step", owner));
  for (const auto& entry : entries.entries()) {
    if (declare(entry, scope, cx)) {
      if (parse_step(entry, scope, cx, out)) flow.steps.push_back(entry.key);
    } else {
      // Still read, so that its own problems are reported; not part of the definition.
      std::vector<Step> discarded;
      parse_step(entry, scope, cx, discarded);
    }
  }
  return flow;
}

}  // namespace rmaflow::dsl
