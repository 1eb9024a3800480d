// How the CLI shows a simulation: the timeline in virtual time, the path, compensations,
// effects and final context; and the expectations that did not hold.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "rmaflow/simulation.hpp"

namespace rmaflow::cli {

// "+3d 00:00:06", "+0d 00:00:02.500": virtual time since the start.
std::string format_offset(Duration d);

std::string simulation_text(const Scenario& scenario, const Definition& definition,
                            const SimulationResult& result);
nlohmann::ordered_json simulation_json(const Scenario& scenario, const Definition& definition,
                                       const SimulationResult& result,
                                       const std::vector<Mismatch>& mismatches);

// Each mismatch as "what: line", further lines indented under it, every line prefixed.
std::string mismatches_text(const std::vector<Mismatch>& mismatches, const std::string& indent);

}  // namespace rmaflow::cli
