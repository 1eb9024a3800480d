// The workflow definition model: what a workflow YAML file means once loaded and validated.
//
// A Definition is immutable once loaded and shared (std::shared_ptr<const Definition>) between
// the engine and every instance pinned to it.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "rmaflow/expression.hpp"
#include "rmaflow/status.hpp"
#include "rmaflow/time.hpp"

namespace rmaflow {

// 1-based line and column in the YAML source; 0 when unknown.
struct SourceLocation {
  int line = 0;
  int column = 0;
};

enum class Jitter { none, full };

struct RetryPolicy {
  int max_attempts = 5;  // counts every attempt; 1 means no retry
  Duration interval = Duration(2000);
  double backoff = 2.0;
  Duration max_interval = Duration(5 * 60 * 1000);
  Jitter jitter = Jitter::none;
  // Error codes retried. "any" stands for every retryable error (Transient, Timeout, ...);
  // a non-retryable code is retried only when named here.
  std::vector<std::string> errors = {"any"};

  // The delay before attempt `failed_attempt + 1`, before jitter:
  // min(interval * backoff^(failed_attempt-1), max_interval).
  Duration delay_after(int failed_attempt) const;
  bool retries(const std::string& code, bool retryable) const;
};

struct CatchRule {
  std::vector<std::string> errors;  // codes, or "any"
  std::string next;
  SourceLocation where;
  bool matches(const std::string& code) const;
};

struct Compensation {
  std::string adapter;
  std::string operation;
  Template with;
  RetryPolicy retry;
  Duration timeout{0};
  SourceLocation where;
};

// A financial posting or stock movement that a task step records when it succeeds (a credit
// memo, a refund, a capture, a restock), so that an auditor can list them across instances
// (`rmaflow audit`). Its fields are rendered in the step's context once the result is written
// (`.result`'s path holds what the adapter answered) and stored in the step_completed event,
// in the same commit. Undoing the step (its compensation) lists the posting as reversed.
struct Posting {
  std::string kind;      // credit_memo, refund, capture, restock, ...: an identifier
  Template fields;       // {customer, reference, amount, currency, sku, quantity}, as written
  SourceLocation where;
};

struct TaskStep {
  std::string adapter;    // "erp" in erp.authorize_return
  std::string operation;  // "authorize_return"
  Template with;
  RetryPolicy retry;      // the step's policy merged over the workflow defaults
  Duration timeout{0};    // per attempt
  std::vector<CatchRule> catches;
  std::optional<Compensation> compensate;
  std::optional<Posting> posting;
  bool pivot = false;
};

struct SwitchCase {
  Expression condition;
  std::string next;
  SourceLocation where;
};

struct SwitchStep {
  std::vector<SwitchCase> cases;
  std::string default_next;  // empty when absent
};

struct WaitStep {
  std::string signal;                 // empty for a pure duration wait
  // Inside a branch: the value a signal must carry (`match`) to reach this wait, rendered in
  // the branch's context on entering the step (e.g. the RMA line's id). Unset: any signal
  // with the name.
  std::optional<Template> match;
  std::optional<Duration> duration;   // wait: {duration: D}
  std::optional<Duration> timeout;    // wait: {signal: S, timeout: D}
  std::string on_timeout;             // step to go to on timeout; empty = error Timeout

