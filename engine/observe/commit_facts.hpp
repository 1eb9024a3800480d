// What the trace builder reads of a commit, copied out of the WriteBatch on the engine's thread
// so that the traces are built on a thread of their own (trace_pipeline.hpp).
//
// Copying is all the engine's thread does for traces: a few short strings per event (ids, step,
// branch, and the data of the events whose data a span needs) into one text buffer, and fixed
// records pointing into it. Results, contexts and the data of other events are left behind. A
// CommitFacts is reused from commit to commit, so once warm it allocates nothing.
//
// Thread-safety: none; a CommitFacts is filled on one thread and then read on another, handed
// over under a lock.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "rmaflow/store.hpp"

namespace rmaflow::observe {

class CommitFacts {
 public:
  // Text within the buffer.
  struct Slice {
    std::uint32_t offset = 0;
    std::uint32_t size = 0;
  };
  struct Row {
    Slice id, workflow, business_key, correlation_id, parent_id;  // parent_id: empty for none
    int version = 0;
    InstanceStatus status = InstanceStatus::running;
    TimePoint created_at;
  };
  struct Event {
    EventType type = EventType::instance_started;
    std::int64_t seq = 0;
    TimePoint at;
    Slice instance_id, step, branch, data;  // data: empty unless a span needs it
  };

  // A row and an event as read back, their text viewing the buffer.
  struct RowView {
    std::string_view id, workflow, business_key, correlation_id, parent_id;
    int version = 0;
    InstanceStatus status = InstanceStatus::running;
    TimePoint created_at;
  };
  struct EventView {
    EventType type = EventType::instance_started;
    std::int64_t seq = 0;
    TimePoint at;
    std::string_view instance_id, step, branch, data;
  };

  // Replaces what it held with what a trace needs of `batch`.
  void assign(const WriteBatch& batch);
  void clear();

  const std::vector<Row>& rows() const { return rows_; }
  const std::vector<Event>& events() const { return events_; }
  std::string_view text(Slice s) const { return std::string_view(text_).substr(s.offset, s.size); }
  RowView view(const Row& r) const {
    return {text(r.id),
            text(r.workflow),
            text(r.business_key),
            text(r.correlation_id),
            text(r.parent_id),
            r.version,
            r.status,
            r.created_at};
  }
  EventView view(const Event& e) const {
    return {e.type, e.seq, e.at, text(e.instance_id), text(e.step), text(e.branch), text(e.data)};
  }
  // How many spans its events end at most (what is counted as dropped if it is).
  std::size_t span_ends() const { return span_ends_; }
  bool empty() const { return rows_.empty() && events_.empty(); }

 private:
  Slice put(std::string_view s);

  std::vector<Row> rows_;
  std::vector<Event> events_;
  std::string text_;
  std::size_t span_ends_ = 0;
};

}  // namespace rmaflow::observe
