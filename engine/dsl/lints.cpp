#include "engine/dsl/lints.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>

#include "engine/dsl/graph_checks.hpp"
#include "engine/dsl/jq_references.hpp"
#include "engine/dsl/jq_shape.hpp"
#include "engine/dsl/schema_walk.hpp"

namespace rmaflow::dsl {

namespace {

// The program without spaces or outer parentheses, for comparing conditions by shape.
std::string shape(std::string_view program) {
  std::string out;
  for (char c : program)
    if (!std::isspace(static_cast<unsigned char>(c))) out += c;
  while (out.size() >= 2 && out.front() == '(' && out.back() == ')') {
    int depth = 0;
    bool wraps = true;  // the first `(` closes at the very end
    for (std::size_t i = 0; i + 1 < out.size(); ++i) {
      depth += out[i] == '(' ? 1 : out[i] == ')' ? -1 : 0;
      if (depth == 0) wraps = false;
    }
    if (!wraps) break;
    out = out.substr(1, out.size() - 2);
  }
  return out;
}

// `a` is `b | not`, either way round.
bool negated(const std::string& a, const std::string& b) {
  for (const auto& [x, y] : {std::pair{a, b}, std::pair{b, a}}) {
    if (y == x + "|not" || y == "(" + x + ")|not") return true;
  }
  return false;
}

// `A op B` split at its only top-level comparison operator `op`.
bool split_at(const std::string& s, std::string_view op, std::string& lhs, std::string& rhs) {
  std::size_t at = s.find(op);
  if (at == std::string::npos || s.find(op, at + 1) != std::string::npos) return false;
  // `<` must not be the start of `<=`, nor `=` of `==`.
  if (op.size() == 1 && at + 1 < s.size() && s[at + 1] == '=') return false;
  if (op.size() == 1 && at > 0 && (s[at - 1] == '!' || s[at - 1] == '=' || s[at - 1] == '<' ||
                                   s[at - 1] == '>'))
    return false;
  lhs = s.substr(0, at);
  rhs = s.substr(at + op.size());
  return !lhs.empty() && !rhs.empty();
}

// Two comparisons of the same operands where exactly one is always true.
bool complementary(const std::string& a, const std::string& b) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 3> kOpposites = {
      {{"==", "!="}, {"<", ">="}, {">", "<="}}};
  for (const auto& [op, opposite] : kOpposites) {
    for (const auto& [x, y] : {std::pair{a, b}, std::pair{b, a}}) {
      std::string xl, xr, yl, yr;
      if (split_at(x, op, xl, xr) && split_at(y, opposite, yl, yr) && xl == yl && xr == yr)
        return true;
    }
  }
  return false;
}

// True when some case is sure to be true (see switch-no-default).
bool exhaustive(const SwitchStep& step) {
  std::vector<std::string> shapes;
  for (const auto& c : step.cases) shapes.push_back(shape(c.condition.source()));
  for (std::size_t i = 0; i < shapes.size(); ++i) {
    if (shapes[i] == "true") return true;
    for (std::size_t j = 0; j < i; ++j)
      if (negated(shapes[i], shapes[j]) || complementary(shapes[i], shapes[j])) return true;
  }
  return false;
}

void check_switches(const Definition& d, const SourceFacts& facts, DiagnosticSink& sink) {
  for (const auto& step : d.steps) {
    const auto* sw = std::get_if<SwitchStep>(&step.body);
    if (sw == nullptr || !sw->default_next.empty() || exhaustive(*sw)) continue;
    sink.warning(facts.kind_where.at(step.name), "switch-no-default",
                 fmt::format("switch step \"{}\" has no default and its conditions may all be "
                             "false; the instance would then suspend with NoMatch: add a default",
                             step.name));
  }
}

// A condition jq always takes as true: the case always matches, and later cases never do.
void check_conditions(const SourceFacts& facts, DiagnosticSink& sink) {
  for (const auto& site : facts.expressions) {
    if (site.role != ExpressionSite::Role::condition) continue;
    auto what = never_boolean(site.program);
    if (!what) continue;
    sink.warning(site.where, "switch-not-boolean",
                 fmt::format("the condition \"{}\" of a case of switch step \"{}\" is {}, never "
                             "true or false: jq takes it as true, so the case always matches; "
                             "compare with == (or test with a function that gives true or false)",
                             site.program, site.step, *what));
  }
}

std::string path_text(const std::vector<InputRead::Step>& path, std::size_t upto) {
  std::string out = ".input";
  for (std::size_t i = 0; i < upto && i < path.size(); ++i) {
    if (!path[i].field.empty()) out += "." + path[i].field;
    else out += path[i].index >= 0 ? fmt::format("[{}]", path[i].index) : "[]";
  }
  return out;
}

// An expression that reads a field of the start input the input schema does not declare: a
// misspelt name, or a field the platform does not send.
void check_input_reads(const Definition& d, const SourceFacts& facts, DiagnosticSink& sink) {
  if (!d.input_schema || !d.input_schema->is_object()) return;
  const nlohmann::json& root = *d.input_schema;
  for (const auto& site : facts.expressions) {
    for (const auto& read : input_reads(site.program)) {
      std::vector<DocStep> at;
      for (std::size_t i = 0; i < read.path.size(); ++i) {
        const auto& step = read.path[i];
        if (step.field.empty()) {
          at.push_back(DocStep{{}, step.index, true});
          continue;
        }
        const nlohmann::json* parent = subschema_at(root, at);
        if (parent == nullptr) break;
        auto facts_here = field_facts(root, *parent, step.field);
        if (facts_here.kind == FieldFacts::Kind::unknown) break;
        if (facts_here.kind == FieldFacts::Kind::undeclared) {
          std::string where = site.step.empty() ? site.label
                                                : fmt::format("{} of step \"{}\"", site.label,
                                                              site.step);
          sink.warning(site.where, "undeclared-input",
                       fmt::format("{} in {} reads a field the input schema does not declare "
                                   "(under {} it declares: {})",
                                   path_text(read.path, i + 1), where, path_text(read.path, i),
                                   fmt::join(facts_here.declared, ", ")));
          break;
        }
        at.push_back(DocStep{step.field, -1, false});
      }
    }
  }
}

void check_waits(const Definition& d, const SourceFacts& facts, DiagnosticSink& sink) {
  for (const auto& step : d.steps) {
    const auto* wait = std::get_if<WaitStep>(&step.body);
    if (wait == nullptr || wait->signal.empty()) continue;
    const char* who = step.flow.empty() ? "the instance" : "its branch";
    if (!wait->timeout) {
      sink.warning(facts.kind_where.at(step.name), "wait-without-timeout",
                   fmt::format("wait step \"{}\" waits for signal {} with neither timeout nor "
                               "on_timeout: if it never comes {} waits forever; add timeout "
                               "(and on_timeout)",
                               step.name, wait->signal, who));
    }
    if (wait->match && step.flow.empty()) {
      sink.warning(facts.kind_where.at(step.name), "match-outside-branch",
                   fmt::format("wait step \"{}\" has a match but is in no branch: a signal "
                               "{} sent without that match value never reaches it; match is "
                               "for telling a foreach's branches apart (the signal already "
                               "names its instance)",
                               step.name, wait->signal));
    }
  }
}

void check_ends(const Definition& d, const SourceFacts& facts, DiagnosticSink& sink) {
  auto seen = reachable_steps(d);
  bool any_end = false, plain_end = false;
  for (std::size_t v = 0; v < d.steps.size(); ++v) {
    const auto* end = std::get_if<EndStep>(&d.steps[v].body);
    if (end == nullptr || !seen[v] || !d.steps[v].flow.empty()) continue;  // a branch's end
    any_end = true;
    plain_end = plain_end || !end->compensate;
    if (end->compensate && end->status == InstanceStatus::completed) {
      sink.warning(facts.kind_where.at(d.steps[v].name), "end-only-via-compensation",
                   fmt::format("end step \"{}\" reports completed, but is reached only through a "
                               "compensation that undoes the instance's work; end with "
                               "cancelled, expired, rejected or failed, or drop compensate",
                               d.steps[v].name));
    }
  }
  if (!any_end || plain_end) return;
  auto start = std::find_if(facts.transitions.begin(), facts.transitions.end(),
                            [](const Transition& t) { return t.from.empty() && t.flow.empty(); });
  sink.warning(start == facts.transitions.end() ? SourceLocation{1, 1} : start->where,
               "end-only-via-compensation",
               "every end this workflow can reach compensates: no instance can finish without "
               "undoing its work; give the successful path an end without compensate");
}

}  // namespace

void check_lints(const Definition& d, const SourceFacts& facts, DiagnosticSink& sink) {
  check_switches(d, facts, sink);
  check_conditions(facts, sink);
  check_input_reads(d, facts, sink);
  check_waits(d, facts, sink);
  check_ends(d, facts, sink);
}

}  // namespace rmaflow::dsl
