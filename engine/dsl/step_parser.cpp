#include "engine/dsl/step_parser.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "engine/dsl/dsl_keys.hpp"
#include "engine/dsl/dsl_names.hpp"
#include "engine/dsl/template_reader.hpp"
#include "engine/dsl/yaml_values.hpp"

namespace rmaflow::dsl {

namespace {

struct Kind {
  std::string_view key;
  std::string_view name;  // for messages: "a task step"
  const Keys* keys;
};
const std::array<Kind, 5> kKinds = {{{"action", "task", &keys_of("task_step")},
                                     {"switch", "switch", &keys_of("switch_step")},
                                     {"wait", "wait", &keys_of("wait_step")},
                                     {"set", "set", &keys_of("set_step")},
                                     {"end", "end", &keys_of("end_step")}}};

Keys all_step_keys() {
  Keys all;
  for (const auto& kind : kKinds)
    for (auto key : *kind.keys)
      if (std::find(all.begin(), all.end(), key) == all.end()) all.push_back(key);
  return all;
}

// Reads the step's parts one by one; every reader reports its own problems.
class StepReader {
 public:
  StepReader(const MapEntry& entry, const StepDefaults& defaults, DiagnosticSink& sink,
             SourceFacts& facts)
      : name_(entry.key),
        context_(fmt::format("step \"{}\"", entry.key)),
        defaults_(defaults),
        sink_(sink),
        facts_(facts),
        r_(entry.value, context_, entry.key_where, sink) {}

  std::optional<Step> read(SourceLocation where) {
    const Kind* kind = find_kind();
    check_keys(kind);
    if (auto* e = r_.find("description"); e != nullptr && !e->value.IsScalar())
      r_.wrong_type(*e, "a string");
    if (kind == nullptr) return std::nullopt;
    facts_.kind_where[name_] = r_.find(kind->key)->key_where;
    Step step;
    step.name = name_;
    step.where = where;
    if (kind->key == "action") step.body = task(step);
    if (kind->key == "switch") step.body = switch_step();
    if (kind->key == "wait") step.body = wait(step);
    if (kind->key == "set") step.body = set(step);
    if (kind->key == "end") step.body = end();
    return step;
  }

 private:
  const Kind* find_kind() {
    std::vector<const Kind*> present;
    for (const auto& kind : kKinds)
      if (r_.find(kind.key)) present.push_back(&kind);
    if (present.empty()) {
      sink_.error(
          r_.where(), "missing-kind",
          fmt::format("{} has no kind: give it one of action, switch, wait, set or end", context_));
      return nullptr;
    }
    if (present.size() > 1) {
      sink_.error(r_.where(), "ambiguous-kind",
                  fmt::format("{} has more than one kind (\"{}\" and \"{}\"); a step has exactly "
                              "one of action, switch, wait, set or end",
                              context_, present[0]->key, present[1]->key));
      return nullptr;
    }
    return present.front();
  }

  // Unknown keys; with a known kind, also keys that belong to another kind.
  void check_keys(const Kind* kind) {
    static const Keys kAll = all_step_keys();
    if (kind == nullptr) {
      r_.allow_only(kAll);
      return;
    }
    const Keys& allowed = *kind->keys;
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
      sink_.error(e.key_where, "unknown-key", std::move(message));
    }
  }

  // A step name this step goes to, recorded for the graph checks.
  std::string target(MapReader& r, const MapEntry& e) {
    auto to = r.string(e);
    if (!to) return "";
    facts_.transitions.push_back({name_, *to, e.key, r.context(), e.where});
    return *to;
  }

  void next(Step& step) {
    if (auto* e = r_.require("next")) step.next = target(r_, *e);
  }

  void result(Step& step) {
    auto* e = r_.find("result");
    if (e == nullptr) return;
    auto name = r_.string(*e);
    if (!name || !check_context_key(*name, e->where, fmt::format("\"result\" in {}", context_), sink_))
      return;
    step.result = *name;
    facts_.writes.push_back({name_, *name, e->where});
  }

