// load_scenario (rmaflow/simulation.hpp): a scenario file read with the DSL's own mapping reader,
// so its problems are reported as precisely as a workflow's: FILE:LINE:COL, unknown keys named.
#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>

#include "engine/dsl/map_reader.hpp"
#include "engine/dsl/yaml_bounds.hpp"
#include "engine/dsl/yaml_values.hpp"
#include "engine/support/file_text.hpp"
#include "engine/support/strict_json.hpp"
#include "rmaflow/simulation.hpp"

namespace rmaflow {

namespace {

namespace fs = std::filesystem;
using dsl::MapEntry;
using dsl::MapReader;

constexpr Duration kDefaultUntil(365LL * 86'400'000);
constexpr std::int64_t kDefaultStart = 1'767'225'600'000;  // 2026-01-01T00:00:00Z

constexpr auto kScenarioBounds = dsl::data_file_bounds("a scenario file");

class ScenarioReader {
 public:
  ScenarioReader(std::string path, dsl::DiagnosticSink& sink)
      : path_(std::move(path)), base_(fs::path(path_).parent_path()), sink_(sink) {}

  Scenario read(const YAML::Node& document) {
    Scenario s;
    s.file = path_;
    s.start = from_millis(kDefaultStart);
    s.until = kDefaultUntil;
    MapReader r(document, "the scenario", {1, 1}, sink_);
    r.allow_only({"scenario", "workflow", "start", "until", "input", "input_file", "adapters",
                  "signals", "expect"});
    if (auto* e = r.require("scenario"))
      if (auto name = r.string(*e)) s.name = *name;
    if (auto* e = r.find("workflow"))
      if (auto file = r.string(*e)) s.workflow_file = resolve(*file);
    if (auto* e = r.find("start")) {
      if (auto text = r.string(*e)) {
        if (auto t = parse_time(*text)) s.start = *t;
        else r.bad_value(*e, "must be a UTC time such as 2026-01-05T09:00:00Z");
      }
    }
    if (auto* e = r.find("until"))
      if (auto d = r.duration(*e)) s.until = *d;
    input(r, s);
    if (auto* e = r.find("adapters")) adapters(*e, s);
    if (auto* e = r.find("signals")) signals(r, *e, s);
    if (auto* e = r.find("expect")) expect(*e, s.expect);
    return s;
  }

 private:
  std::string resolve(const std::string& file) const {
    return fs::path(file).is_absolute() ? file : (base_ / file).lexically_normal().string();
  }

  void input(MapReader& r, Scenario& s) {
    auto* inline_input = r.find("input");
    auto* file = r.find("input_file");
    if (inline_input != nullptr && file != nullptr) {
      r.bad_value(*file, "cannot be combined with \"input\"; give the input one way");
      return;
    }
    if (inline_input != nullptr) {
      if (!inline_input->value.IsMap()) r.wrong_type(*inline_input, "a mapping");
      else s.input = dsl::to_json(inline_input->value, &sink_, "the scenario's input");
    }
    if (file != nullptr) {
      auto name = r.string(*file);
      if (!name) return;
      auto path = resolve(*name);
      auto input = read_file_text(path, kScenarioBounds.bytes);
      if (input.fault == FileText::Fault::too_large) {
        return r.bad_value(*file, fmt::format("names {}, which {}", path,
                                              past_bound(input.size, kScenarioBounds.bytes,
                                                         "an input file of a scenario")));
      }
      if (!input.read()) {
        return r.bad_value(
            *file, fmt::format("names {}, which cannot be read: {}", path, unread_reason(input)));
      }
      try {
        auto doc = parse_strict_json(input.text, path);
        if (!doc.is_object()) return r.bad_value(*file, "must name a file holding one JSON object");
        s.input = std::move(doc);
      } catch (const Error& e) {
        r.bad_value(*file, e.what());
      }
    }
  }

