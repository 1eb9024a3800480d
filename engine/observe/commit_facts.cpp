#include "engine/observe/commit_facts.hpp"

#include <algorithm>

namespace rmaflow::observe {

namespace {

// The events the metrics and traces are made of (engine_metrics.cpp, trace_builder.cpp), and
// whether their data is read.
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

// The RMA's channel, a milestone's label: .input.channel when it is a string.
const std::string* channel_of(const InstanceRow& row) {
  auto input = row.context->find("input");
  if (input == row.context->end() || !input->is_object()) return nullptr;
  auto channel = input->find("channel");
  if (channel == input->end() || !channel->is_string()) return nullptr;
  return channel->get_ptr<const std::string*>();
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
  by_id_.clear();
  span_ends_ = 0;
  took_ = std::chrono::nanoseconds(0);
  events_committed_ = 0;
}

void CommitFacts::assign(const WriteBatch& batch, std::chrono::nanoseconds took) {
  clear();
  took_ = took;
  events_committed_ = batch.events.size();
  for (const auto& row : batch.instances) {
    Row r;
    r.id = put(row.id);
    r.workflow = put(row.workflow);
    r.business_key = put(row.business_key);
    r.correlation_id = put(row.correlation_id);
    if (row.parent) r.parent_id = put(row.parent->instance_id);
    if (const std::string* channel = channel_of(row)) {
      r.channel = put(*channel);
      r.has_channel = true;
    }
    r.version = row.version;
    r.status = row.status;
    r.created_at = row.created_at;
    by_id_.emplace_back(row.id, static_cast<std::uint32_t>(rows_.size()));
    rows_.push_back(r);
  }
  std::sort(by_id_.begin(), by_id_.end());
  // Events come grouped by instance: the row is looked up when the instance changes.
  std::string_view last_id;
  const InstanceRow* row = nullptr;
  std::uint32_t row_index = 0;
  for (const auto& event : batch.events) {
    auto use = use_of(event.type);
    if (use == Use::skip) continue;
    if (row == nullptr || event.instance_id != last_id) {
      auto it = std::lower_bound(by_id_.begin(), by_id_.end(),
                                 std::pair<std::string_view, std::uint32_t>(event.instance_id, 0));
      if (it == by_id_.end() || it->first != event.instance_id) continue;  // no row: not observed
      row_index = it->second;
      row = &batch.instances[row_index];
      last_id = row->id;
    }
    Event e;
    e.type = event.type;
    e.seq = event.seq;
    e.at = event.at;
    e.row = row_index;
    e.instance_id = rows_[row_index].id;
    e.step = put(event.step);
    e.branch = put(event.branch);
    if (use == Use::with_data) e.data = put(event.data);
    bool main_step = event.type == EventType::step_completed && event.branch.empty();
    if (main_step || event.type == EventType::instance_ended) {
      auto visits = row->visits.find(event.step);
      e.visits = visits == row->visits.end() ? 0 : visits->second;
    }
    if (main_step) e.timed_out = event.data.find(R"("timed_out":true)") != std::string::npos;
    events_.push_back(e);
    if (ends_a_span(event.type)) ++span_ends_;
  }
}

}  // namespace rmaflow::observe
