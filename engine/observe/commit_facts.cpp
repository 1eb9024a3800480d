#include "engine/observe/commit_facts.hpp"

namespace rmaflow::observe {

namespace {

// The events a trace is made of (trace_builder.cpp), and whether their data is read.
enum class Use { skip, event, with_data };

Use use_of(EventType type) {
  switch (type) {
    case EventType::step_entered:
    case EventType::step_completed:
    case EventType::compensation_step_completed:
    case EventType::instance_ended:
      return Use::event;
    case EventType::attempt_started:
    case EventType::attempt_failed:
    case EventType::incident_opened:
    case EventType::catch_routed:
    case EventType::operator_action:
      return Use::with_data;
    default:
      return Use::skip;
  }
}

bool ends_a_span(EventType type) {
  return type != EventType::step_entered && type != EventType::attempt_started;
}

}  // namespace

CommitFacts::Slice CommitFacts::put(std::string_view s) {
  Slice slice{static_cast<std::uint32_t>(text_.size()), static_cast<std::uint32_t>(s.size())};
  text_.append(s);
  return slice;
}

void CommitFacts::clear() {
  rows_.clear();
  events_.clear();
  text_.clear();
  span_ends_ = 0;
}

void CommitFacts::assign(const WriteBatch& batch) {
  clear();
  for (const auto& row : batch.instances) {
    Row r;
    r.id = put(row.id);
    r.workflow = put(row.workflow);
    r.business_key = put(row.business_key);
    r.correlation_id = put(row.correlation_id);
    if (row.parent) r.parent_id = put(row.parent->instance_id);
    r.version = row.version;
    r.status = row.status;
    r.created_at = row.created_at;
    rows_.push_back(r);
  }
  for (const auto& event : batch.events) {
    auto use = use_of(event.type);
    if (use == Use::skip) continue;
    Event e;
    e.type = event.type;
    e.seq = event.seq;
    e.at = event.at;
    e.instance_id = put(event.instance_id);
    e.step = put(event.step);
    e.branch = put(event.branch);
    if (use == Use::with_data) e.data = put(event.data);
    events_.push_back(e);
    if (ends_a_span(event.type)) ++span_ends_;
  }
}

}  // namespace rmaflow::observe
