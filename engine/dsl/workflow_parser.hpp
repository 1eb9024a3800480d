// Parses a workflow document (the YAML's top-level mapping) into the definition model, reporting
// every problem to the sink. The result is meaningful only when the sink holds no errors.
#pragma once

#include <yaml-cpp/yaml.h>

#include <optional>
#include <string>
#include <vector>

#include "engine/dsl/diagnostic_sink.hpp"
#include "engine/dsl/source_facts.hpp"
#include "rmaflow/definition.hpp"

namespace rmaflow::dsl {

struct ParsedWorkflow {
  Definition definition;  // steps indexed
  SourceFacts facts;      // the file as written, for the checks that follow
};

// `base_dir` resolves a relative `input:` schema path.
ParsedWorkflow parse_workflow(const YAML::Node& document, const std::string& base_dir,
                              DiagnosticSink& sink,
                              const std::optional<nlohmann::json>& stored_schema = std::nullopt);

}  // namespace rmaflow::dsl