  void adapters(const MapEntry& e, Scenario& s) {
    if (!e.value.IsMap()) {
      sink_.error(e.where, "wrong-type", "\"adapters\" in the scenario must map actions to outcomes");
      return;
    }
    MapReader actions(e.value, "adapters", e.key_where, sink_);
    for (const auto& action : actions.entries()) {
      if (action.key.find('.') == std::string::npos) {
        sink_.error(action.key_where, "bad-value",
                    fmt::format("\"{}\" must be an action, adapter.operation", action.key));
        continue;
      }
      auto& outcomes = s.scripts[action.key];
      if (action.value.IsMap()) {
        outcomes.push_back(outcome(action.value, action.where, action.key));
      } else if (action.value.IsSequence() && action.value.size() > 0) {
        for (const auto& item : action.value) outcomes.push_back(outcome(item, action.where, action.key));
      } else {
        sink_.error(action.where, "wrong-type",
                    fmt::format("the outcomes of {} must be a list of {{result}} or {{fail}} "
                                "mappings",
                                action.key));
      }
    }
  }

  ScriptedOutcome outcome(const YAML::Node& node, SourceLocation where, const std::string& action) {
    ScriptedOutcome o;
    where = dsl::location_of(node, where);
    if (!node.IsMap()) {
      sink_.error(where, "wrong-type", fmt::format("an outcome of {} must be a mapping", action));
      return o;
    }
    std::string owner = fmt::format("an outcome of {}", action);
    MapReader r(node, owner, where, sink_);
    r.allow_only({"branch", "result", "fail", "message", "retryable", "times", "latency"});
    if (auto* e = r.find("branch"))
      if (auto branch = r.string(*e)) o.branch = *branch;
    if (auto* e = r.find("result")) o.result = dsl::to_json(e->value, &sink_, owner);
    if (auto* e = r.find("fail"))
      if (auto code = r.string(*e)) o.fail = *code;
    if (o.result && !o.fail.empty())
      sink_.error(where, "bad-value", fmt::format("{} has both result and fail; give one", owner));
    if (auto* e = r.find("message"))
      if (auto m = r.string(*e)) o.message = *m;
    if (auto* e = r.find("retryable")) o.retryable = r.boolean(*e);
    if (auto* e = r.find("times"))
      if (auto n = r.integer(*e, 1)) o.times = static_cast<int>(std::min<std::int64_t>(*n, 1'000'000));
    if (auto* e = r.find("latency"))
      if (auto d = r.duration(*e)) o.latency = *d;
    return o;
  }

  void signals(MapReader& r, const MapEntry& e, Scenario& s) {
    if (!e.value.IsSequence()) {
      r.wrong_type(e, "a list of {at, name, payload} signals");
      return;
    }
    for (const auto& item : e.value) {
      SourceLocation where = dsl::location_of(item, e.where);
      if (!item.IsMap()) {
        sink_.error(where, "wrong-type", "a signal must be a mapping {at, name, payload}");
        continue;
      }
      MapReader signal(item, "a signal", where, sink_);
      signal.allow_only({"at", "name", "match", "payload", "key", "workflow", "business_key"});
      ScenarioSignal out;
      if (auto* at = signal.require("at"))
        if (auto d = signal.duration(*at)) out.at = *d;
      if (auto* name = signal.require("name"))
        if (auto n = signal.string(*name)) out.name = *n;
      if (auto* match = signal.find("match")) {
        if (!match->value.IsScalar() || match->value.Scalar().empty())
          signal.wrong_type(*match, "a value (a string or a number)");
        else
          out.match = dsl::scalar_value(match->value);
      }
      if (auto* payload = signal.find("payload"))
        out.payload = dsl::to_json(payload->value, &sink_, "a signal's payload");
      if (auto* key = signal.find("key"))
        if (auto k = signal.string(*key)) out.key = *k;
      // A child's signal names it by workflow and business key, both or neither.
      auto* workflow = signal.find("workflow");
      auto* business_key = signal.find("business_key");
      if (workflow && !business_key) signal.require("business_key");
      if (business_key && !workflow) signal.require("workflow");
      if (workflow)
        if (auto w = signal.string(*workflow)) out.workflow = *w;
      if (business_key)
        if (auto k = signal.string(*business_key)) out.business_key = *k;
      s.signals.push_back(std::move(out));
    }
    std::stable_sort(s.signals.begin(), s.signals.end(),
                     [](const ScenarioSignal& a, const ScenarioSignal& b) { return a.at < b.at; });
  }

