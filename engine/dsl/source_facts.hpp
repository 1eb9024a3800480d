// What the parser records about a workflow file as written, for the checks that run once every
// step is parsed (graph_checks, context_flow, lints): each transition, expression and context
// write with its position, and the flows (the top level and each branch's sub-flow) steps are
// declared in. The Definition keeps only what the engine needs to run.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "rmaflow/definition.hpp"

namespace rmaflow::dsl {

// One transition as written.
struct Transition {
  std::string from;  // the step; empty for a flow's `start`
  std::string to;
  std::string key;      // the key that names it: "next", "default", "on_timeout", "start"
  std::string context;  // where that key is, for messages: "catch entry 1 of step \"a\""
  SourceLocation where;
  std::string flow;  // the flow it belongs to (Step::flow of `from`, or the flow `start` starts)
};

// One jq program in the file and what it sees when it runs.
struct ExpressionSite {
  enum class Role {
    input,         // a task's `with`, a call's input, a wait's match, an end's output, a
                   // foreach's items: the context on entering the step
    condition,     // a switch case's `if`: the context on entering the step
    assignment,    // a `set` value: the context on entering plus the step's earlier assignments
    compensation,  // a compensation's `with`: rendered once the step succeeded (its result too)
    posting,       // a task's `posting` fields: rendered once the step succeeded (its result too)
    business_key,  // the workflow's business_key: only .input
    element_key,   // a foreach's `key`: the context on entering plus the element (.<as>) and
                   // .branch (its index)
  };
  Role role = Role::input;
  std::string step;   // empty for the business key
  std::string label;  // "with/amount", "if", "set/refund_amount": names it in messages
  std::string key;    // the context key an assignment writes
  int order = 0;      // an assignment's place among its step's assignments
  std::string program;
  SourceLocation where;
};

// A context key a step writes: its `result`, a key of its `set`, or a foreach's element name
// (`as`, which each branch sees).
struct ContextWrite {
  enum class Kind { result, set, element };
  std::string step;
  std::string key;
  SourceLocation where;  // of the result name, the set key, or the `as` (else the foreach key)
  Kind kind = Kind::result;
};

// A step name as declared in one flow's `steps`.
struct DeclaredStep {
  std::string flow;  // Step::flow
  SourceLocation where;
};

struct SourceFacts {
  std::vector<Transition> transitions;  // every flow's start and every step transition
  std::vector<ExpressionSite> expressions;
  std::vector<ContextWrite> writes;
  // Every step name, parsed or not, with each flow that declares it (more than one is an error,
  // already reported).
  std::map<std::string, std::vector<DeclaredStep>> declared;
  std::map<std::string, SourceLocation> kind_where;  // step -> its kind key (action, wait, ...)
  // Flow id (Step::flow) -> how messages name it: "the workflow", "the branches of foreach
  // \"inspect_lines\"", "branch \"ship\" of step \"fulfil\"".
  std::map<std::string, std::string> flow_labels;
};

}  // namespace rmaflow::dsl