  // The jq programs just read, as sites of this step.
  void record(std::vector<JqSite>& found, ExpressionSite::Role role, const std::string& key = "",
              int order = 0) {
    for (auto& site : found) {
      facts_.expressions.push_back(
          {role, name_, std::move(site.label), key, order, std::move(site.program), site.where});
    }
    found.clear();
  }

  // "adapter.operation", both identifiers.
  bool action(MapReader& r, const MapEntry& e, std::string& adapter, std::string& operation) {
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

  Template with(MapReader& r, const std::string& owner, ExpressionSite::Role role) {
    auto* e = r.find("with");
    if (e == nullptr) return Template::compile(nlohmann::json::object());
    std::string inner;
    bool single_template =
        e->value.IsScalar() && Template::is_expression(e->value.Scalar(), &inner);
    if (!e->value.IsMap() && !single_template) {
      r.wrong_type(*e, "a mapping (or one ${ jq } template)");
      return {};
    }
    std::vector<JqSite> found;
    auto value = read_template(e->value, e->where, "with", owner, sink_, &found);
    record(found, role);
    return value.value_or(Template());
  }

  TaskStep task(Step& step) {
    TaskStep task;
    task.retry = defaults_.retry;
    task.timeout = defaults_.timeout;
    action(r_, *r_.find("action"), task.adapter, task.operation);
    task.with = with(r_, context_, ExpressionSite::Role::input);
    result(step);
    if (auto* e = r_.find("retry")) read_retry(*e, context_, task.retry, sink_);
    if (auto* e = r_.find("timeout"))
      if (auto d = r_.duration(*e)) task.timeout = *d;
    if (auto* e = r_.find("catch")) task.catches = catches(*e);
    if (auto* e = r_.find("compensate")) task.compensate = compensation(*e);
    if (auto* e = r_.find("pivot"))
      if (auto pivot = r_.boolean(*e)) task.pivot = *pivot;
    next(step);
    return task;
  }

  std::vector<CatchRule> catches(const MapEntry& e) {
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
        sink_.error(where, "wrong-type",
                    fmt::format("{} must be a mapping with errors and next, not {}", owner,
                                describe(item)));
        continue;
      }
      MapReader r(item, owner, where, sink_);
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

  std::optional<Compensation> compensation(const MapEntry& e) {
    if (!e.value.IsMap()) {
      r_.wrong_type(e, "a mapping with an action");
      return std::nullopt;
    }
    std::string owner = fmt::format("the compensation of {}", context_);
    MapReader r(e.value, owner, e.key_where, sink_);
    r.allow_only(keys_of("compensation"));
    Compensation c;
    c.where = e.key_where;
    c.retry = defaults_.retry;
    c.timeout = defaults_.timeout;
    if (auto* a = r.require("action")) action(r, *a, c.adapter, c.operation);
    c.with = with(r, owner, ExpressionSite::Role::compensation);
    if (auto* retry = r.find("retry")) read_retry(*retry, owner, c.retry, sink_);
    if (auto* timeout = r.find("timeout"))
      if (auto d = r.duration(*timeout)) c.timeout = *d;
    return c;
  }

  SwitchStep switch_step() {
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
          sink_.error(
              where, "wrong-type",
              fmt::format("{} must be a mapping with if and next, not {}", owner, describe(item)));
          continue;
        }
        MapReader r(item, owner, where, sink_);
        r.allow_only(keys_of("switch_case"));
        std::optional<Expression> condition;
        if (auto* cond = r.require("if")) {
          std::vector<JqSite> found;
          condition = read_expression(cond->value, cond->where, "if", owner, sink_, &found);
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

  WaitStep wait(Step& step) {
    WaitStep w;
    const MapEntry& e = *r_.find("wait");
    bool has_timeout = false;
    if (!e.value.IsMap()) {
      r_.wrong_type(e, "a mapping with signal (and timeout) or duration");
    } else {
      std::string owner = fmt::format("the wait of {}", context_);
      MapReader r(e.value, owner, e.key_where, sink_);
      r.allow_only(keys_of("wait"));
      auto* signal = r.find("signal");
      auto* duration = r.find("duration");
      auto* timeout = r.find("timeout");
      if (signal == nullptr && duration == nullptr) {
        sink_.error(e.key_where, "missing-key",
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
    }
    result(step);
    if (auto* t = r_.find("on_timeout")) {
      w.on_timeout = target(r_, *t);
      if (!has_timeout) r_.bad_value(*t, "needs a wait timeout (wait: {signal: S, timeout: D})");
    }
    next(step);
    return w;
  }

  SetStep set(Step& step) {
    SetStep s;
    const MapEntry& e = *r_.find("set");
    if (!e.value.IsMap()) {
      r_.wrong_type(e, "a mapping of context keys to values");
    } else {
      MapReader r(e.value, fmt::format("the set of {}", context_), e.key_where, sink_);
      if (r.entries().empty()) r_.bad_value(e, "must assign at least one key");
      int order = 0;
      for (const auto& assignment : r.entries()) {
        if (!check_context_key(assignment.key, assignment.key_where,
                               fmt::format("set key \"{}\" in {}", assignment.key, context_), sink_))
          continue;
        facts_.writes.push_back({name_, assignment.key, assignment.key_where});
        std::vector<JqSite> found;
        auto value = read_template(assignment.value, assignment.where, "set/" + assignment.key,
                                   context_, sink_, &found);
        record(found, ExpressionSite::Role::assignment, assignment.key, order++);
        if (value) s.assignments.emplace_back(assignment.key, std::move(*value));
      }
    }
    next(step);
    return s;
  }

  EndStep end() {
    EndStep end;
    const MapEntry& e = *r_.find("end");
    const MapEntry* status = nullptr;
    std::optional<MapReader> r;
    if (e.value.IsScalar()) {
      status = &e;
    } else if (e.value.IsMap()) {
      r.emplace(e.value, fmt::format("the end of {}", context_), e.key_where, sink_);
      r->allow_only(keys_of("end"));
      status = r->require("status");
      if (auto* c = r->find("compensate"))
        if (auto compensate = r->boolean(*c)) end.compensate = *compensate;
    } else {
      r_.wrong_type(e, "a status or a mapping {status, compensate}");
    }
    if (status != nullptr) {
      MapReader& reader = r ? *r : r_;
      if (auto text = reader.string(*status)) {
        auto parsed = parse_instance_status(*text);
        if (parsed && is_final(*parsed) && *parsed != InstanceStatus::compensated)
          end.status = *parsed;
        else
          reader.bad_value(*status, fmt::format("must be completed, rejected, expired, cancelled "
                                                "or failed, not \"{}\"",
                                                *text));
      }
    }
    return end;
  }

  std::string name_;
  std::string context_;
  const StepDefaults& defaults_;
  DiagnosticSink& sink_;
  SourceFacts& facts_;
  MapReader r_;
};

}  // namespace

std::optional<Step> parse_step(const MapEntry& entry, const StepDefaults& defaults,
                               DiagnosticSink& sink, SourceFacts& facts) {
  if (!valid_step_name(entry.key)) {
    sink.error(entry.key_where, "bad-value",
               fmt::format("step name \"{}\" must match [a-z_][a-z0-9_-]*", entry.key));
  }
  if (!entry.value.IsMap()) {
    sink.error(
        entry.where, "wrong-type",
        fmt::format("step \"{}\" must be a mapping, not {}", entry.key, describe(entry.value)));
    return std::nullopt;
  }
  return StepReader(entry, defaults, sink, facts).read(entry.key_where);
}

}  // namespace rmaflow::dsl
