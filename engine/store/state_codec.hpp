// How an instance's inner state (its cursors, compensation record and visit counts) is written
// in its row: one JSON document per column, with the field names given here and nowhere else.
// docs/storage.md describes the format; it is a stored contract, so fields are only added.
//
// Decoding checks the shape and throws Error(storage) naming the instance and the column when
// a document is corrupt, so that a damaged row is reported, never run.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "rmaflow/store.hpp"

namespace rmaflow::store {

std::string encode_cursors(const std::vector<Cursor>& cursors);

// A value's text as it was last written, with the value as it was then: what a big instance
// keeps of its cursors and of its saga's entries between its commits, so that each commit
// encodes only those that changed. Empty text: none kept yet.
template <typename T>
struct KeptText {
  T as_written;
  std::string text;
};
using KeptCursorText = KeptText<Cursor>;
struct KeptSagaText {
  std::vector<KeptText<SagaEntry>> entries;  // by place in Saga::done
};

// Appends the cursor's text to `out`, as encode_cursors() writes it: taken from `kept` when
// the cursor is as it was then (every field compared, JSON values as they are written: 1 and
// 1.0 differ), encoded afresh and kept otherwise.
void append_cursor(std::string& out, const Cursor& cursor, KeptCursorText& kept);
std::vector<Cursor> decode_cursors(std::string_view text, const std::string& instance_id);

std::string encode_saga(const Saga& saga);
// The same, each entry's text taken from `kept` when the entry at its place is as it was.
std::string encode_saga(const Saga& saga, KeptSagaText& kept);
Saga decode_saga(std::string_view text, const std::string& instance_id);

std::string encode_visits(const std::map<std::string, int>& visits);
std::map<std::string, int> decode_visits(std::string_view text, const std::string& instance_id);

// A column's text: encoded for the write, or the row's own (InstanceRow::encoded: a big
// instance's, megabytes) referred to rather than copied.
class EncodedText {
 public:
  explicit EncodedText(std::string encoded) : encoded_(std::move(encoded)) {}
  // The row's text, which must outlive this.
  static EncodedText the_rows(const std::string& text) { return EncodedText(&text); }

  const std::string& get() const { return rows_ ? *rows_ : encoded_; }
  // The text to keep (a copy of the row's, which stays the row's).
  std::string take() && { return rows_ ? *rows_ : std::move(encoded_); }

 private:
  explicit EncodedText(const std::string* rows) : rows_(rows) {}

  std::string encoded_;
  const std::string* rows_ = nullptr;
};

// An instance row's state columns, encoded for writing (the binders do not copy text); it
// refers to the row, which must outlive it. The context is not among them: the row's context
// keeps its own text (SharedJson::text()).
struct EncodedInstance {
  EncodedText visits;
  EncodedText saga;
  EncodedText cursors;
  // What InstanceRow::state_bytes and CommitReceipt count.
  std::size_t bytes() const {
    return visits.get().size() + saga.get().size() + cursors.get().size();
  }
};
EncodedInstance encode_instance(const InstanceRow& row);

// An incident as a JSON object (also the data of an incident_opened event).
nlohmann::json incident_json(const Incident& incident);
Incident incident_from_json(const nlohmann::json& j);

nlohmann::json failure_json(const Failure& failure);
Failure failure_from_json(const nlohmann::json& j);

}  // namespace rmaflow::store
