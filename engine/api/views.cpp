#include "engine/api/views.hpp"

#include <map>
#include <set>

#include "engine/api/workflow_graph.hpp"
#include "engine/dsl/signal_names.hpp"
#include "engine/store/state_codec.hpp"
#include "engine/support/branch_path.hpp"
#include "rmaflow/versions.hpp"

namespace rmaflow::api {

namespace {

nlohmann::json parse_or_null(const std::string& text) {
  if (text.empty()) return nullptr;
  return nlohmann::json::parse(text, nullptr, false);
}

nlohmann::json version_summary(const DefinitionRow& row) {
  return {{"version", row.version},
          {"content_hash", row.content_hash},
          {"file", row.file},
          {"deployed_at", format_time(row.deployed_at)}};
}

}  // namespace

namespace {

nlohmann::json optional_time(const std::optional<TimePoint>& t) {
  return t ? nlohmann::json(format_time(*t)) : nlohmann::json(nullptr);
}

nlohmann::json incident_of(const Cursor& c) {
  auto j = store::incident_json(*c.incident);
  if (!c.branch.empty()) j["branch"] = c.branch;
  return j;
}

// How a branch stands, in one word: pending, running, waiting, joining, calling, suspended,
// compensating, paused or ended.
std::string branch_state(const Cursor& c) {
  if (c.incident) return "suspended";
  if (c.compensation) return "compensating";
  switch (c.phase) {
    case Phase::idle:
    case Phase::invoking:
    case Phase::backoff: return "running";
    case Phase::waiting: return "waiting";
    case Phase::joining: return "joining";
    case Phase::calling: return "calling";
    case Phase::pending: return "pending";
    case Phase::ended: return "ended";
    case Phase::held: return "paused";
  }
  return "running";
}

}  // namespace

nlohmann::json cursor_json(const Cursor& c) {
  nlohmann::json j = {{"branch", c.branch},
                      {"key", branch_key(c.branch)},
                      {"index", c.index},
                      {"state", branch_state(c)},
                      {"step", c.step},
                      {"phase", to_string(c.phase)},
                      {"attempt", c.attempt},
                      {"deadline", optional_time(c.deadline)},
                      {"incident", c.incident ? incident_of(c) : nlohmann::json(nullptr)}};
  if (!c.match.is_null()) j["match"] = c.match;
  if (!c.child.empty()) j["child"] = c.child;
  if (!c.label.empty()) j["status"] = c.label;
  if (c.phase == Phase::ended) j["output"] = c.output;
  return j;
}

nlohmann::json instance_json(const InstanceRow& row, bool with_context) {
  const Cursor& line = row.main();
  auto incidents = nlohmann::json::array();
  for (const Cursor* c : row.incidents()) incidents.push_back(incident_of(*c));
  auto branches = nlohmann::json::array();
  for (const auto& c : row.cursors)
    if (!c.branch.empty()) branches.push_back(cursor_json(c));
  nlohmann::json j = {{"id", row.id},
                      {"workflow", row.workflow},
                      {"version", row.version},
                      {"status", to_string(row.status)},
                      {"step", row.step},
                      {"phase", to_string(line.phase)},
                      {"attempt", line.attempt},
                      {"deadline", optional_time(row.deadline)},
                      {"business_key", row.business_key},
                      {"correlation_id", row.correlation_id},
                      {"created_at", format_time(row.created_at)},
                      {"updated_at", format_time(row.updated_at)},
                      {"ended_at", optional_time(row.ended_at)},
                      {"paused_at", optional_time(row.paused_at)},
                      {"incident", incidents.empty() ? nlohmann::json(nullptr) : incidents[0]},
                      {"incidents", incidents},
                      {"branches", branches},
                      {"last_seq", row.last_seq}};
  if (!line.child.empty()) j["child"] = line.child;
  if (row.parent) {
    j["parent"] = {{"instance_id", row.parent->instance_id},
                   {"step", row.parent->step},
                   {"branch", row.parent->branch}};
  }
  if (is_final(row.status) && !line.output.is_null()) j["output"] = line.output;
  if (with_context) {
    j["context"] = row.context;
    j["step_input"] = line.input;
  }
  return j;
}

namespace {

// What `cursor` waits for and until when, read from `definition` (the instance's version):
// {signal, until, then} at a signal wait, {duration, until} at a timed wait, {retry, until}
// while a retry is pending; null otherwise.
nlohmann::json waiting_for(const Definition* definition, const Cursor& cursor) {
  auto until = cursor.deadline ? nlohmann::json(format_time(*cursor.deadline)) : nlohmann::json();
  if (cursor.phase == Phase::backoff) return {{"retry", cursor.attempt + 1}, {"until", until}};
  if (cursor.phase != Phase::waiting || definition == nullptr) return nullptr;
  const Step* step = definition->find(cursor.step);
  const auto* wait = step != nullptr ? std::get_if<WaitStep>(&step->body) : nullptr;
  if (wait == nullptr) return nullptr;
  if (wait->signal.empty()) {
    return {{"duration", format_duration(wait->duration.value_or(Duration(0)))}, {"until", until}};
  }
  nlohmann::json then = !wait->on_timeout.empty() ? nlohmann::json(wait->on_timeout)
                        : wait->timeout           ? nlohmann::json("Timeout")
                                                  : nlohmann::json();
  return {{"signal", wait->signal}, {"until", until}, {"then", then}};
}

}  // namespace

nlohmann::json instance_detail(Store& store, const InstanceRow& row, DefinitionCache* cache) {
  auto j = instance_json(row, true);
  j["attributes"] = store.attributes(row.id);
  std::shared_ptr<const Definition> definition;
  if (!is_final(row.status)) {
    if (auto stored = store.get_definition(row.workflow, row.version)) {
      try {
        definition = cache ? cache->get(*stored) : load_deployed(*stored);
      } catch (const Error&) {
        // A version that no longer loads: the instance is shown without what it waits for.
      }
    }
  }
  if (auto waiting = waiting_for(definition.get(), row.main()); !waiting.is_null()) {
    j["waiting_for"] = waiting;
  }
  // Branches are listed in cursor order after the main line.
  std::size_t n = 0;
  for (const auto& c : row.cursors) {
    if (c.branch.empty()) continue;
    if (auto waiting = waiting_for(definition.get(), c); !waiting.is_null()) {
      j["branches"][n]["waiting_for"] = waiting;
    }
    ++n;
  }
  return j;
}

nlohmann::json instances_json(const std::vector<InstanceRow>& rows) {
  auto out = nlohmann::json::array();
  for (const auto& r : rows) out.push_back(instance_json(r, false));
  return out;
}

nlohmann::json event_json(const EventRow& e) {
  return {{"seq", e.seq},
          {"at", format_time(e.at)},
          {"type", to_string(e.type)},
          {"step", e.step},
          {"branch", e.branch},
          {"data", parse_or_null(e.data)}};
}

nlohmann::json audit_entry_json(const EventRow& e, const InstanceRow* instance) {
  auto data = parse_or_null(e.data);
  if (!data.is_object()) data = nlohmann::json::object();
  return {
      {"at", format_time(e.at)},
      {"instance_id", e.instance_id},
      {"seq", e.seq},
      {"workflow", instance ? nlohmann::json(instance->workflow) : nlohmann::json(nullptr)},
      {"business_key", instance ? nlohmann::json(instance->business_key) : nlohmann::json(nullptr)},
      {"action", data.value("action", "")},
      {"actor", data.value("actor", "")},
      {"reason", data.value("reason", "")},
      {"args", data.value("args", nlohmann::json::object())},
      {"before", data.value("before", nlohmann::json(nullptr))},
      {"after", data.value("after", nlohmann::json(nullptr))},
      {"job", data.value("job", nlohmann::json(nullptr))}};
}

nlohmann::json job_json(const JobRow& job) {
  auto optional_time = [](const std::optional<TimePoint>& t) {
    return t ? nlohmann::json(format_time(*t)) : nlohmann::json(nullptr);
  };
  nlohmann::json out = {
      {"id", job.id},
      {"action", job.action},
      {"state", to_string(job.state)},
      {"filter", filter_to_json(job.filter)},
      {"args", job.args},
      {"actor", job.actor},
      {"reason", job.reason},
      {"per_second", job.per_second},
      {"created_at", format_time(job.created_at)},
      {"updated_at", format_time(job.updated_at)},
      {"ended_at", optional_time(job.ended_at)},
      {"dealt", job.dealt},
      {"applied", job.applied},
      {"refused", job.refused},
      {"last_instance", job.cursor.empty() ? nlohmann::json(nullptr) : nlohmann::json(job.cursor)}};
  if (job.state == JobState::cancelled) {
    out["cancelled_by"] = job.cancelled_by;
    out["cancel_reason"] = job.cancel_reason;
  }
  return out;
}

nlohmann::json job_item_json(const JobItemRow& item) {
  return {{"instance_id", item.instance_id},
          {"outcome", item.applied ? "applied" : "refused"},
          {"detail", item.detail},
          {"at", format_time(item.at)}};
}

nlohmann::json commands_json(const std::vector<CommandRow>& commands) {
  auto out = nlohmann::json::array();
  for (const auto& c : commands) {
    auto body = parse_or_null(c.body);
    if (!body.is_object()) body = nlohmann::json::object();
    out.push_back({{"id", c.id},
                   {"kind", c.kind},
                   {"created_at", format_time(c.created_at)},
                   {"actor", body.value("actor", "")},
                   {"reason", body.value("reason", "")},
                   {"args", body.value("args", nlohmann::json::object())}});
  }
  return out;
}

nlohmann::json workflows_json(const std::vector<DefinitionRow>& rows,
                              const std::vector<StepCount>& unfinished) {
  std::map<std::pair<std::string, int>, std::int64_t> counts;
  for (const auto& c : unfinished) counts[{c.workflow, c.version}] += c.count;
  std::map<std::string, std::vector<const DefinitionRow*>> by_name;
  for (const auto& row : rows) by_name[row.name].push_back(&row);
  auto out = nlohmann::json::array();
  for (auto& [name, versions] : by_name) {
    std::sort(versions.begin(), versions.end(),
              [](const auto* a, const auto* b) { return a->version < b->version; });
    auto list = nlohmann::json::array();
    for (const auto* row : versions) {
      auto summary = version_summary(*row);
      auto it = counts.find({row->name, row->version});
      summary["unfinished"] = it == counts.end() ? 0 : it->second;
      list.push_back(std::move(summary));
    }
    out.push_back({{"name", name}, {"latest", versions.back()->version}, {"versions", list}});
  }
  return out;
}

nlohmann::json definition_json(const DefinitionRow& row, const Definition* loaded) {
  auto j = version_summary(row);
  j["name"] = row.name;
  j["source"] = row.source;
  j["input_schema"] = parse_or_null(row.input_schema);
  if (loaded != nullptr) {
    j["description"] = loaded->description;
    j["start"] = loaded->start;
    j["signals"] = dsl::consumable_signals(*loaded);
    j["graph"] = workflow_graph(*loaded);
  }
  return j;
}

nlohmann::json diagnostic_json(const Diagnostic& d) {
  return {{"file", d.file},
          {"line", d.where.line},
          {"column", d.where.column},
          {"severity", d.severity == Severity::error ? "error" : "warning"},
          {"code", d.code},
          {"message", d.message}};
}

nlohmann::json deploy_check_json(const DeployCheck& check, const std::vector<Diagnostic>& warnings) {
  auto stranded = nlohmann::json::array();
  for (const auto& s : check.stranded) {
    stranded.push_back({{"version", s.version},
                        {"step", s.step},
                        {"instances", s.instances},
                        {"waiting", s.waiting},
                        {"renamed_to", s.renamed_to},
                        {"message", describe(s, check.version)}});
  }
  auto notes = nlohmann::json::array();
  for (const auto& d : warnings) notes.push_back(diagnostic_json(d));
  return {{"workflow", check.workflow},
          {"version", check.version},
          {"newest_before", check.newest ? nlohmann::json(*check.newest) : nlohmann::json()},
          {"stranded", stranded},
          {"warnings", notes}};
}

}  // namespace rmaflow::api
