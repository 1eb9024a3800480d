// The step kinds that run other flows: foreach and parallel start branches, each running a
// sub-flow of its own; call starts a child instance of another workflow.
#include <fmt/format.h>

#include <climits>

#include "engine/dsl/dsl_names.hpp"
#include "engine/dsl/step_reader.hpp"
#include "engine/dsl/yaml_values.hpp"
#include "engine/support/limits.hpp"
#include "engine/support/utf8.hpp"

namespace rmaflow::dsl {

ForeachStep StepReader::foreach_step(Step& step, std::vector<Step>& nested) {
  ForeachStep f;
  const MapEntry& items = *r_.find("foreach");
  std::string inner;
  bool single_template =
      items.value.IsScalar() && Template::is_expression(items.value.Scalar(), &inner);
  if (!items.value.IsSequence() && !single_template) {
    r_.wrong_type(items, "one ${ jq } template giving an array (or a list)");
  } else if (auto t = value(items, "foreach", context_)) {
    f.items = std::move(*t);
  }
  result(step);
  f.as = element_name(step);
  f.key = element_key();
  if (auto* e = r_.find("concurrency"))
    if (auto n = r_.integer(*e, 1))
      f.concurrency = static_cast<int>(std::min<std::int64_t>(*n, INT_MAX));
  f.on_branch_failure = branch_failure();
  if (auto* e = r_.find("catch")) f.catches = catches(*e);
  FlowScope sub{name_, fmt::format("the branches of foreach \"{}\"", name_)};
  f.flow = parse_flow(r_.require("start"), r_.require("steps"), sub, context_, cx_, nested);
  next(step);
  return f;
}

// `as`: the name each branch sees its element under; default "item".
std::string StepReader::element_name(Step& step) {
  std::string as = "item";
  SourceLocation where = cx_.facts.kind_where[name_];
  if (auto* e = r_.find("as")) {
    auto name = r_.string(*e);
    if (!name || !check_context_key(*name, e->where, fmt::format("\"as\" in {}", context_),
                                    cx_.sink, /*in_branch=*/true))
      return as;
    as = *name;
    where = e->where;
  }
  if (as == step.result) {
    cx_.sink.error(where, "result-overwrites",
                   fmt::format("\"as\" in {} names the element .{}, which is also the step's "
                               "result; give them different names",
                               context_, as));
  }
  cx_.facts.writes.push_back({name_, as, where, ContextWrite::Kind::element});
  return as;
}

// `key`: each branch's stable key, a template over the element; default: the branch's index.
std::optional<Template> StepReader::element_key() {
  auto* e = r_.find("key");
  if (e == nullptr) return std::nullopt;
  std::string inner;
  if (!e->value.IsScalar() || !Template::is_expression(e->value.Scalar(), &inner)) {
    r_.bad_value(*e, "must be one ${ jq } template over the element (e.g. ${ .line.line_id }): "
                     "each branch needs a key of its own");
    return std::nullopt;
  }
  std::vector<JqSite> found;
  auto key = read_template(e->value, e->where, "key", context_, cx_.sink, &found);
  record(found, ExpressionSite::Role::element_key);
  return key;
}

BranchFailure StepReader::branch_failure() {
  auto* e = r_.find("on_branch_failure");
  if (e == nullptr) return BranchFailure::continue_;
  if (auto policy = r_.string(*e)) {
    if (*policy == "continue") return BranchFailure::continue_;
    if (*policy == "fail") return BranchFailure::fail;
    r_.bad_value(*e, fmt::format("must be continue or fail, not \"{}\"", *policy));
  }
  return BranchFailure::continue_;
}

ParallelStep StepReader::parallel_step(Step& step, std::vector<Step>& nested) {
  ParallelStep p;
  const MapEntry& e = *r_.find("parallel");
  if (!e.value.IsMap()) {
    r_.wrong_type(e, "a mapping of branch names to {start, steps}");
  } else {
    MapReader branches(e.value, fmt::format("the parallel of {}", context_), e.key_where,
                       cx_.sink);
    if (branches.entries().empty()) r_.bad_value(e, "must name at least one branch");
    for (const auto& b : branches.entries()) {
      std::string owner = fmt::format("branch \"{}\" of {}", b.key, context_);
      if (!valid_step_name(b.key)) {
        cx_.sink.error(b.key_where, "bad-value",
                       fmt::format("branch name \"{}\" in {} must match [a-z_][a-z0-9_-]* in at "
                                   "most {} bytes",
                                   quote_utf8(b.key, 200), context_, kMaxNameBytes));
      }
      if (!b.value.IsMap()) {
        cx_.sink.error(b.where, "wrong-type",
                       fmt::format("{} must be a mapping {{start, steps}}, not {}", owner,
                                   describe(b.value)));
        continue;
      }
      MapReader r(b.value, owner, b.key_where, cx_.sink);
      r.allow_only(keys_of("parallel_branch"));
      FlowScope sub{name_ + "." + b.key, owner};
      p.branches.emplace_back(
          b.key, parse_flow(r.require("start"), r.require("steps"), sub, owner, cx_, nested));
    }
  }
  p.on_branch_failure = branch_failure();
  result(step);
  if (auto* c = r_.find("catch")) p.catches = catches(*c);
  next(step);
  return p;
}

CallStep StepReader::call_step(Step& step) {
  CallStep c;
  const MapEntry& e = *r_.find("call");
  if (!e.value.IsMap()) {
    r_.wrong_type(e, "a mapping {workflow, version, input}");
  } else {
    std::string owner = fmt::format("the call of {}", context_);
    MapReader r(e.value, owner, e.key_where, cx_.sink);
    r.allow_only(keys_of("call"));
    if (auto* w = r.require("workflow"))
      if (auto name = read_workflow_name(r, *w)) c.workflow = *name;
    if (auto* v = r.find("version"))
      if (auto n = r.integer(*v, 1))
        c.version = static_cast<int>(std::min<std::int64_t>(*n, INT_MAX));
    if (auto* input = r.require("input"))
      c.input = input_value(r, *input, "input", owner, ExpressionSite::Role::input);
  }
  result(step);
  if (auto* catch_entry = r_.find("catch")) c.catches = catches(*catch_entry);
  next(step);
  return c;
}

}  // namespace rmaflow::dsl
