// YAML nodes as typed JSON values, for the parts of YAML files that carry data
// (step inputs, set values, adapter results).
#pragma once

#include <string>

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

namespace rmaflow {

// Plain scalars become bool/null/integer/float when they read as one (YAML 1.2 core
// schema); quoted scalars stay strings. Mappings and sequences convert recursively.
nlohmann::json yaml_to_json(const YAML::Node& node);

// "LINE:COL" (1-based) of a node, for messages.
std::string yaml_position(const YAML::Node& node);

}  // namespace rmaflow