  // When its timer comes due, counted from entering the step: the duration or the timeout.
  std::optional<Duration> span() const { return duration ? duration : timeout; }
};

struct SetStep {
  // Each key lands at .<key> in the context, in file order.
  std::vector<std::pair<std::string, Template>> assignments;
};

struct EndStep {
  // At the top level: the instance's end status.
  InstanceStatus status = InstanceStatus::completed;
  // As written. Inside a branch the status is free text naming how the branch ended
  // ("restocked", "not_received"); at the top level it is to_string(status).
  std::string label = "completed";
  bool compensate = false;
  // The instance's (or the branch's) output: a branch's lands in its fan-out step's collected
  // result; an instance's is what a parent's `call` step receives. Unset: null.
  std::optional<Template> output;
};

// A sub-flow: the steps one branch runs, from `start` until an end step. Its steps are listed
// in Definition::steps like every other step; step names are unique across the workflow.
struct Flow {
  std::string start;
  std::vector<std::string> steps;  // the flow's own steps (not those of nested flows), file order
};

// What a branch's unhandled failure does to its fan-out step.
enum class BranchFailure {
  continue_,  // that branch suspends alone (an incident); the others go on
  fail,       // the step fails (error BranchFailed): the others stop, catch / on_failure decide
};

// One branch per element of an array, each running `flow` with the element in scope.
struct ForeachStep {
  Template items;                  // must render to an array
  std::string as = "item";         // the element is .<as> inside the branch
  std::optional<Template> key;     // the branch's stable key; default: its index ("0", "1", ...)
  int concurrency = 0;             // at most this many branches running at once; 0 = no limit
  BranchFailure on_branch_failure = BranchFailure::continue_;
  Flow flow;
  std::vector<CatchRule> catches;
};

// Named branches, each a sub-flow, joined when all have ended.
struct ParallelStep {
  std::vector<std::pair<std::string, Flow>> branches;  // in file order
  BranchFailure on_branch_failure = BranchFailure::continue_;
  std::vector<CatchRule> catches;
};

// Starts another workflow as a child instance (idempotently: one child per visit of the step
// and branch), waits for it to end and takes its end status and output. A child that does not
// complete fails the step with ChildFailed.
struct CallStep {
  std::string workflow;
  std::optional<int> version;      // default: the newest deployed when the call starts
  Template input;                  // the child's start input
  std::vector<CatchRule> catches;
};

enum class StepKind { task, switch_, wait, set, end, foreach, parallel, call };

// "task", "switch", "wait", "set", "end", "foreach", "parallel", "call".
std::string_view to_string(StepKind kind);

struct Step {
  std::string name;
  SourceLocation where;
  // The flow that holds the step: empty at the top level; the fan-out step's name for a
  // foreach's sub-flow; "<step>.<branch>" for a parallel branch.
  std::string flow;
  std::string next;    // task, wait, set, foreach, parallel, call; empty for switch and end
  // task, wait, foreach, parallel, call: where the output lands in the context (the branch's
  // own context inside a branch); empty = discarded
  std::string result;
  std::variant<TaskStep, SwitchStep, WaitStep, SetStep, EndStep, ForeachStep, ParallelStep,
               CallStep>
      body;

  StepKind kind() const { return static_cast<StepKind>(body.index()); }
  const TaskStep* task() const { return std::get_if<TaskStep>(&body); }
  // The catch rules of a step that can fail after running (task, foreach, parallel, call);
  // empty for the others.
  const std::vector<CatchRule>& catches() const;
  // Whether the step starts branches (foreach, parallel).
  bool fans_out() const { return kind() == StepKind::foreach || kind() == StepKind::parallel; }
  // Every step name this step can transition to (next, catch targets, switch targets,
  // on_timeout), all in the step's own flow. A fan-out step's sub-flows are not successors.
  std::vector<std::string> successors() const;
};

enum class FailurePolicy { suspend, compensate };

// A business milestone (`credited`: the credit memo is posted): reached the first time its
// top-level step completes (an end step: when the instance ends there). The time from an
// instance's start to each milestone is what SLAs are measured and reported on.
struct Milestone {
  std::string name;
  std::string step;
  std::optional<Duration> sla;  // reached later than this after the start: a breach
  SourceLocation where;
};

// Where an incident goes (`incidents:`): the first route whose `errors` hold the incident's
// error code and whose condition holds over the context at the failed step names the team that
// works it and the time it should be resolved within.
struct IncidentRoute {
  std::vector<std::string> errors;      // codes; empty matches any
  std::optional<Expression> condition;  // over the context the failed step saw
  std::string team;
  std::optional<Duration> sla;  // from when the incident opened
  SourceLocation where;
};

// A search attribute (`attributes:`): a business field of each instance, indexed so that lists
// filter on it (`customer_id = C-105`, `value >= 500`). Its expression is evaluated over the
// context when the instance starts and again after each set step and each context patch; a
// string, number or boolean is indexed, anything else (null: not known yet) is not.
struct SearchAttribute {
  std::string name;
  Expression value;
  SourceLocation where;
};

// At most this many attributes per workflow (a string value: kMaxAttributeBytes, store.hpp).
inline constexpr std::size_t kMaxSearchAttributes = 16;

struct Definition {
  std::string name;
  int version = 0;
  std::string description;
  std::optional<nlohmann::json> input_schema;  // resolved: a path in the YAML is loaded at load time
  std::optional<Expression> business_key;
  FailurePolicy on_failure = FailurePolicy::suspend;
  std::optional<Duration> sla;
  std::vector<Milestone> milestones;
  std::vector<IncidentRoute> incident_routes;
  std::vector<SearchAttribute> attributes;
  RetryPolicy default_retry;
  Duration default_timeout = Duration(30000);
  std::string start;
  std::vector<Step> steps;  // every step, sub-flows' too, in file order
  Flow top;                 // the top-level flow: `start` and the top-level steps

