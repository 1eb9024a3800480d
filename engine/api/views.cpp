#include "engine/api/views.hpp"

#include <map>

#include "engine/api/workflow_graph.hpp"

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

nlohmann::json instance_json(const InstanceRow& row, bool with_context) {
  nlohmann::json j = {{"id", row.id},
                      {"workflow", row.workflow},
                      {"version", row.version},
                      {"status", to_string(row.status)},
                      {"step", row.step},
                      {"phase", to_string(row.phase)},
                      {"attempt", row.attempt},
                      {"business_key", row.business_key},
                      {"correlation_id", row.correlation_id},
                      {"created_at", format_time(row.created_at)},
                      {"updated_at", format_time(row.updated_at)},
                      {"ended_at", row.ended_at ? nlohmann::json(format_time(*row.ended_at))
                                                : nlohmann::json(nullptr)},
                      {"incident", parse_or_null(row.incident)}};
  if (with_context) j["context"] = parse_or_null(row.context);
  return j;
}

namespace {

nlohmann::json waiting_for(Store& store, const InstanceRow& row) {
  auto until = row.deadline ? nlohmann::json(format_time(*row.deadline)) : nlohmann::json();
  if (row.phase == Phase::backoff) return {{"retry", row.attempt + 1}, {"until", until}};
  if (row.status != InstanceStatus::waiting) return nullptr;
  auto stored = store.get_definition(row.workflow, row.version);
  if (!stored) return nullptr;
  auto loaded = load_stored_definition(stored->source, stored->file, stored->input_schema);
  const Step* step = loaded.ok() ? loaded.definition->find(row.step) : nullptr;
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

nlohmann::json instance_detail(Store& store, const InstanceRow& row) {
  auto j = instance_json(row, true);
  if (auto waiting = waiting_for(store, row); !waiting.is_null()) j["waiting_for"] = waiting;
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
          {"data", parse_or_null(e.data)}};
}

nlohmann::json workflows_json(const std::vector<DefinitionRow>& rows) {
  std::map<std::string, std::vector<const DefinitionRow*>> by_name;
  for (const auto& row : rows) by_name[row.name].push_back(&row);
  auto out = nlohmann::json::array();
  for (auto& [name, versions] : by_name) {
    std::sort(versions.begin(), versions.end(),
              [](const auto* a, const auto* b) { return a->version < b->version; });
    auto list = nlohmann::json::array();
    for (const auto* row : versions) list.push_back(version_summary(*row));
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
