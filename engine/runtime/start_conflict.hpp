// An idempotent start that names a business key an instance already has: the same input (by
// value) answers that instance; another input is a conflict that names where they differ.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "rmaflow/definition.hpp"
#include "rmaflow/store.hpp"

namespace rmaflow {

// The input an instance was started with (its context's .input), by value; null when its
// context has none.
nlohmann::json stored_input(const InstanceRow& row);

// Returns when `existing` (the instance's input) and `input` are equal by value; otherwise
// throws InputConflict naming the first field where they differ and both values there.
void check_same_input(const Definition& def, const std::string& instance_id,
                      const std::string& business_key, const nlohmann::json& existing,
                      const nlohmann::json& input);

}  // namespace rmaflow
