// How instances and their histories are shown by the CLI (text tables and JSON).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "rmaflow/store.hpp"

namespace rmaflow::cli {

nlohmann::json instance_json(const InstanceRow& row, bool with_context);
nlohmann::json instances_json(const std::vector<InstanceRow>& rows);
nlohmann::json event_json(const EventRow& event);

// "Code: message" of a suspended instance's incident, for one-line views; empty without one.
std::string incident_summary(const InstanceRow& row);

std::string instances_table(const std::vector<InstanceRow>& rows);
std::string instance_details(const InstanceRow& row);
std::string history_table(const std::vector<EventRow>& events);

}  // namespace rmaflow::cli
