// How instances, their histories and workflow definitions look as JSON: in API answers and in
// the CLI's --format json, which print the same documents.
#pragma once

#include <vector>

#include <nlohmann/json.hpp>

#include "engine/api/definition_cache.hpp"
#include "rmaflow/definition.hpp"
#include "rmaflow/store.hpp"
#include "rmaflow/versions.hpp"

namespace rmaflow::api {

// id, workflow, version (the one it is pinned to), status, step, phase, attempt, business_key,
// correlation_id, created_at, updated_at, ended_at, incident (the first open one), incidents,
// branches, parent, output, last_seq (its newest event, which tells a reader whether anything
// happened since); with_context adds `context` and `step_input` (the main line's current task's
// rendered input, null when none).
nlohmann::json instance_json(const InstanceRow& row, bool with_context);
// One cursor (a branch) as the API shows it.
nlohmann::json cursor_json(const Cursor& cursor);

// instance_json() with its context and, while it waits, `waiting_for`: what for and until when,
// read from the version it is pinned to (stored in `store`): {signal, until, then} at a signal
// wait, {duration, until} at a timed wait, {retry, until} while a retry is pending. A server
// passes its `cache` of loaded versions; without one the version is loaded for this call.
nlohmann::json instance_detail(Store& store, const InstanceRow& row, DefinitionCache* cache = nullptr);
nlohmann::json instances_json(const std::vector<InstanceRow>& rows);
// seq, at, type, step, data
nlohmann::json event_json(const EventRow& event);
// Operator commands queued in the database: [{id, kind, created_at, actor, reason, args}].
nlohmann::json commands_json(const std::vector<CommandRow>& commands);

// An operator action of the audit trail: at, instance_id, seq, workflow and business_key (when
// the instance is known), action, actor, reason, args, before and after ({status, step}).
nlohmann::json audit_entry_json(const EventRow& event, const InstanceRow* instance);

// A bulk job: id, action, state, filter, args, actor, reason, per_second, created_at,
// updated_at, ended_at, applied, refused, last_instance (and cancelled_by, cancel_reason).
nlohmann::json job_json(const JobRow& job);
// What a job did to one instance: instance_id, outcome (applied, refused), detail, at.
nlohmann::json job_item_json(const JobItemRow& item);

// Every stored definition, grouped by workflow: [{name, latest, versions: [...]}], by name.
// Each version says how many `unfinished` instances stand on it, counted from `unfinished`
// (Store::count_unfinished).
nlohmann::json workflows_json(const std::vector<DefinitionRow>& rows,
                              const std::vector<StepCount>& unfinished);
// One workflow version: name, version, content_hash, file, deployed_at, source, and, when it
// loads, description, start, the signals its wait steps take, and its graph (nodes and edges).
nlohmann::json definition_json(const DefinitionRow& row, const Definition* loaded);
// How validate reports a problem: file, line, column, severity, code, message.
nlohmann::json diagnostic_json(const Diagnostic& d);
// What a deploy means for instances of older versions: workflow, version, newest_before,
// stranded (the steps unfinished instances stand on that the new version lacks, each with a
// sentence) and the definition's warnings.
nlohmann::json deploy_check_json(const DeployCheck& check, const std::vector<Diagnostic>& warnings);

}  // namespace rmaflow::api
