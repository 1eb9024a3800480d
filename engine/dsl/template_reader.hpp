// Reading the DSL's expression positions: values that may hold `${ jq }` templates (`with`,
// `set`, compensation `with`) and bare expressions (switch `if`, `business_key`). Each problem
// is reported at the scalar that holds the expression:
//   jq-compile          jq cannot compile it
//   jq-unbounded        it uses a construct that may not terminate (see jq_bounds.hpp)
//   jq-env              it reads the process environment (env, $ENV)
//   template-in-string  (warning) a string contains `${` but is not exactly one template
#pragma once

#include <yaml-cpp/yaml.h>

#include <optional>
#include <string>
#include <vector>

#include "engine/dsl/diagnostic_sink.hpp"
#include "rmaflow/expression.hpp"

namespace rmaflow::dsl {

// A jq program found in a value, and where it is written.
struct JqSite {
  std::string program;
  std::string label;  // "with/amount": the value's label and the program's place in it
  SourceLocation where;
};

// `label` and `context` name the value in messages: "with" of step "refund". `where` is used
// for parts of `value` without a position of their own. nullopt when any expression is bad.
// Every program found is appended to `sites` when given.
std::optional<Template> read_template(const YAML::Node& value, SourceLocation where,
                                      const std::string& label, const std::string& context,
                                      DiagnosticSink& sink, std::vector<JqSite>* sites = nullptr);

// An expression position takes bare jq (`.authorization.returnless`) or one `${ jq }`.
std::optional<Expression> read_expression(const YAML::Node& value, SourceLocation where,
                                          const std::string& label, const std::string& context,
                                          DiagnosticSink& sink,
                                          std::vector<JqSite>* sites = nullptr);

}  // namespace rmaflow::dsl
