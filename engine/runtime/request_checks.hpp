// The engine's own edge: what callers and adapters hand it is checked before it touches an
// instance. Every string must be UTF-8 (a history event is JSON, and a string nlohmann::json
// cannot serialize would throw on the engine thread, stopping it for every instance) and every
// name and key within the sizes of limits.hpp. The API checks the same first and names the
// field; these checks hold for every other caller (the CLI's queued commands, embedders,
// adapters).
#pragma once

#include "rmaflow/adapter.hpp"
#include "rmaflow/engine.hpp"

namespace rmaflow {

// Throw Error(invalid_argument) (invalid_input for a start's input) naming the field at fault.
void check_request(const StartRequest& request);
void check_request(const SignalRequest& request);
void check_request(const OperatorAction& action);

// An adapter's outcome as the engine may record it: an error's code and message that are not
// UTF-8 are quoted with replacement characters (and cut to a few KB); a result holding text
// that is not UTF-8 becomes the non-retryable failure BadResult.
Outcome checked_outcome(Outcome outcome);

}  // namespace rmaflow
