// InputSchema: a workflow's `input` JSON Schema, compiled once, checking start inputs.
//
// Thread-safety: check() may be called from any thread (it keeps no state).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace rmaflow {

class InputSchema {
 public:
  // Throws Error(invalid_definition) with the reason when `schema` is not a usable JSON Schema.
  explicit InputSchema(const nlohmann::json& schema);
  ~InputSchema();
  InputSchema(const InputSchema&) = delete;
  InputSchema& operator=(const InputSchema&) = delete;

  struct Violation {
    std::string pointer;  // JSON Pointer of the offending value; "" for the whole input
    std::string message;
  };
  // The most specific violation, or nullopt when `input` conforms.
  std::optional<Violation> check(const nlohmann::json& input) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rmaflow