  void expect(const MapEntry& e, Expectations& x) {
    if (!e.value.IsMap()) {
      sink_.error(e.where, "wrong-type", "\"expect\" in the scenario must be a mapping");
      return;
    }
    MapReader r(e.value, "expect", e.key_where, sink_);
    r.allow_only({"status", "path", "visited", "not_visited", "effects", "compensated", "context",
                  "branches", "ended_after"});
    if (auto* s = r.find("status")) {
      if (auto text = r.string(*s)) {
        x.status = parse_instance_status(*text);
        if (!x.status) r.bad_value(*s, fmt::format("must be an instance status, not \"{}\"", *text));
      }
    }
    if (auto* p = r.find("path")) x.path = path(r, *p, "expect/path");
    if (auto* b = r.find("branches")) branches(r, *b, x);
    if (auto* v = r.find("visited")) x.visited = r.string_list(*v).value_or(std::vector<std::string>{});
    if (auto* v = r.find("not_visited"))
      x.not_visited = r.string_list(*v).value_or(std::vector<std::string>{});
    if (auto* c = r.find("compensated")) x.compensated = r.string_list(*c);
    if (auto* c = r.find("context")) x.context = dsl::to_json(c->value, &sink_, "expect/context");
    if (auto* d = r.find("ended_after")) x.ended_after = r.duration(*d);
    if (auto* f = r.find("effects")) effects(r, *f, x);
  }

  // A list of steps; an entry that is a mapping {fan-out step: {branch key: [steps]}} is that
  // step, with the paths its branches take (nested the same way).
  std::optional<std::vector<ExpectedStep>> path(MapReader& r, const MapEntry& e,
                                                const std::string& what) {
    if (!e.value.IsSequence()) {
      r.wrong_type(e, "a list of steps");
      return std::nullopt;
    }
    std::vector<ExpectedStep> out;
    bool ok = true;
    for (const auto& item : e.value) {
      SourceLocation where = dsl::location_of(item, e.where);
      if (item.IsScalar() && !item.Scalar().empty()) {
        out.push_back({item.Scalar(), {}});
        continue;
      }
      if (!item.IsMap() || item.size() != 1) {
        sink_.error(where, "wrong-type",
                    fmt::format("an entry of {} is a step, or {{fan-out step: {{branch key: "
                                "[steps]}}}}, not {}",
                                what, dsl::describe(item)));
        ok = false;
        continue;
      }
      MapReader step(item, what, where, sink_);
      const MapEntry& fan_out = step.entries().front();
      ExpectedStep entry{fan_out.key, {}};
      if (!fan_out.value.IsMap()) {
        step.wrong_type(fan_out, "a mapping of branch keys to their paths");
        ok = false;
        continue;
      }
      MapReader keys(fan_out.value, fmt::format("the branches of {} in {}", fan_out.key, what),
                     fan_out.key_where, sink_);
      for (const auto& branch : keys.entries()) {
        auto steps = path(keys, branch, fmt::format("{}/{}[{}]", what, fan_out.key, branch.key));
        if (!steps) {
          ok = false;
          continue;
        }
        entry.branches.emplace_back(branch.key, std::move(*steps));
      }
      out.push_back(std::move(entry));
    }
    if (!ok) return std::nullopt;
    return out;
  }

