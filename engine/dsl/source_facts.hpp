// What the parser records about a workflow file as written, for the checks that run once every
// step is parsed (graph_checks, context_flow, lints): each transition, expression and context
// write with its position. The Definition keeps only what the engine needs to run.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "rmaflow/definition.hpp"

namespace rmaflow::dsl {

// One transition as written.
struct Transition {
  std::string from;  // the step; empty for the workflow's `start`
  std::string to;
  std::string key;      // the key that names it: "next", "default", "on_timeout", "start"
  std::string context;  // where that key is, for messages: "catch entry 1 of step \"a\""
  SourceLocation where;
};

// One jq program in the file and what it sees when it runs.
struct ExpressionSite {
  enum class Role {
    input,         // a task's `with`: the context on entering the step
    condition,     // a switch case's `if`: the context on entering the step
    assignment,    // a `set` value: the context on entering plus the step's earlier assignments
    compensation,  // a compensation's `with`: rendered once the step succeeded (its result too)
    business_key,  // the workflow's business_key: only .input
  };
  Role role = Role::input;
  std::string step;   // empty for the business key
  std::string label;  // "with/amount", "if", "set/refund_amount": names it in messages
  std::string key;    // the context key an assignment writes
  int order = 0;      // an assignment's place among its step's assignments
  std::string program;
  SourceLocation where;
};

// A context key a step writes: its `result`, or a key of its `set`.
struct ContextWrite {
  std::string step;
  std::string key;
  SourceLocation where;  // of the result name or the set key
};

struct SourceFacts {
  std::vector<Transition> transitions;  // the start and every step transition
  std::vector<ExpressionSite> expressions;
  std::vector<ContextWrite> writes;
  std::set<std::string> declared;                    // every step name, parsed or not
  std::map<std::string, SourceLocation> kind_where;  // step -> its kind key (action, wait, ...)
};

}  // namespace rmaflow::dsl
