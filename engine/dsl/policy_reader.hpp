// The retry and timeout settings a task (or compensation) runs with: the workflow's `defaults`,
// overridden key by key by the step's own `retry` and `timeout`.
#pragma once

#include <string>

#include "engine/dsl/map_reader.hpp"
#include "rmaflow/definition.hpp"

namespace rmaflow::dsl {

// What steps inherit from the workflow's `defaults`.
struct StepDefaults {
  RetryPolicy retry;
  Duration timeout = Duration(30000);
};

// Applies the keys present in a `retry` mapping over `policy`; keys absent keep their value.
// `owner` names what the retry belongs to ("step \"authorize\"", "defaults").
void read_retry(const MapEntry& entry, const std::string& owner, RetryPolicy& policy,
                DiagnosticSink& sink);

// Reads the workflow's `defaults` mapping.
StepDefaults read_defaults(const MapEntry& entry, DiagnosticSink& sink);

}  // namespace rmaflow::dsl
