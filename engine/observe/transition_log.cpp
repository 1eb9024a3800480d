#include "engine/observe/transition_log.hpp"

#include "engine/observe/instance_index.hpp"
#include "engine/observe/log.hpp"
#include "engine/support/trace_id.hpp"

namespace rmaflow::observe {

namespace {

// The few data fields that say what happened, never a payload (inputs and results may hold
// customer data and belong in the history, not in the log).
constexpr const char* kSummaryKeys[] = {"attempt", "next", "status", "timer", "signal",
                                        "action",  "actor", "child"};

nlohmann::json transition_fields(const EventRow& event, const InstanceRow* row) {
  nlohmann::json fields = {{"instance", event.instance_id}};
  if (row != nullptr) {
    fields["workflow"] = row->workflow;
    fields["version"] = row->version;
    fields["correlation_id"] = row->correlation_id;
    fields["trace_id"] = trace_id_of(row->correlation_id);
  }
  fields["step"] = event.step;
  if (!event.branch.empty()) fields["branch"] = event.branch;
  fields["event"] = to_string(event.type);
  fields["seq"] = event.seq;
  fields["at"] = format_time(event.at);
  auto data = nlohmann::json::parse(event.data, nullptr, /*allow_exceptions=*/false);
  if (data.is_object()) {
    for (const char* key : kSummaryKeys) {
      auto it = data.find(key);
      if (it != data.end() && !it->is_object() && !it->is_array()) fields[key] = *it;
    }
    auto error = data.find("error");
    if (error != data.end() && error->is_object() && error->contains("code")) {
      fields["error_code"] = (*error)["code"];
    }
  }
  return fields;
}

}  // namespace

void TransitionLog::observe(const WriteBatch& batch) {
  if (batch.events.empty()) return;
  bool all = log_enabled(LogLevel::debug);
  std::unique_lock lock(mu_);
  if (!all && !any_selected_) return;
  InstanceIndex rows(batch);
  for (const auto& event : batch.events) {
    const InstanceRow* row = rows.find(event.instance_id);
    bool wanted = all || selection_.instances.count(event.instance_id) > 0 ||
                  (row != nullptr && selection_.workflows.count(row->workflow) > 0);
    if (wanted) write_log(LogLevel::debug, "transition", transition_fields(event, row));
  }
}

void TransitionLog::select(TransitionSelection selection) {
  std::lock_guard lock(mu_);
  selection_ = std::move(selection);
  any_selected_ = !selection_.empty();
}

TransitionSelection TransitionLog::selection() const {
  std::lock_guard lock(mu_);
  return selection_;
}

}  // namespace rmaflow::observe
