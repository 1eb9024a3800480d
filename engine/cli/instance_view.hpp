// How the CLI shows instances and their histories as text. Each view reads the JSON documents
// of engine/api/views.hpp, so a table looks the same whether it came from a database (--db)
// or from a server (--server).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "rmaflow/store.hpp"

namespace rmaflow::cli {

// Instances, one per line; with `reasons`, the REASON column shows each item's reason
// (list --stuck), otherwise a NOTE column shows a suspended instance's incident.
std::string instances_table(const nlohmann::json& items, bool reasons = false);
std::string instance_details(const nlohmann::json& instance);
std::string history_table(const nlohmann::json& events);

// "Code: message" of a suspended instance's incident, for one-line views; empty without one.
std::string incident_summary(const nlohmann::json& instance);
std::string incident_summary(const InstanceRow& row);

}  // namespace rmaflow::cli
