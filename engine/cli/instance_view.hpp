// How the CLI shows instances and their histories as text. Each view reads the JSON documents
// of engine/api/views.hpp, so a table looks the same whether it came from a database (--db)
// or from a server (--server).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "rmaflow/store.hpp"

namespace rmaflow::cli {

// Instances, one per line, with their AGE as of `now`; with `reasons`, the STUCK SINCE and REASON
// columns show when each item got stuck and why (list --stuck), otherwise a NOTE column shows a
// suspended instance's incident.
std::string instances_table(const nlohmann::json& items, bool reasons, TimePoint now);

// A span as people read it, in its two largest units: "45s", "5m12s", "3h20m", "2d4h".
std::string format_age(Duration age);
std::string instance_details(const nlohmann::json& instance);
// One line per event: seq, time, type, step and what happened in words, each line cut to
// `width` bytes (0: not cut). --format json keeps the raw events.
std::string history_table(const nlohmann::json& events, std::size_t width);

// "Code: message" of a suspended instance's incident, for one-line views; empty without one.
std::string incident_summary(const nlohmann::json& instance);
std::string incident_summary(const InstanceRow& row);

}  // namespace rmaflow::cli