  // The YAML text it was loaded from, and the SHA-256 (hex) of its canonical content:
  // the document as JSON with sorted keys plus the resolved input schema, so comments and
  // formatting do not change it.
  std::string source;
  std::string content_hash;
  std::string file;  // as given to the loader, for messages

  // Any step, at the top level or in a sub-flow (names are unique across the workflow).
  const Step* find(const std::string& step) const;
  // The flow `id` names (Step::flow): the top level for "", else a foreach's or a parallel
  // branch's sub-flow; null when there is none.
  const Flow* flow(const std::string& id) const;
  // The route an incident with error `code` takes, seen from `context`; null when none. A
  // route whose condition does not evaluate (jq raises, a limit) does not match: the incident
  // still opens, and the next route is tried.
  const IncidentRoute* route_incident(const std::string& code, const nlohmann::json& context) const;
  // Rebuilds the name index find() uses; call after filling `steps`.
  void index_steps();

 private:
  std::map<std::string, std::size_t, std::less<>> index_;
};

enum class Severity { error, warning };

struct Diagnostic {
  std::string file;
  SourceLocation where;
  Severity severity = Severity::error;
  std::string code;  // stable, e.g. "unknown-key"
  std::string message;
};

// "FILE:LINE:COL: error[CODE]: message"
std::string format_diagnostic(const Diagnostic& d);

struct LoadResult {
  std::shared_ptr<const Definition> definition;  // null when any error was found
  std::vector<Diagnostic> diagnostics;           // every problem found, errors and warnings
  bool ok() const { return definition != nullptr; }
};

// Loads and validates a workflow from YAML text. `file` names it in diagnostics; relative
// paths inside it (the input schema) resolve against `base_dir`. Never throws for bad input:
// every problem becomes a diagnostic.
// `jq` says when its jq programs compile: Compilation::on_first_use only for a text known to
// have been checked (see load_stored_definition).
LoadResult load_definition(const std::string& yaml, const std::string& file,
                           const std::string& base_dir = ".", Compilation jq = Compilation::now);

// Loads a definition as stored at deploy time: `input_schema` (the schema its `input:` resolved
// to then; empty when none) stands in for the path, so it loads wherever the engine runs. A
// definition read back from the store was checked when it was deployed: it loads with
// Compilation::on_first_use, and each jq program compiles when it first runs.
LoadResult load_stored_definition(const std::string& yaml, const std::string& file,
                                  const std::string& input_schema, Compilation jq);

// Reads `path` and loads it; a missing or unreadable file is an "io" diagnostic.
LoadResult load_definition_file(const std::string& path, Compilation jq = Compilation::now);

// Throws DefinitionError unless the result loaded.
class DefinitionError : public Error {
 public:
  explicit DefinitionError(std::vector<Diagnostic> diagnostics);
  const std::vector<Diagnostic>& diagnostics() const { return diagnostics_; }

 private:
  std::vector<Diagnostic> diagnostics_;
};

}  // namespace rmaflow
