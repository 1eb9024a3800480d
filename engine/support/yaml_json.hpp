// YAML nodes as typed JSON values, for the parts of YAML files that carry data
// (step inputs, set values, adapter results).
#pragma once

#include <string>

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

namespace rmaflow {

// A scalar's JSON value. Plain scalars follow YAML 1.2's core schema: true/false -> bool,
// null/~ -> null, integers (decimal, 0x, 0o) and floats -> numbers; everything else, and every
// quoted or block scalar (yaml-cpp tag "!") or explicitly tagged one, is a string.
nlohmann::json yaml_scalar_value(const YAML::Node& scalar);

// Mappings and sequences convert recursively, scalars as yaml_scalar_value(). For data parts
// of files that need no diagnostics (the DSL has its own checking converter).
nlohmann::json yaml_to_json(const YAML::Node& node);

// "LINE:COL" (1-based) of a node, for messages.
std::string yaml_position(const YAML::Node& node);

}  // namespace rmaflow
