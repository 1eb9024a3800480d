// StepReader: reads one step's mapping into a Step, part by part; every part reports its own
// problems and the reader carries on. The plain kinds (task, switch, wait, set, end) are read in
// step_reader.cpp, the fan-out and call kinds (foreach, parallel, call) in fanout_reader.cpp.
// Internal to the parser (step_parser.hpp is its entry point).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "engine/dsl/dsl_keys.hpp"
#include "engine/dsl/map_reader.hpp"
#include "engine/dsl/step_parser.hpp"
#include "engine/dsl/template_reader.hpp"

namespace rmaflow::dsl {

// A kind of step as written: its kind key and the keys it takes.
struct StepKindKeys {
  std::string_view key;           // "action", "switch", ...
  std::string_view name;          // "task": for messages ("a task step")
  std::string_view table;         // the key table (dsl_keys) of its keys
  std::string_view branch_table;  // the table inside a branch, when it differs; else ""
};

class StepReader {
 public:
  // `entry` is the step's name and its mapping (a mapping: the caller checked).
  StepReader(const MapEntry& entry, const FlowScope& scope, ParseContext& cx);

  // The step when its kind is known (nullopt otherwise, reported). The steps of its sub-flows
  // are appended to `nested`.
  std::optional<Step> read(std::vector<Step>& nested);

  // The names a step may have as its kind key, for messages: "action, switch, ... or call".
  static std::string kind_keys();

 private:
  const StepKindKeys* find_kind();
  const Keys& keys_of_kind(const StepKindKeys& kind) const;
  void check_keys(const StepKindKeys* kind);

  // Shared parts.
  std::string target(MapReader& r, const MapEntry& e);
  void next(Step& step);
  void result(Step& step);
  void record(std::vector<JqSite>& found, ExpressionSite::Role role, const std::string& key = "",
              int order = 0);
  bool action(MapReader& r, const MapEntry& e, std::string& adapter, std::string& operation);
  // A value that must be a mapping or one ${ } template: a task's `with`, a call's `input`.
  Template input_value(MapReader& r, const MapEntry& e, const std::string& label,
                       const std::string& owner, ExpressionSite::Role role);
  Template with(MapReader& r, const std::string& owner, ExpressionSite::Role role);
  // Any value, templates anywhere in it (a wait's match, an end's output); nullopt when bad.
  std::optional<Template> value(const MapEntry& e, const std::string& label,
                                const std::string& owner);
  std::vector<CatchRule> catches(const MapEntry& e);
  std::optional<Compensation> compensation(const MapEntry& e);
  std::optional<Posting> posting(const MapEntry& e);

  // The plain kinds (step_reader.cpp).
  TaskStep task(Step& step);
  SwitchStep switch_step();
  WaitStep wait(Step& step);
  SetStep set(Step& step);
  EndStep end();
  void end_status(MapReader& reader, const MapEntry& status, EndStep& end);

  // Fan-out and call (fanout_reader.cpp).
  ForeachStep foreach_step(Step& step, std::vector<Step>& nested);
  ParallelStep parallel_step(Step& step, std::vector<Step>& nested);
  CallStep call_step(Step& step);
  std::string element_name(Step& step);
  std::optional<Template> element_key();
  BranchFailure branch_failure();

  std::string name_;
  std::string context_;  // "step \"name\"", for messages
  FlowScope scope_;
  ParseContext& cx_;
  MapReader r_;
};

}  // namespace rmaflow::dsl
