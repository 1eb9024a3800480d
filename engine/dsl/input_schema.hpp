// InputSchema: a workflow's `input` JSON Schema, compiled once, checking start inputs.
//
// Thread-safety: check() may be called from any thread (it keeps no state).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "rmaflow/errors.hpp"

namespace rmaflow {

class InputSchema {
 public:
  // Throws Error(invalid_definition) with the reason when `schema` is not a usable JSON Schema.
  explicit InputSchema(const nlohmann::json& schema);
  ~InputSchema();
  InputSchema(const InputSchema&) = delete;
  InputSchema& operator=(const InputSchema&) = delete;

  // Every violation of `input`, in the order the schema finds them, each a plain sentence
  // naming its place ("/lines/0/qty must be at least 1"); empty when `input` conforms.
  std::vector<InputViolation> check(const nlohmann::json& input) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The error for a start input of `workflow` that fails its schema: one sentence listing every
// violation, which it also carries.
InvalidInput schema_violations(const std::string& workflow, std::vector<InputViolation> violations);

}  // namespace rmaflow
