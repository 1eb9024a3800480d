// What the metrics and the trace builder read of a commit, copied out of the WriteBatch on the
// engine's thread so that they are worked out on a thread of their own (observe_pipeline.hpp).
//
// Copying is all the engine's thread does for them: a few short strings per event (ids, step,
// branch, and the data of the events whose data a span or a metric needs) into one text buffer,
// fixed records pointing into it, and of a row the two things a milestone needs (the RMA's
// channel, and how often the step was visited). Results, contexts and the data of other events
// are left behind. A CommitFacts is reused from commit to commit, so once warm it allocates
// nothing.
//
// Thread-safety: none; a CommitFacts is filled on one thread and then read on another, handed
// over under a lock.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "rmaflow/store.hpp"

namespace rmaflow::observe {

// A map by id (instance, branch) whose entries are found by a view of the id, without making a
// string of it: what the observers look their state up in for each fact.
struct ViewHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
};
template <typename T>
using ById = std::unordered_map<std::string, T, ViewHash, std::equal_to<>>;

class CommitFacts {
 public:
  // Text within the buffer.
  struct Slice {
    std::uint32_t offset = 0;
    std::uint32_t size = 0;
  };
  struct Row {
    Slice id, workflow, business_key, correlation_id, parent_id;  // parent_id: empty for none
    Slice channel;  // .input.channel when it is a string
    bool has_channel = false;
    int version = 0;
    InstanceStatus status = InstanceStatus::running;
    TimePoint created_at;
  };
  struct Event {
    EventType type = EventType::instance_started;
    std::int64_t seq = 0;
    TimePoint at;
    Slice instance_id, step, branch, data;  // data: empty unless a span or metric needs it
    std::uint32_t row = 0;                  // its instance's, in rows()
    // Of a step completed on the main line, and of the end: how often the instance entered
    // the step; and whether a wait was left by its timeout.
    int visits = 0;
    bool timed_out = false;
  };

  // A row and an event as read back, their text viewing the buffer.
  struct RowView {
    std::string_view id, workflow, business_key, correlation_id, parent_id, channel;
    bool has_channel = false;
    int version = 0;
    InstanceStatus status = InstanceStatus::running;
    TimePoint created_at;
  };
  struct EventView {
    EventType type = EventType::instance_started;
    std::int64_t seq = 0;
    TimePoint at;
    std::string_view instance_id, step, branch, data;
    int visits = 0;
    bool timed_out = false;
  };

  // Replaces what it held with what the observers need of `batch`, committed in `took`.
  void assign(const WriteBatch& batch, std::chrono::nanoseconds took);
  void clear();

  std::chrono::nanoseconds took() const { return took_; }
  std::size_t events_committed() const { return events_committed_; }
  const std::vector<Row>& rows() const { return rows_; }
  const std::vector<Event>& events() const { return events_; }
  std::string_view text(Slice s) const { return std::string_view(text_).substr(s.offset, s.size); }
  RowView view(const Row& r) const {
    return {text(r.id),        text(r.workflow), text(r.business_key), text(r.correlation_id),
            text(r.parent_id), text(r.channel),  r.has_channel,        r.version,
            r.status,          r.created_at};
  }
  EventView view(const Event& e) const {
    return {e.type,         e.seq,        e.at,     text(e.instance_id), text(e.step),
            text(e.branch), text(e.data), e.visits, e.timed_out};
  }
  // How many spans its events end at most (what is counted as dropped if they are).
  std::size_t span_ends() const { return span_ends_; }
  bool empty() const { return rows_.empty() && events_.empty(); }

 private:
  Slice put(std::string_view s);

  std::vector<Row> rows_;
  std::vector<Event> events_;
  std::string text_;
  std::size_t span_ends_ = 0;
  std::chrono::nanoseconds took_{0};
  std::size_t events_committed_ = 0;
  // The batch's rows by id, sorted, to find an event's (reused: no allocation once warm).
  std::vector<std::pair<std::string_view, std::uint32_t>> by_id_;
};

}  // namespace rmaflow::observe