  // branches: {key or path: status, or {status, output}}
  void branches(MapReader& r, const MapEntry& e, Expectations& x) {
    if (!e.value.IsMap()) {
      r.wrong_type(e, "a mapping of branch keys (or paths) to end statuses");
      return;
    }
    MapReader branches(e.value, "expect/branches", e.key_where, sink_);
    for (const auto& b : branches.entries()) {
      ExpectedBranch out{b.key, "", std::nullopt};
      if (b.value.IsScalar()) {
        if (auto status = branches.string(b)) out.status = *status;
      } else if (b.value.IsMap()) {
        MapReader end(b.value, fmt::format("branch {} in expect/branches", b.key), b.key_where,
                      sink_);
        end.allow_only({"status", "output"});
        if (auto* status = end.require("status"))
          if (auto text = end.string(*status)) out.status = *text;
        if (auto* output = end.find("output"))
          out.output = dsl::to_json(output->value, &sink_, "an expected branch output");
      } else {
        branches.wrong_type(b, "an end status or {status, output}");
        continue;
      }
      x.branches.push_back(std::move(out));
    }
  }

  void effects(MapReader& r, const MapEntry& e, Expectations& x) {
    if (!e.value.IsSequence()) {
      r.wrong_type(e, "a list of actions (or {action, input})");
      return;
    }
    x.effects.emplace();
    for (const auto& item : e.value) {
      SourceLocation where = dsl::location_of(item, e.where);
      if (item.IsScalar()) {
        x.effects->push_back({item.Scalar(), std::nullopt});
        continue;
      }
      if (!item.IsMap()) {
        sink_.error(where, "wrong-type", "an expected effect is an action or {action, input}");
        continue;
      }
      MapReader effect(item, "an expected effect", where, sink_);
      effect.allow_only({"action", "input"});
      ExpectedEffect out;
      if (auto* a = effect.require("action"))
        if (auto name = effect.string(*a)) out.action = *name;
      if (auto* in = effect.find("input"))
        out.input = dsl::to_json(in->value, &sink_, "an expected effect's input");
      x.effects->push_back(std::move(out));
    }
  }

  std::string path_;
  fs::path base_;
  dsl::DiagnosticSink& sink_;
};

}  // namespace

ScenarioLoad load_scenario(const std::string& path) {
  dsl::DiagnosticSink sink(path);
  ScenarioLoad out;
  auto file = read_file_text(path, kScenarioBounds.bytes);
  if (file.fault == FileText::Fault::too_large) {
    auto problem = dsl::too_large(file.size, kScenarioBounds);
    sink.error(problem.where, problem.code, problem.message);
    out.diagnostics = sink.take();
    return out;
  }
  if (!file.read()) {
    sink.error({1, 1}, "io", unread_sentence(path, file, "the scenario file"));
    out.diagnostics = sink.take();
    return out;
  }
  const auto* text = &file.text;
  if (auto problem = dsl::check_yaml_bounds(*text, kScenarioBounds)) {
    sink.error(problem->where, problem->code, problem->message);
    out.diagnostics = sink.take();
    return out;
  }
  try {
    YAML::Node document = YAML::Load(*text);
    if (!document.IsMap()) {
      sink.error({1, 1}, "wrong-type", "a scenario file must be a YAML mapping (scenario, input, ...)");
    } else {
      Scenario s = ScenarioReader(path, sink).read(document);
      if (!sink.has_errors()) out.scenario = std::move(s);
    }
  } catch (const YAML::Exception& e) {
    SourceLocation where = dsl::location_of(e.mark);
    sink.error(where.line == 0 ? SourceLocation{1, 1} : where, "yaml-syntax",
               fmt::format("YAML syntax error: {}", e.msg));
  }
  out.diagnostics = sink.take();
  return out;
}

bool Expectations::any() const {
  return status || path || !visited.empty() || !not_visited.empty() || effects || compensated ||
         context || !branches.empty() || ended_after;
}

}  // namespace rmaflow
