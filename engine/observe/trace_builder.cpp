#include "engine/observe/trace_builder.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <initializer_list>
#include <nlohmann/json.hpp>

#include "engine/observe/instance_index.hpp"
#include "engine/support/sha256.hpp"
#include "engine/support/trace_id.hpp"

namespace rmaflow::observe {

namespace {

nlohmann::json data_of_text(std::string_view text) {
  auto data = nlohmann::json::parse(text, nullptr, false);
  return data.is_object() ? data : nlohmann::json::object();
}

std::string error_text(const nlohmann::json& data) {
  auto error = data.find("error");
  if (error == data.end() || !error->is_object()) return "failed";
  return fmt::format("{}: {}", error->value("code", std::string("unknown")),
                     error->value("message", std::string()));
}

// What an attempt_started event says about its attempt. Read from the data's text as the engine
// writes it (compact, keys sorted), without a JSON document: this runs for every attempt.
// Anything unexpected (an escape in the key) falls back to parsing it.
struct AttemptFacts {
  std::string idempotency_key;
  int attempt = 0;
  bool compensation = false;
};

AttemptFacts attempt_facts(std::string_view data) {
  AttemptFacts facts;
  auto number = data.find(R"("attempt":)");
  auto key = data.find(R"("idempotency_key":")");
  if (number != std::string::npos && key != std::string::npos) {
    const char* begin = data.data() + number + 10;
    std::from_chars(begin, data.data() + data.size(), facts.attempt);
    auto start = key + 19;
    auto end = data.find('"', start);
    if (end != std::string::npos && data.find('\\', start) >= end) {
      facts.idempotency_key.assign(data.substr(start, end - start));
      facts.compensation = data.find(R"("compensation":true)") != std::string::npos;
      return facts;
    }
  }
  auto parsed = data_of_text(data);
  facts.idempotency_key = parsed.value("idempotency_key", std::string());
  facts.attempt = parsed.value("attempt", 0);
  facts.compensation = parsed.value("compensation", false);
  return facts;
}

std::string wait_span_id(const CommitFacts::EventView& event) {
  return sha256_hex(fmt::format("wait {} {} {} {}", event.instance_id, event.branch, event.step,
                                event.seq))
      .substr(0, 16);
}

}  // namespace

TraceBuilder::TraceBuilder(SpanExporter& exporter, DefinitionLookup definitions, double sample)
    : exporter_(exporter), definitions_(std::move(definitions)), sample_(sample) {}

TraceBuilder::Tracked& TraceBuilder::tracked(const RowView& row) {
  if (last_ != nullptr && last_->first == row.id) return last_->second;
  auto it = instances_.find(row.id);
  if (it == instances_.end()) {
    it = instances_.emplace(std::string(row.id), Tracked{}).first;
    Tracked& t = it->second;
    t.trace_id = trace_id_of(row.correlation_id);
    t.sampled = trace_sampled(t.trace_id, sample_);
    if (t.sampled) {
      t.span_id = instance_span_id(row.id);
      if (definitions_) t.definition = definitions_(std::string(row.workflow), row.version);
    }
  }
  last_ = &*it;
  return it->second;
}

void TraceBuilder::emit_child(const RowView& row, const EventView& event, std::string_view kind,
                              std::string_view what, std::string_view span_id, TimePoint start,
                              std::string_view error, std::initializer_list<Span::Attribute> more) {
  const auto& instance = tracked(row);
  name_.assign(kind);
  name_ += ' ';
  name_ += what;
  // The workflow and correlation id are the root span's: a child names its instance and step.
  std::array<Span::Attribute, 5> attributes;
  std::size_t n = 0;
  attributes[n++] = {"rmaflow.instance", row.id};
  attributes[n++] = {"rmaflow.step", event.step};
  if (!event.branch.empty()) attributes[n++] = {"rmaflow.branch", event.branch};
  for (const auto& a : more) {
    if (n < attributes.size()) attributes[n++] = a;
  }
  Span span;
  span.trace_id = instance.trace_id;
  span.span_id = span_id;
  span.parent_id = instance.span_id;
  span.name = name_;
  span.start = start;
  span.end = event.at;
  span.error = error;
  span.attributes = std::span<const Span::Attribute>(attributes.data(), n);
  exporter_.submit(span);
}

bool TraceBuilder::is_wait(const Tracked& instance, std::string_view step) {
  const Step* s = instance.definition ? instance.definition->find(std::string(step)) : nullptr;
  return s != nullptr && s->kind() == StepKind::wait;
}

void TraceBuilder::end_attempt(const RowView& row, const EventView& event,
                               const std::string& error) {
  auto& attempts = tracked(row).attempts;
  auto open = std::find_if(attempts.begin(), attempts.end(),
                           [&](const auto& a) { return a.first == event.branch; });
  if (open == attempts.end() && event.type == EventType::compensation_step_completed) {
    // A compensation is recorded at the branch whose step it undid; it ran on its own cursor.
    for (auto it = attempts.begin(); it != attempts.end(); ++it) {
      if (it->second.compensation && it->second.step == event.step) open = it;
    }
  }
  if (open == attempts.end() || open->second.step != event.step) return;
  const Open& a = open->second;
  auto attempt = std::to_string(a.attempt);
  emit_child(row, event, a.compensation ? "compensate" : "attempt", a.step, a.span_id, a.start, error,
             {{"rmaflow.attempt", attempt}, {"rmaflow.idempotency_key", a.idempotency_key}});
  attempts.erase(open);
}

void TraceBuilder::end_wait(const RowView& row, const EventView& event, const std::string& error) {
  auto instance = waits_.find(event.instance_id);
  if (instance == waits_.end()) return;
  auto open = instance->second.find(event.branch);
  if (open == instance->second.end() || open->second.step != event.step) return;
  emit_child(row, event, "wait", event.step, open->second.span_id, open->second.start, error, {});
  instance->second.erase(open);
  --open_waits_;
  if (instance->second.empty()) waits_.erase(instance);
}

void TraceBuilder::end_instance(const RowView& row, const EventView& event) {
  const auto& instance = tracked(row);
  std::string parent = row.parent_id.empty() ? std::string() : instance_span_id(row.parent_id);
  std::string name = "instance ";
  name += row.workflow;
  std::string version = std::to_string(row.version);
  const std::array<Span::Attribute, 6> attributes = {{
      {"rmaflow.instance", row.id},
      {"rmaflow.workflow", row.workflow},
      {"rmaflow.version", version},
      {"rmaflow.business_key", row.business_key},
      {"rmaflow.correlation_id", row.correlation_id},
      {"rmaflow.status", to_string(row.status)},
  }};
  Span root;
  root.trace_id = instance.trace_id;
  root.span_id = instance.span_id;
  root.parent_id = parent;
  root.name = name;
  root.start = row.created_at;
  root.end = event.at;
  root.attributes = attributes;
  if (row.status == InstanceStatus::failed) root.error = "the instance failed";
  exporter_.submit(root);
  if (auto w = waits_.find(row.id); w != waits_.end()) {
    open_waits_ -= w->second.size();
    waits_.erase(w);
  }
}

void TraceBuilder::observe(const RowView& row, const EventView& event) {
  Tracked& instance = tracked(row);
  if (!instance.sampled) return;
  switch (event.type) {
    case EventType::step_entered:
      if (open_waits_ < kMaxOpenWaits && is_wait(instance, event.step)) {
        auto waits = waits_.find(event.instance_id);
        if (waits == waits_.end())
          waits = waits_.emplace(std::string(event.instance_id), Branches{}).first;
        auto slot = waits->second.find(event.branch);
        if (slot == waits->second.end()) {
          slot = waits->second.emplace(std::string(event.branch), Open{}).first;
          ++open_waits_;
        }
        slot->second = Open{std::string(event.step), event.at, wait_span_id(event), "", 0, false};
      }
      break;
    case EventType::attempt_started: {
      auto facts = attempt_facts(event.data);
      Open open{std::string(event.step),          event.at,      "",
                std::move(facts.idempotency_key), facts.attempt, facts.compensation};
      open.span_id = attempt_span_id(open.idempotency_key, open.attempt);
      auto& attempts = instance.attempts;
      auto at = std::find_if(attempts.begin(), attempts.end(),
                             [&](const auto& a) { return a.first == event.branch; });
      if (at == attempts.end()) {
        attempts.emplace_back(std::string(event.branch), std::move(open));
      } else {
        at->second = std::move(open);
      }
      break;
    }
    case EventType::step_completed:
      end_attempt(row, event, "");
      end_wait(row, event, "");
      break;
    case EventType::compensation_step_completed:
      end_attempt(row, event, "");
      break;
    case EventType::attempt_failed:
      end_attempt(row, event, error_text(data_of_text(event.data)));
      break;
    case EventType::incident_opened:
    case EventType::catch_routed:
      end_wait(row, event, error_text(data_of_text(event.data)));
      break;
    case EventType::operator_action: {
      auto data = data_of_text(event.data);
      auto action = data.value("action", std::string("action"));
      auto actor = data.value("actor", std::string());
      auto reason = data.value("reason", std::string());
      auto span_id = sha256_hex(fmt::format("action {} {}", row.id, event.seq)).substr(0, 16);
      emit_child(row, event, "operator", action, span_id, event.at, "",
                 {{"rmaflow.actor", actor}, {"rmaflow.reason", reason}});
      break;
    }
    case EventType::instance_ended:
      end_instance(row, event);
      break;
    default:
      break;
  }
}

void TraceBuilder::forget() {
  last_ = nullptr;
  instances_.clear();
  waits_.clear();
  open_waits_ = 0;
}

void TraceBuilder::observe(const CommitFacts& facts) {
  const auto& rows = facts.rows();
  for (const auto& e : facts.events()) observe(facts.view(rows[e.row]), facts.view(e));
  last_ = nullptr;  // entries are erased next
  for (const auto& r : rows) {
    if (!held_in_memory(r.status)) {
      if (auto it = instances_.find(facts.text(r.id)); it != instances_.end()) instances_.erase(it);
    }
  }
  exporter_.flush();  // this commit's spans, in one piece
}

}  // namespace rmaflow::observe
