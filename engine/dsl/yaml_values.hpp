// YAML values as JSON: how the DSL types scalars, and how a YAML subtree becomes a JSON value.
#pragma once

#include <yaml-cpp/yaml.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "engine/dsl/diagnostic_sink.hpp"

namespace rmaflow::dsl {

// A scalar's JSON value. Plain scalars follow YAML 1.2's core schema: true/false -> bool,
// null/~ -> null, integers (decimal, 0x, 0o) and floats -> numbers; everything else, and every
// quoted or block scalar (yaml-cpp tag "!") or explicitly tagged one, is a string.
nlohmann::json scalar_value(const YAML::Node& scalar);

// "a mapping", "a list", "a string", "an integer", "a number", "a boolean", "empty": for messages.
std::string describe(const YAML::Node& node);

// Called with every string met while converting, its JSON Pointer and its node.
using StringVisitor = std::function<void(
    const std::string& value, const nlohmann::json::json_pointer& where, const YAML::Node& node)>;

// Converts a YAML subtree to JSON (mappings become objects, sequences arrays). When `sink` is
// given, a key repeated in one mapping is reported as duplicate-key (the first one is kept) and a
// key that is not a scalar as wrong-type. `context` names the subtree in those messages.
nlohmann::json to_json(const YAML::Node& node, DiagnosticSink* sink = nullptr,
                       const std::string& context = "", const StringVisitor& visit = {});

}  // namespace rmaflow::dsl
