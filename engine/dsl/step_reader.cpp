#include "engine/dsl/step_reader.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "engine/dsl/dsl_names.hpp"
#include "engine/dsl/yaml_values.hpp"

namespace rmaflow::dsl {

namespace {

// clang-format off
constexpr std::array<StepKindKeys, 8> kStepKinds = {{
  // kind key     name        keys             inside a branch
  {"action",   "task",     "task_step",     ""},
  {"switch",   "switch",   "switch_step",   ""},
  {"wait",     "wait",     "wait_step",     ""},
  {"set",      "set",      "set_step",      ""},
  {"end",      "end",      "end_step",      "branch_end_step"},
  {"foreach",  "foreach",  "foreach_step",  ""},
  {"parallel", "parallel", "parallel_step", ""},
  {"call",     "call",     "call_step",     ""},
}};
// clang-format on

Keys all_step_keys() {
  Keys all;
  for (const auto& kind : kStepKinds)
    for (auto table : {kind.table, kind.branch_table}) {
      if (table.empty()) continue;
      for (auto key : keys_of(table))
        if (std::find(all.begin(), all.end(), key) == all.end()) all.push_back(key);
    }
  return all;
}

}  // namespace

StepReader::StepReader(const MapEntry& entry, const FlowScope& scope, ParseContext& cx)
    : name_(entry.key),
      context_(fmt::format("step \"{}\"", entry.key)),
      scope_(scope),
      cx_(cx),
      r_(entry.value, context_, entry.key_where, cx.sink) {}

std::string StepReader::kind_keys() {
  std::vector<std::string_view> keys;
  for (const auto& kind : kStepKinds) keys.push_back(kind.key);
  std::string last(keys.back());
  keys.pop_back();
  return fmt::format("{} or {}", fmt::join(keys, ", "), last);
}

std::optional<Step> StepReader::read(std::vector<Step>& nested) {
  const StepKindKeys* kind = find_kind();
  check_keys(kind);
  if (auto* e = r_.find("description"); e != nullptr && !e->value.IsScalar())
    r_.wrong_type(*e, "a string");
  if (kind == nullptr) return std::nullopt;
  cx_.facts.kind_where[name_] = r_.find(kind->key)->key_where;
  Step step;
  step.name = name_;
  step.where = r_.where();
  step.flow = scope_.id;
  if (kind->key == "action") step.body = task(step);
  if (kind->key == "switch") step.body = switch_step();
  if (kind->key == "wait") step.body = wait(step);
  if (kind->key == "set") step.body = set(step);
  if (kind->key == "end") step.body = end();
  if (kind->key == "foreach") step.body = foreach_step(step, nested);
  if (kind->key == "parallel") step.body = parallel_step(step, nested);
  if (kind->key == "call") step.body = call_step(step);
  return step;
}

const StepKindKeys* StepReader::find_kind() {
  std::vector<const StepKindKeys*> present;
  for (const auto& kind : kStepKinds)
    if (r_.find(kind.key)) present.push_back(&kind);
  if (present.empty()) {
    cx_.sink.error(r_.where(), "missing-kind",
                   fmt::format("{} has no kind: give it one of {}", context_, kind_keys()));
    return nullptr;
  }
  if (present.size() > 1) {
    cx_.sink.error(r_.where(), "ambiguous-kind",
                   fmt::format("{} has more than one kind (\"{}\" and \"{}\"); a step has exactly "
                               "one of {}",
                               context_, present[0]->key, present[1]->key, kind_keys()));
    return nullptr;
  }
  return present.front();
}

const Keys& StepReader::keys_of_kind(const StepKindKeys& kind) const {
  return keys_of(scope_.in_branch() && !kind.branch_table.empty() ? kind.branch_table
                                                                  : kind.table);
}

// Unknown keys; with a known kind, also keys that belong to another kind.
void StepReader::check_keys(const StepKindKeys* kind) {
  static const Keys kAll = all_step_keys();
  if (kind == nullptr) {
    r_.allow_only(kAll);
    return;
  }
  const Keys& allowed = keys_of_kind(*kind);
  for (const auto& e : r_.entries()) {
    if (std::find(allowed.begin(), allowed.end(), e.key) != allowed.end()) continue;
    std::string message;
    if (std::find(kAll.begin(), kAll.end(), e.key) != kAll.end()) {
      message = fmt::format("key \"{}\" does not apply to a {} step ({}); it takes: {}", e.key,
                            kind->name, context_, fmt::join(allowed, ", "));
    } else if (auto near = closest_match(e.key, allowed); !near.empty()) {
      message =
          fmt::format("unknown key \"{}\" in {}; did you mean \"{}\"?", e.key, context_, near);
    } else {
      message = fmt::format("unknown key \"{}\" in {}; a {} step takes: {}", e.key, context_,
                            kind->name, fmt::join(allowed, ", "));
    }
    cx_.sink.error(e.key_where, "unknown-key", std::move(message));
  }
}

// A step name this step goes to, recorded for the graph checks.
std::string StepReader::target(MapReader& r, const MapEntry& e) {
  auto to = r.string(e);
  if (!to) return "";
  cx_.facts.transitions.push_back({name_, *to, e.key, r.context(), e.where, scope_.id});
  return *to;
}

void StepReader::next(Step& step) {
  if (auto* e = r_.require("next")) step.next = target(r_, *e);
}

void StepReader::result(Step& step) {
  auto* e = r_.find("result");
  if (e == nullptr) return;
  auto name = r_.string(*e);
  if (!name || !check_context_key(*name, e->where, fmt::format("\"result\" in {}", context_),
                                  cx_.sink, scope_.in_branch()))
    return;
  step.result = *name;
  cx_.facts.writes.push_back({name_, *name, e->where, ContextWrite::Kind::result});
}

// The jq programs just read, as sites of this step.
void StepReader::record(std::vector<JqSite>& found, ExpressionSite::Role role,
                        const std::string& key, int order) {
  for (auto& site : found) {
    cx_.facts.expressions.push_back(
        {role, name_, std::move(site.label), key, order, std::move(site.program), site.where});
  }
  found.clear();
}

// "adapter.operation", both identifiers.
bool StepReader::action(MapReader& r, const MapEntry& e, std::string& adapter,
                        std::string& operation) {
  auto text = r.string(e);
  if (!text) return false;
  auto dot = text->find('.');
  if (dot != std::string::npos) {
    adapter = text->substr(0, dot);
    operation = text->substr(dot + 1);
  }
  if (dot == std::string::npos || !valid_identifier(adapter) || !valid_identifier(operation)) {
    r.bad_value(e, fmt::format("must be adapter.operation (e.g. erp.authorize_return), not "
                               "\"{}\"",
                               *text));
    return false;
  }
  return true;
}

Template StepReader::input_value(MapReader& r, const MapEntry& e, const std::string& label,
                                 const std::string& owner, ExpressionSite::Role role) {
  std::string inner;
  bool single_template = e.value.IsScalar() && Template::is_expression(e.value.Scalar(), &inner);
  if (!e.value.IsMap() && !single_template) {
    r.wrong_type(e, "a mapping (or one ${ jq } template)");
    return {};
  }
  std::vector<JqSite> found;
  auto value = read_template(e.value, e.where, label, owner, cx_.sink, &found);
  record(found, role);
  return value.value_or(Template());
}

Template StepReader::with(MapReader& r, const std::string& owner, ExpressionSite::Role role) {
  auto* e = r.find("with");
  if (e == nullptr) return Template::compile(nlohmann::json::object());
  return input_value(r, *e, "with", owner, role);
}

std::optional<Template> StepReader::value(const MapEntry& e, const std::string& label,
                                          const std::string& owner) {
  std::vector<JqSite> found;
  auto value = read_template(e.value, e.where, label, owner, cx_.sink, &found);
  record(found, ExpressionSite::Role::input);
  return value;
}

TaskStep StepReader::task(Step& step) {
  TaskStep task;
  task.retry = cx_.defaults.retry;
  task.timeout = cx_.defaults.timeout;
  action(r_, *r_.find("action"), task.adapter, task.operation);
  task.with = with(r_, context_, ExpressionSite::Role::input);
  result(step);
  if (auto* e = r_.find("retry")) read_retry(*e, context_, task.retry, cx_.sink);
  if (auto* e = r_.find("timeout"))
    if (auto d = r_.duration(*e)) task.timeout = *d;
  if (auto* e = r_.find("catch")) task.catches = catches(*e);
  if (auto* e = r_.find("compensate")) task.compensate = compensation(*e);
  if (auto* e = r_.find("posting")) task.posting = posting(*e);
  if (auto* e = r_.find("pivot"))
    if (auto pivot = r_.boolean(*e)) task.pivot = *pivot;
  next(step);
  return task;
}

std::vector<CatchRule> StepReader::catches(const MapEntry& e) {
  std::vector<CatchRule> rules;
  if (!e.value.IsSequence()) {
    r_.wrong_type(e, "a list of {errors, next} entries");
    return rules;
  }
  int index = 0;
  for (const auto& item : e.value) {
    ++index;
    SourceLocation where = location_of(item, e.where);
    std::string owner = fmt::format("catch entry {} of {}", index, context_);
    if (!item.IsMap()) {
      cx_.sink.error(where, "wrong-type",
                     fmt::format("{} must be a mapping with errors and next, not {}", owner,
                                 describe(item)));
      continue;
    }
    MapReader r(item, owner, where, cx_.sink);
    r.allow_only(keys_of("catch"));
    CatchRule rule;
    rule.where = where;
    if (auto* errors = r.require("errors")) {
      if (auto codes = r.string_list(*errors)) {
        if (codes->empty()) r.bad_value(*errors, "must name at least one error code (or any)");
        rule.errors = std::move(*codes);
      }
    }
    if (auto* to = r.require("next")) rule.next = target(r, *to);
    rules.push_back(std::move(rule));
  }
  return rules;
}

std::optional<Compensation> StepReader::compensation(const MapEntry& e) {
  if (!e.value.IsMap()) {
    r_.wrong_type(e, "a mapping with an action");
    return std::nullopt;
  }
  std::string owner = fmt::format("the compensation of {}", context_);
  MapReader r(e.value, owner, e.key_where, cx_.sink);
  r.allow_only(keys_of("compensation"));
  Compensation c;
  c.where = e.key_where;
  c.retry = cx_.defaults.retry;
  c.timeout = cx_.defaults.timeout;
  if (auto* a = r.require("action")) action(r, *a, c.adapter, c.operation);
  c.with = with(r, owner, ExpressionSite::Role::compensation);
  if (auto* retry = r.find("retry")) read_retry(*retry, owner, c.retry, cx_.sink);
  if (auto* timeout = r.find("timeout"))
    if (auto d = r.duration(*timeout)) c.timeout = *d;
  return c;
}

// `posting: {kind: credit_memo, customer: ${ .input.customer_id }, amount: ${ .credit.amount }}`:
// a kind (an identifier, so that an auditor can filter on it) and fields rendered when the step
// succeeds.
std::optional<Posting> StepReader::posting(const MapEntry& e) {
  if (!e.value.IsMap()) {
    r_.wrong_type(e, "a mapping with a kind (e.g. {kind: credit_memo, amount: ${ .credit.amount }})");
    return std::nullopt;
  }
  std::string owner = fmt::format("the posting of {}", context_);
  MapReader r(e.value, owner, e.key_where, cx_.sink);
  r.allow_only(keys_of("posting"));
  Posting p;
  p.where = e.key_where;
  if (auto* kind = r.require("kind")) {
    if (auto text = r.string(*kind)) {
      if (!valid_identifier(*text)) {
        r.bad_value(*kind, fmt::format("must be a name such as credit_memo or restock, not \"{}\"", *text));
      }
      p.kind = *text;
    }
  }
  YAML::Node fields(YAML::NodeType::Map);
  for (const auto& field : e.value) {
    if (field.first.IsScalar() && field.first.Scalar() != "kind") fields[field.first] = field.second;
  }
  std::vector<JqSite> found;
  auto rendered = read_template(fields, e.where, "posting", context_, cx_.sink, &found);
  record(found, ExpressionSite::Role::posting);
  p.fields = rendered.value_or(Template::compile(nlohmann::json::object()));
  return p;
}

SwitchStep StepReader::switch_step() {
  SwitchStep s;
  const MapEntry& e = *r_.find("switch");
  if (!e.value.IsSequence()) {
    r_.wrong_type(e, "a list of {if, next} cases");
  } else if (e.value.size() == 0) {
    r_.bad_value(e, "must list at least one {if, next} case");
  } else {
    int index = 0;
    for (const auto& item : e.value) {
      ++index;
      SourceLocation where = location_of(item, e.where);
      std::string owner = fmt::format("case {} of {}", index, context_);
      if (!item.IsMap()) {
        cx_.sink.error(
            where, "wrong-type",
            fmt::format("{} must be a mapping with if and next, not {}", owner, describe(item)));
        continue;
      }
      MapReader r(item, owner, where, cx_.sink);
      r.allow_only(keys_of("switch_case"));
      std::optional<Expression> condition;
      if (auto* cond = r.require("if")) {
        std::vector<JqSite> found;
        condition = read_expression(cond->value, cond->where, "if", owner, cx_.sink, &found);
        record(found, ExpressionSite::Role::condition);
      }
      std::string to;
      if (auto* n = r.require("next")) to = target(r, *n);
      if (condition) s.cases.push_back({std::move(*condition), to, where});
    }
  }
  if (auto* d = r_.find("default")) s.default_next = target(r_, *d);
  return s;
}

WaitStep StepReader::wait(Step& step) {
  WaitStep w;
  const MapEntry& e = *r_.find("wait");
  bool has_timeout = false;
  if (!e.value.IsMap()) {
    r_.wrong_type(e, "a mapping with signal (and timeout) or duration");
  } else {
    std::string owner = fmt::format("the wait of {}", context_);
    MapReader r(e.value, owner, e.key_where, cx_.sink);
    r.allow_only(keys_of("wait"));
    auto* signal = r.find("signal");
    auto* duration = r.find("duration");
    auto* timeout = r.find("timeout");
    if (signal == nullptr && duration == nullptr) {
      cx_.sink.error(e.key_where, "missing-key",
                     fmt::format("missing key \"signal\" or \"duration\" in {}", owner));
    } else if (signal != nullptr && duration != nullptr) {
      r.bad_value(*duration,
                  "cannot be combined with \"signal\"; a wait is for a signal or "
                  "for a duration");
    }
    if (signal != nullptr) {
      if (auto name = r.string(*signal)) {
        if (name->find_first_of(" \t\r\n") != std::string::npos)
          r.bad_value(*signal,
                      fmt::format("must be a signal name without spaces, not \"{}\"", *name));
        else
          w.signal = *name;
      }
    }
    if (duration != nullptr) w.duration = r.duration(*duration);
    if (timeout != nullptr) {
      if (signal == nullptr)
        r.bad_value(*timeout, "applies only to a signal wait; a duration wait ends by itself");
      else
        w.timeout = r.duration(*timeout);
      has_timeout = true;
    }
    if (auto* match = r.find("match")) {
      if (signal == nullptr)
        r.bad_value(*match, "applies only to a signal wait: it picks which signals it takes");
      else if (!match->value.IsScalar() || match->value.Scalar().empty())
        r.wrong_type(*match, "a value (a string or a number) or one ${ jq } template");
      else
        w.match = value(*match, "match", owner);
    }
  }
  result(step);
  if (auto* t = r_.find("on_timeout")) {
    w.on_timeout = target(r_, *t);
    if (!has_timeout) r_.bad_value(*t, "needs a wait timeout (wait: {signal: S, timeout: D})");
  }
  next(step);
  return w;
}

SetStep StepReader::set(Step& step) {
  SetStep s;
  const MapEntry& e = *r_.find("set");
  if (!e.value.IsMap()) {
    r_.wrong_type(e, "a mapping of context keys to values");
  } else {
    MapReader r(e.value, fmt::format("the set of {}", context_), e.key_where, cx_.sink);
    if (r.entries().empty()) r_.bad_value(e, "must assign at least one key");
    int order = 0;
    for (const auto& assignment : r.entries()) {
      if (!check_context_key(assignment.key, assignment.key_where,
                             fmt::format("set key \"{}\" in {}", assignment.key, context_),
                             cx_.sink, scope_.in_branch()))
        continue;
      cx_.facts.writes.push_back(
          {name_, assignment.key, assignment.key_where, ContextWrite::Kind::set});
      std::vector<JqSite> found;
      auto value = read_template(assignment.value, assignment.where, "set/" + assignment.key,
                                 context_, cx_.sink, &found);
      record(found, ExpressionSite::Role::assignment, assignment.key, order++);
      if (value) s.assignments.emplace_back(assignment.key, std::move(*value));
    }
  }
  next(step);
  return s;
}

EndStep StepReader::end() {
  EndStep end;
  const MapEntry& e = *r_.find("end");
  if (e.value.IsScalar()) {
    end_status(r_, e, end);
    return end;
  }
  if (!e.value.IsMap()) {
    r_.wrong_type(e, "a status or a mapping {status, compensate, output}");
    return end;
  }
  std::string owner = fmt::format("the end of {}", context_);
  MapReader r(e.value, owner, e.key_where, cx_.sink);
  r.allow_only(keys_of(scope_.in_branch() ? "branch_end" : "end"));
  if (auto* status = r.require("status")) end_status(r, *status, end);
  if (auto* c = r.find("compensate"))
    if (auto compensate = r.boolean(*c)) end.compensate = *compensate;
  if (auto* output = r.find("output")) end.output = value(*output, "output", owner);
  return end;
}

void StepReader::end_status(MapReader& reader, const MapEntry& status, EndStep& end) {
  auto text = reader.string(status);
  if (!text) return;
  if (scope_.in_branch()) {
    if (valid_branch_status(*text))
      end.label = *text;
    else
      reader.bad_value(status, fmt::format("must name how the branch ended in lowercase letters, "
                                           "digits, _ and - (e.g. restocked), not \"{}\"",
                                           *text));
    return;
  }
  auto parsed = parse_instance_status(*text);
  if (parsed && is_final(*parsed) && *parsed != InstanceStatus::compensated) {
    end.status = *parsed;
    end.label = *text;
    return;
  }
  std::string hint = valid_branch_status(*text) && !parsed
                         ? "; a status of its own such as this ends a branch, not an instance"
                         : "";
  reader.bad_value(status, fmt::format("must be completed, rejected, expired, cancelled or failed, "
                                       "not \"{}\"{}",
                                       *text, hint));
}

}  // namespace rmaflow::dsl
