// load_deployed, check_deploy, store_definition, describe and list_versions (rmaflow/versions.hpp).
#include <fmt/format.h>

#include <map>

#include "rmaflow/versions.hpp"

namespace rmaflow {

namespace {

// What identifies a step's work, for guessing renames: the action of a task, the signal or
// duration of a wait, the status of an end.
std::string signature(const Step& step) {
  if (const auto* task = std::get_if<TaskStep>(&step.body))
    return task->adapter + "." + task->operation;
  if (const auto* wait = std::get_if<WaitStep>(&step.body))
    return wait->signal.empty() ? "duration " + format_duration(wait->duration.value_or(Duration{}))
                                : "signal " + wait->signal;
  if (const auto* end = std::get_if<EndStep>(&step.body))
    return std::string(to_string(end->status));
  return {};
}

// A step of `now` that `old` lacks and that does the same work as `step`.
std::string likely_rename(const Step& step, const Definition& old, const Definition& now) {
  for (const auto& candidate : now.steps) {
    if (old.find(candidate.name) != nullptr || candidate.kind() != step.kind()) continue;
    if (signature(candidate) == signature(step)) return candidate.name;
  }
  return {};
}

}  // namespace

std::shared_ptr<const Definition> load_deployed(const DefinitionRow& row) {
  auto loaded =
      load_stored_definition(row.source, row.file, row.input_schema, Compilation::on_first_use);
  if (!loaded.ok()) {
    throw Error(Errc::storage, fmt::format("stored workflow {} version {} no longer loads: {}",
                                           row.name, row.version,
                                           DefinitionError(loaded.diagnostics).what()));
  }
  return loaded.definition;
}

DeployCheck check_deploy(Store& store, const Definition& definition) {
  DeployCheck check;
  check.workflow = definition.name;
  check.version = definition.version;
  if (auto existing = store.get_definition(definition.name, definition.version)) {
    check.verdict = existing->content_hash == definition.content_hash ? DeployVerdict::unchanged
                                                                      : DeployVerdict::conflict;
  }
  if (auto newest = store.latest_definition(definition.name)) check.newest = newest->version;

  std::map<int, std::shared_ptr<const Definition>> older;  // loaded once per version
  for (const auto& count : store.count_unfinished(definition.name)) {
    if (count.version == definition.version) continue;
    const Step* now = definition.find(count.step);
    auto& old = older[count.version];
    if (!old) {
      auto row = store.get_definition(count.workflow, count.version);
      if (!row) continue;  // an instance without its definition: the engine reports that
      old = load_deployed(*row);
    }
    const Step* was = old->find(count.step);
    if (was == nullptr || (now != nullptr && now->kind() == was->kind())) continue;
    if (check.stranded.empty() || check.stranded.back().version != count.version ||
        check.stranded.back().step != count.step) {
      StrandedStep s;
      s.version = count.version;
      s.step = count.step;
      s.kind = was->kind();
      if (now != nullptr) s.now = now->kind();
      else s.renamed_to = likely_rename(*was, *old, definition);
      check.stranded.push_back(std::move(s));
    }
    check.stranded.back().instances += count.count;
    if (count.status == InstanceStatus::waiting) check.stranded.back().waiting += count.count;
  }
  return check;
}

PutResult store_definition(Store& store, const Definition& d, TimePoint deployed_at) {
  return store.put_definition(DefinitionRow{d.name, d.version, d.content_hash, d.source,
                                            d.input_schema ? d.input_schema->dump() : std::string(),
                                            d.file, deployed_at});
}

std::string describe(const StrandedStep& s, int new_version) {
  std::string instances =
      s.instances == 1 ? "1 unfinished instance" : fmt::format("{} unfinished instances", s.instances);
  std::string change;
  if (s.now) {
    change = fmt::format("which is a {} step in version {} but a {} step in version {}",
                         to_string(s.kind), s.version, to_string(*s.now), new_version);
  } else {
    change = fmt::format("which version {} does not have", new_version);
    if (!s.renamed_to.empty()) change += fmt::format(" (renamed to {}?)", s.renamed_to);
  }
  return fmt::format("{} of version {} {} at step {}, {}", instances, s.version,
                     s.instances == 1 ? "stands" : "stand", s.step, change);
}

std::vector<VersionSummary> list_versions(Store& store, const std::string& workflow) {
  std::vector<VersionSummary> out;
  for (auto& row : store.list_definitions()) {
    if (!workflow.empty() && row.name != workflow) continue;
    out.push_back(VersionSummary{std::move(row), 0, {}});
  }
  for (auto& count : store.count_unfinished(workflow)) {
    for (auto& summary : out) {
      if (summary.definition.name != count.workflow || summary.definition.version != count.version)
        continue;
      summary.unfinished += count.count;
      summary.by_step.push_back(std::move(count));
      break;
    }
  }
  return out;
}

}  // namespace rmaflow
