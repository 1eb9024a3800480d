// Traces made from what the engine committed: an instance is a trace (its id derived from the
// correlation id, so a caller's traceparent continues into it) with a root span from its start
// to its end; each attempt of a task or compensation, each wait and each operator action is a
// child span. Spans end when the transition that ends them is committed, and go to the
// SpanExporter.
//
// It reads the facts copied out of each commit (commit_facts.hpp), on the observe pipeline's
// thread (observe_pipeline.hpp), never on the engine's.
//
// What is under way is remembered only while its instance is in memory, except waits, of which
// at most kMaxOpenWaits are remembered (a wait whose start is forgotten, or began before this
// process, gets no span). Span ids are derived, not random (trace_id.hpp), so an attempt's span
// is the parent an HTTP adapter named in its call.
//
// Thread-safety: observe() on one thread at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "engine/observe/commit_facts.hpp"
#include "engine/observe/engine_metrics.hpp"
#include "engine/observe/span_export.hpp"
#include "rmaflow/store.hpp"

namespace rmaflow::observe {

class TraceBuilder {
 public:
  static constexpr std::size_t kMaxOpenWaits = 100'000;

  // Traces the share `sample` of instances (trace_sampled()).
  TraceBuilder(SpanExporter& exporter, DefinitionLookup definitions, double sample = 1.0);
  void observe(const CommitFacts& facts);
  // Forgets every instance, attempt and wait it knows of (their spans are not written).
  void forget();

 private:
  struct Open {
    std::string step;
    TimePoint start;
    std::string span_id;
    std::string idempotency_key;
    int attempt = 0;
    bool compensation = false;
  };
  using RowView = CommitFacts::RowView;
  using EventView = CommitFacts::EventView;
  using Branches = ById<Open>;

  // What is known of an instance while it is in memory: the ids every span of it carries
  // (derived once), whether its trace is sampled (nothing is tracked or written for one that
  // is not), its version's definition, and its attempts under way by branch (an instance has
  // few branches at a time: a list is quicker than a map).
  struct Tracked {
    std::string trace_id;
    std::string span_id;
    bool sampled = true;
    std::shared_ptr<const Definition> definition;
    std::vector<std::pair<std::string, Open>> attempts;
  };
  // The instance's entry, made on first sight. Events come grouped by instance, so the last
  // one found is remembered.
  Tracked& tracked(const RowView& row);
  void observe(const RowView& row, const EventView& event);
  // A child span of the instance's, named "<kind> <what>" ("attempt credit_memo"), ending at
  // `event`, with the instance, step and branch as attributes and `more`.
  void emit_child(const RowView& row, const EventView& event, std::string_view kind,
                  std::string_view what, std::string_view span_id, TimePoint start,
                  std::string_view error, std::initializer_list<Span::Attribute> more);
  void end_instance(const RowView& row, const EventView& event);
  void end_attempt(const RowView& row, const EventView& event, const std::string& error);
  void end_wait(const RowView& row, const EventView& event, const std::string& error);
  static bool is_wait(const Tracked& instance, std::string_view step);

  SpanExporter& exporter_;
  DefinitionLookup definitions_;
  double sample_;
  ById<Tracked> instances_;                                 // in memory, and waiting ones met
  ById<Branches> waits_;                                    // by instance, then branch
  std::size_t open_waits_ = 0;
  std::pair<const std::string, Tracked>* last_ = nullptr;  // the entry tracked() found last
  std::string name_;  // the span being written's name
};

}  // namespace rmaflow::observe
